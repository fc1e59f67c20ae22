// A private podman for tests and the bench: its own storage (--root), run state (--runroot),
// tmp dir and containers.conf in a temp dir, so it shares nothing with the machine's podman.
// Rootful, cgroupfs with every cgroup under tsrun-test/<this instance's dir name> (conmon's
// too: <parent>/conmon), removed at stop(), no network (no netavark or
// CNI), no events, the busybox fixture loaded from the image archive. The rlimits are spelled out: podman's defaults (nofile and nproc
// at 1048576) are above this machine's hard limits, which root cannot raise without
// CAP_SYS_RESOURCE (runc refuses them too).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEST_CGROUP_PARENT } from './paths.js';
import { imageArchive } from './shim-containerd.js';

export const PODMAN_IMAGE = 'tsrun.test/busybox:latest';

export interface PrivatePodman {
  readonly dir: string;
  /** podman's global flags that select this instance */
  readonly globals: string[];
  /** the --cgroup-parent of its containers (and conmon's, below it) */
  readonly cgroupParent: string;
  /** the environment to run podman with (CONTAINERS_CONF) */
  readonly env: NodeJS.ProcessEnv;
  /** Runs podman with these arguments and returns its stdout; throws with stderr on failure. */
  podman(args: string[], timeoutMs?: number): string;
  /** argv of `podman run --rm` of the image through a runtime binary */
  runArgv(runtime: string, cmd: string[], extra?: string[]): string[];
  stop(): void;
}

export function podmanAvailable(): boolean {
  return spawnSync('podman', ['--version'], { stdio: 'ignore' }).status === 0 && spawnSync('conmon', ['--version'], { stdio: 'ignore' }).status === 0;
}

export function startPodman(): PrivatePodman {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-podman-'));
  for (const d of ['root', 'runroot', 'tmp']) mkdirSync(path.join(dir, d));
  const conf = path.join(dir, 'containers.conf');
  writeFileSync(
    conf,
    [
      '[containers]',
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      'netns = "none"',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "none"',
      `tmp_dir = ${JSON.stringify(path.join(dir, 'tmp'))}`,
      '',
    ].join('\n'),
  );
  const globals = ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'runroot'), '--tmpdir', path.join(dir, 'tmp'), '--storage-driver', 'overlay'];
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const cgroupParent = `/${TEST_CGROUP_PARENT}/${path.basename(dir)}`;
  const podman = (args: string[], timeoutMs = 60_000): string =>
    execFileSync('podman', [...globals, ...args], { env, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  const instance: PrivatePodman = {
    dir,
    globals,
    cgroupParent,
    env,
    podman,
    runArgv: (runtime, cmd, extra = []) => ['podman', ...globals, 'run', '--rm', '--runtime', runtime, '--cgroup-parent', cgroupParent, ...extra, PODMAN_IMAGE, ...cmd],
    stop: () => {
      try {
        podman(['rm', '--all', '--force', '--time', '0']);
      } catch {
        // nothing to remove, or podman is broken: the unmount below still runs
      }
      spawnSync('podman', [...globals, 'system', 'reset', '--force'], { env, stdio: 'ignore', timeout: 60_000 });
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
      removeCgroups(cgroupParent);
    },
  };
  try {
    podman(['load', '--quiet', '--input', imageArchive], 120_000);
  } catch (err) {
    instance.stop();
    throw err;
  }
  return instance;
}

/** Removes parent (and conmon's cgroup below it) from every hierarchy, where empty. */
function removeCgroups(parent: string): void {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    for (const d of [`${parent}/conmon`, parent]) {
      try {
        rmdirSync(path.join('/sys/fs/cgroup', h, d));
      } catch {
        // absent, or still in use (then it is not ours to force)
      }
    }
  }
}

/** Unmounts whatever podman left mounted under dir (overlay layers, shm), deepest first. */
function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}
