// exec: joining a running container, through the CLI and in-process through the library.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/api/index.js';
import { TestBundle } from '../helpers/bundle.js';
import { errorOf, runc, tsrun } from '../helpers/cli.js';

let b: TestBundle;
let rt: Runtime;

beforeAll(async () => {
  b = new TestBundle('exec', ['sleep', '100000']);
  b.edit((c) => {
    c.hostname = 'exec-host';
    c.root.readonly = false;
  });
  expect((await tsrun(b.root, ['run', '-d', '--bundle', b.dir, b.id])).code).toBe(0);
  rt = new Runtime({ root: b.root });
});

afterAll(async () => {
  await tsrun(b.root, ['delete', '--force', b.id]);
  b.remove();
});

/** Runs a command in the container in-process, returning its exit code and output. */
async function execIn(args: string[], user?: { uid: number; gid: number }): Promise<{ code: number; out: string }> {
  const base = (await rt.config(b.id)).process!;
  const outFile = path.join(b.dir, `out-${Date.now()}-${Math.random()}`);
  writeFileSync(outFile, '');
  const fd = (await import('node:fs')).openSync(outFile, 'w');
  try {
    const p = await rt.exec(b.id, { ...base, args, user: user ?? base.user }, { stdio: ['ignore', fd, fd] });
    const { exitCode } = await p.wait();
    return { code: exitCode ?? -1, out: readFileSync(outFile, 'utf8') };
  } finally {
    (await import('node:fs')).closeSync(fd);
  }
}

describe('exec through the CLI', () => {
  it('lands in the container: hostname, pid namespace, cgroup, mounts, user, env, cwd, exit code', async () => {
    const r = await tsrun(b.root, [
      'exec', '-u', '1000:100', '-e', 'A=b', '--cwd', '/tmp', b.id,
      'sh', '-c', 'hostname; cat /proc/1/cmdline | tr "\\0" " "; echo; id -u; id -g; echo $A; pwd; grep -c "^[0-9]* [0-9]* [0-9:]* [^ ]* / " /proc/self/mountinfo; grep pids /proc/self/cgroup; exit 5',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(5);
    expect(r.stdout.split('\n')).toEqual(['exec-host', 'sleep 100000 ', '1000', '100', 'b', '/tmp', '1', `8:pids:/tsrun-test/${b.id}`, '']);
  });

  it('takes a whole process from --process', async () => {
    const proc = { ...(JSON.parse(readFileSync(path.join(b.dir, 'config.json'), 'utf8')).process as object), args: ['sh', '-c', 'echo from process.json; exit 4'] };
    const file = path.join(b.dir, 'process.json');
    writeFileSync(file, JSON.stringify(proc));
    expect(await tsrun(b.root, ['exec', '--process', file, b.id])).toMatchObject({ code: 4, stdout: 'from process.json\n' });
  });

  it('exits 255 with a clear message when exec itself fails, as runc does', async () => {
    const r = await tsrun(b.root, ['exec', b.id, 'no-such-program']);
    expect(r.code).toBe(255);
    expect(errorOf(r)).toBe('exec failed: exec lookup: no such file or directory: exec: "no-such-program": executable file not found in $PATH');
    const bad = await tsrun(b.root, ['exec', '--process', '/no/such/file', b.id]);
    expect(bad.code).toBe(255);
  });

  it('reports 128 + signal for a killed process and passes -d through', async () => {
    expect((await tsrun(b.root, ['exec', b.id, 'sh', '-c', 'kill -9 $$'])).code).toBe(137);
    const pidFile = path.join(b.dir, 'exec.pid');
    expect((await tsrun(b.root, ['exec', '-d', '--pid-file', pidFile, b.id, 'sleep', '1'])).code).toBe(0);
    expect(Number(readFileSync(pidFile, 'utf8'))).toBeGreaterThan(0);
  });

  it('sees what runc exec sees', async () => {
    const other = new TestBundle('exec-runc', ['sleep', '100000']);
    try {
      const runcRoot = path.join(other.dir, 'runc-state');
      expect((await runc(runcRoot, ['run', '-d', '--bundle', other.dir, other.id])).code).toBe(0);
      expect((await tsrun(other.root, ['run', '-d', '--bundle', other.dir, `${other.id}-ts`])).code).toBe(0);
      const args = ['-u', '1000:1000', '-g', '5', '-c', 'CAP_NET_RAW', '-e', 'X=y', other.id];
      const theirs = await runc(runcRoot, ['exec', ...args, '/usr/local/bin/probe']);
      const ours = await tsrun(other.root, ['exec', ...args.slice(0, -1), `${other.id}-ts`, '/usr/local/bin/probe']);
      await runc(runcRoot, ['delete', '--force', other.id]);
      await tsrun(other.root, ['delete', '--force', `${other.id}-ts`]);
      const norm = (s: string): string[] =>
        s
          .split('\n')
          .filter((l) => !/^(pid |sid |fd |mount \/sys\/fs\/cgroup|keyring )/.test(l));
      expect(ours.stderr).toBe('');
      expect(norm(ours.stdout)).toEqual(norm(theirs.stdout));
    } finally {
      other.remove();
    }
  });

  it('refuses a paused container unless --ignore-paused, which then waits for resume', async () => {
    expect((await tsrun(b.root, ['pause', b.id])).code).toBe(0);
    let resumed = false;
    try {
      const r = await tsrun(b.root, ['exec', b.id, 'true']);
      expect(r.code).toBe(255);
      expect(errorOf(r)).toBe('exec failed: cannot exec in a paused container (use --ignore-paused to override)');
      // The process joins the frozen cgroups and freezes with them until resume, as with runc.
      let done = false;
      const forced = tsrun(b.root, ['exec', '--ignore-paused', b.id, 'sh', '-c', 'echo ran']).then((x) => ((done = true), x));
      await new Promise((r) => setTimeout(r, 500));
      expect(done).toBe(false);
      expect((await tsrun(b.root, ['resume', b.id])).code).toBe(0);
      resumed = true;
      expect(await forced).toMatchObject({ code: 0, stdout: 'ran\n' });
    } finally {
      if (!resumed) await tsrun(b.root, ['resume', b.id]);
    }
  });

  it('refuses a stopped container', async () => {
    const other = new TestBundle('exec-stopped', ['true']);
    try {
      expect((await tsrun(other.root, ['run', '-d', '--bundle', other.dir, other.id])).code).toBe(0);
      await new Promise((r) => setTimeout(r, 200));
      const r = await tsrun(other.root, ['exec', other.id, 'true']);
      expect(r.code).toBe(255);
      expect(errorOf(r)).toBe('exec failed: cannot exec in a stopped container');
      await tsrun(other.root, ['delete', '--force', other.id]);
    } finally {
      other.remove();
    }
  });
});

describe('exec in-process, many times', () => {
  it('no process on its way in is ever a host binary, seen from inside during 100 execs', async () => {
    const seen = '/tmp/exe-seen';
    const handle = await rt.exec(
      b.id,
      {
        ...(await rt.config(b.id)).process!,
        args: ['sh', '-c', `while [ ! -e /tmp/stop ]; do for f in /proc/[0-9]*/exe; do readlink $f; done >> ${seen} 2>/dev/null; done; exit 0`],
      },
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100; i++) expect((await execIn(['true'])).code).toBe(0);
    writeFileSync(path.join(b.rootfs, 'tmp/stop'), '');
    expect(await handle.wait()).toEqual({ exitCode: 0 });
    const targets = new Set(readFileSync(path.join(b.rootfs, seen.slice(1)), 'utf8').split('\n').filter(Boolean));
    // The watcher did see processes (sleep, its own shell, the execs' `true`)...
    expect(targets.has('/bin/busybox')).toBe(true);
    // ...and never anything else: no node, no tsrun file, not even the sealed tsrun-init,
    // which is non-dumpable while it is on its way in.
    expect([...targets].filter((t) => t !== '/bin/busybox')).toEqual([]);
  });

  it('500 execs in a row leave no zombie, fd or mount behind, inside or outside', async () => {
    // One exec first: the exit watcher (an epoll fd, an eventfd) is made once per process.
    await execIn(['true']);
    const fdsBefore = readdirSync('/proc/self/fd').length;
    // Ours only: other tests on the machine mount and unmount meanwhile.
    const ourMounts = (): string[] => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(b.dir));
    const mountsBefore = ourMounts();
    const mountsInside = async (): Promise<string> => (await execIn(['cat', '/proc/self/mountinfo'])).out;
    const insideBefore = await mountsInside();
    for (let i = 0; i < 500; i++) {
      const r = await execIn(['sh', '-c', 'exit $((RANDOM % 3))']);
      expect(r.code).toBeLessThan(3);
    }
    expect(await mountsInside()).toBe(insideBefore);
    // Only the init is left in the container (an earlier test's `exec -d sleep 1` may still
    // be finishing), and nothing inside is a zombie.
    const init = (JSON.parse((await tsrun(b.root, ['state', b.id])).stdout) as { pid: number }).pid;
    const procs = (): string => readFileSync(`/sys/fs/cgroup/pids/tsrun-test/${b.id}/cgroup.procs`, 'utf8').trim();
    for (let i = 0; i < 100 && procs() !== String(init); i++) await new Promise((r) => setTimeout(r, 50));
    expect(procs()).toBe(String(init));
    expect((await execIn(['sh', '-c', 'cat /proc/[0-9]*/stat | grep -c ") Z " || true'])).out).toBe('0\n');
    expect(readdirSync('/proc/self/fd').length).toBe(fdsBefore);
    expect(ourMounts()).toEqual(mountsBefore);
    const zombies = readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .filter((n) => {
        try {
          const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
          const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return rest[0] === 'Z' && Number(rest[1]) === process.pid;
        } catch {
          return false;
        }
      });
    expect(zombies).toEqual([]);
  }, 120_000);
});
