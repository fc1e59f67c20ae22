// Rootless podman (Debian's podman 4.3 and conmon) with `--runtime` tsrun, side by side
// with `--runtime` runc 1.1.5: run, exec, logs, top, stop, rm as an unprivileged user. The
// image is the local busybox fixture (an OCI archive, `podman load`ed); nothing is pulled.
// `--network none`: podman's rootless network (slirp4netns, pasta) needs /dev/net/tun,
// which this machine keeps 0600.
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../helpers/cli.js';
import { repoRoot, tsrunBin } from '../helpers/paths.js';
import { UnprivilegedUser } from '../helpers/unprivileged.js';

const IMAGE = 'tsrun.test/busybox:latest';
const RUNTIMES = { tsrun: tsrunBin, runc: '/usr/sbin/runc' };
let user: UnprivilegedUser;

function podman(args: string[]): Promise<Result> {
  return user.run('podman', args, { cwd: user.home, timeoutMs: 60_000 });
}

beforeAll(async () => {
  user = UnprivilegedUser.create();
  const archive = path.join(user.home, 'busybox.tar');
  copyFileSync(path.join(repoRoot, '.cache', 'fixtures', 'busybox-image.tar'), archive);
  user.own(archive);
  const loaded = await podman(['load', '-i', archive]);
  expect(loaded.stdout).toContain(`Loaded image: ${IMAGE}`);
});

afterAll(async () => {
  for (const rt of Object.values(RUNTIMES)) await podman(['--runtime', rt, 'rm', '-f', '-a']);
  user.remove();
});

describe('rootless podman with --runtime tsrun, side by side with runc 1.1.5', () => {
  it('run, exec, logs, top, stop and rm answer the same', async () => {
    const transcripts: Record<string, unknown[]> = {};
    for (const [name, rt] of Object.entries(RUNTIMES)) {
      const p = (args: string[]): Promise<Result> => podman(['--runtime', rt, ...args]);
      const c = `pod-${name}`;
      const steps: unknown[] = [];
      const run = await p(['run', '-d', '--network', 'none', '--name', c, IMAGE, 'sh', '-c', 'echo hello; trap "echo bye; exit 3" TERM; while :; do sleep 0.1; done']);
      steps.push(run.code);
      const inspect = async (): Promise<string> => (await p(['inspect', c, '--format', '{{.State.Status}} {{.State.ExitCode}} {{.OCIRuntime}}'])).stdout.trim();
      steps.push(await inspect());
      const ex = await p(['exec', c, 'sh', '-c', 'id; echo $HOME; wc -l < /proc/self/uid_map; ls /dev']);
      steps.push({ code: ex.code, stdout: ex.stdout });
      const asUser = await p(['exec', '--user', '1000', c, 'id']);
      steps.push({ code: asUser.code, stdout: asUser.stdout });
      const failed = await p(['exec', c, 'sh', '-c', 'exit 7']);
      steps.push(failed.code);
      for (let i = 0; i < 100 && !(await p(['logs', c])).stdout.includes('hello'); i++) await new Promise((r) => setTimeout(r, 50));
      steps.push((await p(['logs', c])).stdout);
      const top = await p(['top', c, 'pid', 'args']);
      steps.push(top.stdout.split('\n').filter((l) => l.includes('while')).map((l) => l.trim().replace(/\s+/g, ' ')));
      const stop = await p(['stop', '-t', '10', c]);
      steps.push(stop.code);
      steps.push(await inspect());
      steps.push((await p(['logs', c])).stdout);
      steps.push((await p(['rm', c])).code);
      steps.push((await p(['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').includes(c));
      transcripts[name] = steps.map((s) => (typeof s === 'string' ? s.replace(rt, '<runtime>') : s));
    }
    expect(transcripts.tsrun).toEqual([
      0,
      'running 0 <runtime>',
      { code: 0, stdout: expect.stringMatching(/^uid=0\(root\) gid=0\(root\)\n\/root\n2\n/) as unknown },
      { code: 0, stdout: 'uid=1000(user) gid=1000(user) groups=100(users)\n' },
      7,
      'hello\n',
      ['1 sh -c echo hello; trap "echo bye; exit 3" TERM; while :; do sleep 0.1; done'],
      0,
      'exited 3 <runtime>',
      'hello\nbye\n',
      0,
      false,
    ]);
    expect(transcripts.tsrun).toEqual(transcripts.runc);
  });
});
