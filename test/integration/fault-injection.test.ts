// Fault injection: the tsrun CLI killed with SIGKILL at each step of create, start, exec and
// delete, then `tsrun delete -f` must remove everything (state dir, cgroups, mounts,
// processes). The steps are the CLI's own system calls that change or read state (files,
// mounts, clones, the sync socket, signals): strace counts them in one clean run, then
// injects SIGKILL at the n-th one (`-e inject=...:signal=KILL:when=n`), so every kill point
// is reproducible. FAULT_POINTS points per verb are drawn with a fixed seed (`all` sweeps
// every one, as `npm run fuzz` does). Also: a full and a read-only state root give a clear
// error and leave no half container.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { errorOf, runCommand, tsrun } from '../helpers/cli.js';
import { leftoverCgroups, leftoverMounts, processesWith } from '../helpers/leaks.js';
import { TEST_CGROUP_PARENT, tsrunNodeBin } from '../helpers/paths.js';

const POINTS = process.env.FAULT_POINTS ?? '3';
const SEED = Number(process.env.FAULT_SEED ?? 0xfa17);
const SYSCALLS = 'openat,mkdir,mkdirat,write,pwrite64,rename,renameat2,unlink,unlinkat,rmdir,mount,umount2,clone,clone3,execveat,sendmsg,recvmsg,kill,pidfd_send_signal,mknodat,connect,read';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);

/** tsrun under strace; with `at`, SIGKILLed at that syscall ("openat:7"). Returns the trace. */
async function traced(root: string, args: string[], log: string, at?: string): Promise<string> {
  const [name, nth] = at?.split(':') ?? [];
  const inject = at === undefined ? [] : ['-e', `inject=${name}:signal=KILL:when=${nth}`];
  await runCommand('strace', ['-qq', '-o', log, '-e', `trace=${SYSCALLS}`, ...inject, process.execPath, tsrunNodeBin, '--root', root, ...args], { timeoutMs: 60_000 });
  return readFileSync(log, 'utf8');
}

/** The tini this test runs under: orphans of killed CLIs are reparented to it. */
function subreaper(): number {
  for (let pid = process.pid; pid > 1; ) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.includes('(tini)')) return pid;
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return 1;
}

/** tsrun-init processes a killed CLI left: orphaned to our tini, in no other test's cgroup. */
function orphanInits(id: string): number[] {
  const reaper = subreaper();
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== reaper) continue;
      if (!readlinkSync(`/proc/${name}/exe`).startsWith('/memfd:tsrun-init')) continue;
      const cg = readFileSync(`/proc/${name}/cgroup`, 'utf8');
      if (cg.includes(id) || !cg.includes('/tsrun-test/')) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

type Verb = 'create' | 'start' | 'exec' | 'delete';

interface Setup {
  b: TestBundle;
  id: string;
  mark: string;
}

async function prepare(verb: Verb, s: Setup): Promise<string[]> {
  const { b, id } = s;
  if (verb === 'create') return ['create', '--bundle', b.dir, id];
  expect((await tsrun(b.root, ['create', '--bundle', b.dir, id])).code).toBe(0);
  if (verb === 'start') return ['start', id];
  expect((await tsrun(b.root, ['start', id])).code).toBe(0);
  if (verb === 'exec') return ['exec', id, 'sh', '-c', `sleep 0.2; : ${s.mark}1`];
  return ['delete', '--force', id];
}

async function expectGone(s: Setup, what: string): Promise<void> {
  const { b, id } = s;
  const r = await tsrun(b.root, ['delete', '--force', id]);
  if (r.code !== 0) expect(errorOf(r), what).toMatch(/does not exist|not found/);
  expect(existsSync(path.join(b.root, id)), `${what}: state dir`).toBe(false);
  expect(leftoverCgroups(id), `${what}: cgroups`).toEqual([]);
  expect(leftoverMounts(b.dir), `${what}: mounts`).toEqual([]);
  expect(processesWith(s.mark), `${what}: container processes`).toEqual([]);
  // An orphaned init notices its parent is gone (the sync socket closes) and exits.
  for (let i = 0; i < 100 && orphanInits(id).length; i++) await new Promise((r) => setTimeout(r, 50));
  expect(orphanInits(id), `${what}: orphaned tsrun-init`).toEqual([]);
}

function killPoints(first: number, total: number): number[] {
  if (POINTS === 'all') return Array.from({ length: total - first + 1 }, (_, i) => first + i);
  const n = Number(POINTS);
  const points = new Set<number>([total]);
  while (points.size < Math.min(n, total - first + 1)) points.add(first + Math.floor(random() * (total - first + 1)));
  return [...points].sort((a, b) => a - b);
}

describe.each<Verb>(['create', 'start', 'exec', 'delete'])('tsrun %s killed at a step', (verb) => {
  it('leaves what delete -f removes entirely', { timeout: 1_800_000 }, async () => {
    let n = 0;
    const fresh = (): Setup => {
      const b = bundles.find((x) => x.id.endsWith(`fault-${verb}`)) ?? new TestBundle(`fault-${verb}`);
      if (!bundles.includes(b)) bundles.push(b);
      const mark = `9${process.pid}${++n}`;
      const id = `${b.id}-${n}`;
      b.edit((c) => {
        c.process.args = ['sleep', `${mark}0`];
        c.linux.cgroupsPath = `/${TEST_CGROUP_PARENT}/${id}`;
      });
      return { b, id, mark };
    };
    // One clean run, traced, to count the steps and find where the verb's own work starts.
    const cal = fresh();
    const log = path.join(cal.b.dir, 'strace.log');
    const lines = (await traced(cal.b.root, await prepare(verb, cal), log)).split('\n').filter(Boolean);
    await expectGone(cal, 'calibration');
    const first = Math.max(1, lines.findIndex((l) => l.includes(cal.b.root) || l.includes(cal.b.dir)) + 1);
    // strace counts `when` per system call, so line k of the trace is "the m-th openat".
    const seen = new Map<string, number>();
    const steps = lines.map((l) => {
      const name = /^(\w+)\(/.exec(l)?.[1] ?? 'none';
      seen.set(name, (seen.get(name) ?? 0) + 1);
      return `${name}:${seen.get(name)}`;
    });
    const points = killPoints(first, lines.length);
    for (const when of points) {
      const s = fresh();
      const args = await prepare(verb, s);
      await traced(s.b.root, args, log, steps[when - 1]);
      await expectGone(s, `${verb} killed at traced syscall ${when} of ${lines.length} (${lines[when - 1]?.slice(0, 80)})`);
    }
    console.log(`fault: ${verb} killed at ${points.length} of ${lines.length - first + 1} steps (${points.join(',')}), delete -f removed everything each time`);
  });
});

describe('a state root that cannot be written', () => {
  const cases: Array<[string, (dir: string) => void, RegExp]> = [
    ['full', (dir) => {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', dir]);
      try {
        writeFileSync(path.join(dir, 'fill'), Buffer.alloc(64 * 1024));
      } catch {
        // full, as meant
      }
    }, /ENOSPC|no space left/],
    ['read-only', (dir) => {
      execFileSync('mount', ['--bind', dir, dir]);
      execFileSync('mount', ['-o', 'remount,bind,ro', dir]);
    }, /EROFS|read-only/],
  ];
  it.each(cases)('%s: a clear error and no half container', async (_name, make, message) => {
    const b = new TestBundle('stateroot', ['sleep', '100000']);
    bundles.push(b);
    const root = path.join(b.dir, 'bad-root');
    mkdirSync(root);
    make(root);
    try {
      const r = await tsrun(root, ['run', '-d', '--bundle', b.dir, b.id]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(errorOf(r)).toMatch(message);
      expect(errorOf(r)).toContain(b.id);
      expect(readdirSync(root).filter((f) => f !== 'fill')).toEqual([]);
      expect(leftoverCgroups(b.id)).toEqual([]);
      expect(leftoverMounts(b.rootfs)).toEqual([]);
      expect(orphanInits(b.id)).toEqual([]);
    } finally {
      execFileSync('umount', [root]);
    }
  });
});
