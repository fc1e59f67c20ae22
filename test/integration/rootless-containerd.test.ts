// The shim under rootless containerd: Debian's containerd 1.6 run by an unprivileged user
// inside RootlessKit's namespaces, `ctr run --runtime io.containerd.ts.v2` side by side with
// io.containerd.runc.v2 (runc 1.1.5). ctr runs with `--cgroup ""`: on cgroup v1 nothing is
// delegated to the user, and ctr's default cgroupsPath (/<namespace>/<id>) is refused by both.
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { startRootlessContainerd, type RootlessContainerd } from '../helpers/rootless-containerd.js';
import { UnprivilegedUser } from '../helpers/unprivileged.js';

const IMAGE = 'tsrun.test/busybox:latest';
const RUNTIMES = { ts: 'io.containerd.ts.v2', runc: 'io.containerd.runc.v2' };
// Without a delegated cgroup: no cgroupsPath, and none of ctr's default cpu shares.
const NO_CGROUP = ['--cgroup', '', '--cpu-shares', '0'];

let user: UnprivilegedUser;
let ctd: RootlessContainerd;

beforeAll(async () => {
  user = UnprivilegedUser.create();
  ctd = await startRootlessContainerd(user);
  const archive = path.join(user.home, 'busybox.tar');
  copyFileSync(path.join(repoRoot, '.cache', 'fixtures', 'busybox-image.tar'), archive);
  user.own(archive);
  const imported = await ctd.ctr(['images', 'import', archive]);
  expect(imported.code, imported.stderr).toBe(0);
});

afterAll(async () => {
  await ctd?.stop();
  user?.remove();
});

async function status(id: string): Promise<string> {
  const ls = await ctd.ctr(['task', 'ls']);
  return ls.stdout.split('\n').find((l) => l.startsWith(`${id} `))?.trim().split(/\s+/)[2] ?? 'none';
}

async function until(id: string, want: string): Promise<string> {
  let s = '';
  for (let i = 0; i < 100 && (s = await status(id)) !== want; i++) await new Promise((r) => setTimeout(r, 50));
  return s;
}

describe('the shim under rootless containerd (RootlessKit), side by side with runc', () => {
  it('ctr run --rm: the container sees the same under io.containerd.ts.v2 and io.containerd.runc.v2', async () => {
    const out: Record<string, Result> = {};
    for (const [name, rt] of Object.entries(RUNTIMES)) {
      out[name] = await ctd.ctr(['run', '--rm', ...NO_CGROUP, '--runtime', rt, IMAGE, `see-${name}`, 'sh', '-c', 'id; cat /proc/self/uid_map; head -3 /proc/self/cgroup; ls -ln /dev/null /dev/zero; mount | wc -l']);
    }
    expect(out.ts).toMatchObject({ code: 0, stderr: '' });
    expect(out.ts?.stdout).toMatch(new RegExp(`^uid=0\\(root\\) gid=0\\(root\\) groups=0\\(root\\)\\n\\s+0\\s+${user.uid}\\s+1\\n\\s+1\\s+${user.subuid.start}\\s+${user.subuid.count}\\n`));
    expect(out.ts).toEqual(out.runc);
  });

  it('run -d, exec, kill, delete, metrics, ps, pause and kill --all', async () => {
    const seen: Record<string, unknown[]> = {};
    for (const [name, rt] of Object.entries(RUNTIMES)) {
      const id = `verbs-${name}`;
      const steps: unknown[] = [];
      const code = async (args: string[]): Promise<number> => (await ctd.ctr(args)).code;
      steps.push(await code(['run', '-d', ...NO_CGROUP, '--runtime', rt, IMAGE, id, 'sh', '-c', 'trap "exit 3" TERM; while :; do sleep 0.1; done']));
      steps.push(await until(id, 'RUNNING'));
      const ex = await ctd.ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'id; exit 4']);
      steps.push({ code: ex.code, stdout: ex.stdout });
      steps.push(await code(['task', 'metrics', id]));
      // Without a cgroup nothing lists the processes or freezes them: both refuse (runc's
      // shim in runc's words, ours with the same cause).
      const ps = await ctd.ctr(['task', 'ps', id]);
      const pause = await ctd.ctr(['task', 'pause', id]);
      steps.push([ps.code, pause.code]);
      if (name === 'ts') {
        expect(ps.stderr).toContain('unable to get all container pids: the container has no cgroup');
        expect(pause.stderr).toContain('cannot toggle freezer: cgroups not configured for container');
      }
      steps.push(await code(['task', 'kill', id]));
      steps.push(await until(id, 'STOPPED'));
      steps.push(await code(['task', 'delete', id]));
      steps.push(await code(['container', 'rm', id]));
      seen[name] = steps;

      // kill --all: runc 1.1.5 fails without a cgroup; ours signals the init, whose pid
      // namespace takes the rest (as the tsrun CLI, and runc 1.2).
      const all = `all-${name}`;
      expect(await code(['run', '-d', ...NO_CGROUP, '--runtime', rt, IMAGE, all, 'sleep', '1000'])).toBe(0);
      const killAll = await ctd.ctr(['task', 'kill', '--all', '--signal', 'KILL', all]);
      if (name === 'ts') {
        expect(killAll.code).toBe(0);
        expect(await until(all, 'STOPPED')).toBe('STOPPED');
      } else {
        expect(killAll.stderr).toContain('lstat : no such file or directory');
        expect(await code(['task', 'kill', '--signal', 'KILL', all])).toBe(0);
        expect(await until(all, 'STOPPED')).toBe('STOPPED');
      }
      expect(await code(['task', 'delete', all])).toBe(0);
      expect(await code(['container', 'rm', all])).toBe(0);
    }
    expect(seen.ts).toEqual([0, 'RUNNING', { code: 4, stdout: 'uid=0(root) gid=0(root) groups=0(root)\n' }, 0, [1, 1], 0, 'STOPPED', 0, 0]);
    expect(seen.ts).toEqual(seen.runc);
  });

  it('ctr\'s default cgroupsPath, which the user may not create, fails the same under both and leaves no task', async () => {
    const codes: Record<string, number> = {};
    for (const [name, rt] of Object.entries(RUNTIMES)) {
      const id = `cg-${name}`;
      const r = await ctd.ctr(['run', '--rm', '--runtime', rt, IMAGE, id, 'true']);
      codes[name] = r.code;
      if (name === 'ts') expect(r.stderr).toMatch(/create cgroup \/sys\/fs\/cgroup\/\S+\/default\/cg-ts: EACCES/);
      expect(await status(id)).toBe('none');
      await ctd.ctr(['container', 'rm', id]);
    }
    expect(codes).toEqual({ ts: 1, runc: 1 });
  });
});
