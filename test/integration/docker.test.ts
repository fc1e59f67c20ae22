// Docker (Debian's docker.io 20.10, a private engine) with tsrun added to daemon.json's
// runtimes, compared with runc in the same engine: dockerd's containerd drives either
// through containerd's runc shim (go-runc: create, start, exec, kill, delete). Output, exit
// codes, exec, stop, and what is left behind must match.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerAvailable, startDocker, type PrivateDocker } from '../helpers/docker.js';

const RUNTIMES = ['tsrun', 'runc'];

let dk: PrivateDocker;
beforeAll(() => {
  dk = startDocker();
}, 180_000);
afterAll(() => dk?.stop());

function run(argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!dockerAvailable())('docker with tsrun as a runtime, compared with runc', () => {
  it('runs a container with --rm: output, exit code, nothing left', () => {
    for (const rt of RUNTIMES) {
      const r = run(dk.runArgv(rt, ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 3']));
      expect(r.stdout, rt).toBe('to-stdout\n');
      expect(r.stderr, rt).toContain('to-stderr');
      expect(r.code, rt).toBe(3);
    }
    expect(dk.docker(['ps', '--all', '--quiet'])).toBe('');
  });

  it('a detached container: exec, stop, rm', () => {
    for (const rt of RUNTIMES) {
      const started = run(dk.runArgv(rt, ['sleep', '1000'], ['--detach']).filter((a) => a !== '--rm'));
      expect(started.code, started.stderr).toBe(0);
      const id = started.stdout.trim();
      const exec = run([...dk.client, 'exec', id, 'sh', '-c', 'echo in-$(hostname); exit 5']);
      expect(exec.stdout, rt).toBe(`in-${id.slice(0, 12)}\n`);
      expect(exec.code, rt).toBe(5);
      expect(run([...dk.client, 'stop', '--time', '1', id]).code, rt).toBe(0);
      expect(dk.docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', id]).trim(), rt).toBe('exited 137');
      expect(run([...dk.client, 'rm', id]).code, rt).toBe(0);
      // containerd's runc shim keeps the runtime's state under the engine's exec root
      const roots = readdirSync(`${dk.dir}/x/runtime-runc/moby`, { withFileTypes: true }).filter((d) => d.name === id);
      expect(roots, rt).toEqual([]);
    }
  });
});
