// The OCI runtime-spec conformance suite: runs every scenario against $RUNTIME, a few at a
// time, and prints TAP in the order the scenarios are listed, then "N passed, N failed".
// Exit status 0 only when every check passed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { SCENARIOS } from './checks/index.js';
import { TEST_PARENT } from './lib/cgroups.js';
import { readEnv } from './lib/env.js';
import { Host } from './lib/host.js';
import { Runtime } from './lib/runtime.js';
import { SetupError } from './lib/container.js';
import { delegate } from './lib/rootless.js';
import { Scenario, type ScenarioDef } from './lib/scenario.js';

interface Outcome {
  def: ScenarioDef;
  ms: number;
  lines: Array<{ ok: boolean; text: string; diag: string[] }>;
  notes: string[];
}

async function runOne(def: ScenarioDef, env: ReturnType<typeof readEnv>, host: Host): Promise<Outcome> {
  const started = Date.now();
  const s = new Scenario(def, env, host);
  let failure: string | undefined;
  try {
    await def.run(s);
  } catch (e) {
    failure = e instanceof SetupError ? `set-up failed: ${e.message}` : `error: ${(e as Error).stack ?? String(e)}`;
  }
  const cleanup = await s.finish();
  const lines = Object.entries(def.checks).map(([key, title]) => {
    const v = s.verdicts.get(key);
    const text = `${def.section}: ${def.name}/${key}: ${title}`;
    if (v) return { ok: v.ok, text, diag: v.ok ? [] : v.diag };
    return { ok: false, text, diag: [failure ?? 'no verdict was given (a defect of the suite)'] };
  });
  if (failure && lines.every((l) => l.ok)) lines.forEach((l) => l.diag.push(failure as string));
  return { def, lines, notes: [...s.notes, ...cleanup], ms: Date.now() - started };
}

function version(runtime: string): string {
  try {
    return execFileSync(runtime, ['--version'], { encoding: 'utf8', timeout: 10_000 }).split('\n')[0] ?? '';
  } catch {
    return 'unknown version';
  }
}

async function main(): Promise<number> {
  const env = readEnv();
  if (process.getuid?.() !== 0) {
    console.error('the conformance suite creates containers: run it as root');
    return 2;
  }
  for (const [what, p] of [
    ['rootfs (CONFORMANCE_ROOTFS)', env.rootfs],
    ['probe (CONFORMANCE_PROBE)', env.probe],
  ] as const) {
    if (!existsSync(p)) {
      console.error(`${what} ${p} is missing: run scripts/setup.sh (it builds both)`);
      return 2;
    }
  }
  const host = new Host();
  const createdParents: string[] = [];
  for (const h of host.hierarchies) {
    const dir = path.join(h.mountpoint, TEST_PARENT);
    if (!existsSync(dir)) createdParents.push(dir);
  }
  // Rootless: the user's subtree (and tsrun-test itself, if this run made it) goes after.
  if (env.user) createdParents.unshift(...delegate(host, env.user, TEST_PARENT).filter((d) => !createdParents.includes(d)));
  createdParents.sort((a, b) => b.length - a.length);
  mkdirSync(env.tmp, { recursive: true });

  const defs = SCENARIOS.filter((d) => !env.only || env.only.test(`${d.section}: ${d.name}`));
  console.log('TAP version 13');
  console.log(`# runtime: ${env.runtime} (${version(env.runtime)})${env.root ? ` --root ${env.root}` : ''}`);
  if (env.user) console.log(`# rootless: the runtime runs as ${env.user.name} (uid ${env.user.uid}, subordinate uids ${env.user.subuid.start}+${env.user.subuid.count}); cgroups under ${TEST_PARENT}, delegated to it`);
  console.log(`# host: cgroups ${host.layout}, apparmor ${host.apparmor ? 'on' : 'off'}, selinux ${host.selinux ? 'on' : 'off'}, resctrl ${host.resctrl ?? 'not mounted'}`);

  const outcomes: Array<Outcome | undefined> = new Array(defs.length);
  let printed = 0;
  let n = 0;
  let passed = 0;
  let failed = 0;
  const flush = (): void => {
    while (printed < defs.length && outcomes[printed]) {
      const o = outcomes[printed] as Outcome;
      for (const l of o.lines) {
        n++;
        if (l.ok) passed++;
        else failed++;
        console.log(`${l.ok ? 'ok' : 'not ok'} ${n} - ${l.text}`);
        for (const d of l.diag) for (const line of d.split('\n')) console.log(`#   ${line}`);
      }
      for (const note of o.notes) console.log(`# ${o.def.name}: ${note}`);
      printed++;
    }
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < defs.length) {
      const i = next++;
      outcomes[i] = await runOne(defs[i] as ScenarioDef, env, host);
      flush();
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: Math.min(env.jobs, defs.length) }, worker));
  flush();

  for (const dir of createdParents) {
    try {
      if (existsSync(dir) && readdirSync(dir, { withFileTypes: true }).every((e) => !e.isDirectory())) rmdirSync(dir);
    } catch {
      // not empty: a leak some check reported
    }
  }
  console.log(`1..${n}`);
  const slowest = (outcomes.filter(Boolean) as Outcome[]).sort((a, b) => b.ms - a.ms).slice(0, 5);
  console.log(`# ${((Date.now() - started) / 1000).toFixed(1)} s, ${Runtime.calls} runtime calls; slowest: ${slowest.map((o) => `${o.def.name} ${(o.ms / 1000).toFixed(1)} s`).join(', ')}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
