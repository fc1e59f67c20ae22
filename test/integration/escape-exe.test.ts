// Escape class CVE-2019-5736: a runtime process visible in the container's pid namespace
// whose /proc/<pid>/exe resolves to a host binary (node, tsrun-init on disk, runc) gives the
// container a path to overwrite that binary. A watcher container loops over /proc/*/exe and
// records each link and the dev:ino it resolves to, while a second container joins its pid
// namespace and is created, started and deleted, and while processes are exec'd into it,
// with /proc/self/exe as the entrypoint and as a script's interpreter (the exploit's shape).
// Against runc 1.1.5 (fixed since 1.0-rc7 by running from a sealed memfd copy) the test
// passes: it shows the check holds for a correct runtime; a runtime that exec'd its host
// binary in the container would show up as that binary's dev:ino (exec makes it dumpable).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { tsrun } from '../helpers/cli.js';
import { hostBinaryIds, RUNTIMES, until } from '../helpers/runtimes.js';

const ROUNDS = Number(process.env.ESCAPE_ROUNDS ?? 2);
const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

const WATCH = [
  'n=0; while [ ! -e /tmp/stop ]; do',
  '  for f in /proc/[0-9]*/exe; do l=$(readlink $f 2>/dev/null) && echo "$l|$(stat -L -c %d:%i $f 2>/dev/null)"; done >> /tmp/seen;',
  '  n=$((n+1)); echo $n > /tmp/scans.new; mv /tmp/scans.new /tmp/scans;',
  'done',
].join('\n');

// If /proc/self/exe were the host's node, this would print the marker.
const SELF_EXE = ['/proc/self/exe', '-e', 'console.log("HOST-BINARY-RAN " + process.execPath)'];

function hostHits(w: TestBundle, extra: string[] = []): string[] {
  const host = hostBinaryIds();
  for (const f of extra) host.set(`${statSync(f).dev}:${statSync(f).ino}`, f);
  const seen = readFileSync(path.join(w.rootfs, 'tmp/seen'), 'utf8').split('\n').filter(Boolean);
  expect(seen.length).toBeGreaterThan(0);
  return seen.filter((l) => host.has(l.split('|')[1] ?? ''));
}

it('the watcher does see a host binary that runs in the container (control)', async () => {
  // A host binary bound into the container (the static busybox, node needs its libraries):
  // what a vulnerable runtime would expose.
  const hostBusybox = realpathSync(execFileSync('which', ['busybox'], { encoding: 'utf8' }).trim());
  const w = new TestBundle('exectl', ['sh', '-c', WATCH]);
  bundles.push(w);
  w.edit((c) => {
    c.root.readonly = false;
    c.mounts.push({ destination: '/hostbin', type: 'bind', source: path.dirname(hostBusybox), options: ['rbind', 'ro'] });
  });
  expect((await tsrun(w.root, ['run', '-d', '--bundle', w.dir, w.id])).code).toBe(0);
  try {
    const r = await tsrun(w.root, ['exec', w.id, `/hostbin/${path.basename(hostBusybox)}`, 'sleep', '1.5']);
    expect(r.code).toBe(0);
  } finally {
    writeFileSync(path.join(w.rootfs, 'tmp/stop'), '');
    await tsrun(w.root, ['delete', '--force', w.id]);
  }
  expect(hostHits(w, [hostBusybox]).length).toBeGreaterThan(0);
});

describe.each(RUNTIMES)('/proc/<pid>/exe of runtime processes under $name', (rt) => {
  it('never resolves to a host binary during create, start and exec', async () => {
    const w = new TestBundle(`exew-${rt.name}`, ['sh', '-c', WATCH]);
    const t = new TestBundle(`exet-${rt.name}`, SELF_EXE);
    bundles.push(w, t);
    w.edit((c) => (c.root.readonly = false));
    const root = path.join(w.dir, `${rt.name}-state`);
    const scans = (): number => Number(existsSync(path.join(w.rootfs, 'tmp/scans')) ? readFileSync(path.join(w.rootfs, 'tmp/scans'), 'utf8') : 0);
    const waitScans = async (n: number): Promise<void> => {
      const target = scans() + n;
      await until('watcher scans', () => scans() >= target);
    };
    expect((await rt.cli(root, ['run', '-d', '--bundle', w.dir, w.id])).code).toBe(0);
    try {
      const wpid = (JSON.parse((await rt.cli(root, ['state', w.id])).stdout) as { pid: number }).pid;
      t.edit((c) => {
        c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${wpid}/ns/pid` } : n));
      });
      await waitScans(1);
      for (let i = 0; i < ROUNDS; i++) {
        const id = `${t.id}-${i}`;
        expect((await rt.cli(root, ['create', '--bundle', t.dir, id])).code).toBe(0);
        // The runtime's process is parked in the container's pid namespace until start.
        await waitScans(2);
        const started = await rt.cli(root, ['start', id]);
        expect(started.code).toBe(0);
        await until('the container to stop', async () => (await rt.cli(root, ['state', id])).stdout.includes('"stopped"'));
        expect((await rt.cli(root, ['delete', id])).code).toBe(0);
      }
      // CVE-2019-5736's own shape: the container's program is a script run by /proc/self/exe.
      writeFileSync(path.join(w.rootfs, 'evil'), '#!/proc/self/exe\n');
      chmodSync(path.join(w.rootfs, 'evil'), 0o755);
      for (let i = 0; i < ROUNDS * 3; i++) {
        const r = await rt.cli(root, ['exec', w.id, ...(i % 2 ? ['/evil'] : SELF_EXE)]);
        expect(r.stdout + r.stderr).not.toContain('HOST-BINARY-RAN');
      }
      await waitScans(2);
    } finally {
      writeFileSync(path.join(w.rootfs, 'tmp/stop'), '');
      await rt.cli(root, ['delete', '--force', w.id]);
    }
    expect(hostHits(w)).toEqual([]);
    const seen = readFileSync(path.join(w.rootfs, 'tmp/seen'), 'utf8').split('\n').filter(Boolean);
    // Links name the container's own busybox, or a sealed copy that is no file at all.
    const targets = new Set(seen.map((l) => l.split('|')[0]));
    expect([...targets].filter((x) => x !== '/bin/busybox' && !/^\/memfd:.* \(deleted\)$/.test(x ?? ''))).toEqual([]);
  }, 180_000);
});
