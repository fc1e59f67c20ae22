// podman 4.3 with tsrun as its runtime (`podman run --runtime bin/tsrun`), compared with runc
// in the same private podman: conmon runs `create`, podman `start`, `kill`, and conmon's exit
// command (`podman container cleanup`) `delete --force`; `podman exec` goes through conmon's
// `exec --detach --pid-file`. Output, exit codes and what is left behind must match.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsrunBin } from '../helpers/paths.js';
import { podmanAvailable, startPodman, type PrivatePodman } from '../helpers/podman.js';

const RUNTIMES = [
  { name: 'tsrun', binary: tsrunBin, root: '/run/tsrun' },
  { name: 'runc', binary: '/usr/sbin/runc', root: '/run/runc' },
];

let pm: PrivatePodman;
beforeAll(() => {
  pm = startPodman();
}, 180_000);
afterAll(() => pm?.stop());

function podman(argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0] as string, argv.slice(1), { env: pm.env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The container's ids podman knows of, and those the runtime's state root still holds. */
function leftovers(root: string, ids: string[]): string[] {
  let inRoot: string[] = [];
  try {
    inRoot = readdirSync(root);
  } catch {
    // no root yet
  }
  const cgroups = readdirSync('/sys/fs/cgroup').flatMap((h) => {
    try {
      return readdirSync(path.join('/sys/fs/cgroup', h, pm.cgroupParent)).filter((d) => ids.some((id) => d.includes(id)));
    } catch {
      return [];
    }
  });
  return [...ids.filter((id) => inRoot.includes(id)), ...cgroups];
}

describe.skipIf(!podmanAvailable())('podman with tsrun as its runtime, compared with runc', () => {
  it('runs a container with --rm: output, exit code, nothing left', () => {
    const results = RUNTIMES.map((rt) => {
      const r = podman(pm.runArgv(rt.binary, ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 3']));
      return { rt, ...r };
    });
    for (const r of results) {
      expect(r.stdout, r.rt.name).toBe('to-stdout\n');
      expect(r.stderr, r.rt.name).toContain('to-stderr');
      expect(r.code, r.rt.name).toBe(3);
    }
    expect(podman(['podman', ...pm.globals, 'ps', '--all', '--quiet']).stdout).toBe('');
  });

  it('a detached container: exec, stop, rm', () => {
    for (const rt of RUNTIMES) {
      const run = pm.runArgv(rt.binary, ['sleep', '1000'], ['--detach']).filter((a) => a !== '--rm');
      const started = podman(run);
      expect(started.code, started.stderr).toBe(0);
      const id = started.stdout.trim();
      const exec = podman(['podman', ...pm.globals, 'exec', id, 'sh', '-c', 'echo in-$(hostname | cut -c1-12); exit 5']);
      expect(exec.stdout, rt.name).toBe(`in-${id.slice(0, 12)}\n`);
      expect(exec.code, rt.name).toBe(5);
      const top = podman(['podman', ...pm.globals, 'exec', id, 'ps', '-o', 'comm']);
      expect(top.stdout.split('\n').filter(Boolean), rt.name).toEqual(['COMMAND', 'sleep', 'ps']);
      expect(podman(['podman', ...pm.globals, 'stop', '--time', '1', id]).code, rt.name).toBe(0);
      expect(podman(['podman', ...pm.globals, 'inspect', '--format', '{{.State.Status}}', id]).stdout.trim(), rt.name).toBe('exited');
      expect(podman(['podman', ...pm.globals, 'rm', id]).code, rt.name).toBe(0);
      expect(leftovers(rt.root, [id]), rt.name).toEqual([]);
    }
  });
});
