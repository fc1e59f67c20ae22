// A private Docker engine (Debian's docker.io 20.10) for tests and the bench: its own
// daemon.json (tsrun added to its runtimes), data root, exec root, pid file and socket in a
// temp dir, no bridge or iptables (containers run with --network none), every cgroup under
// tsrun-test/<dir name>, the busybox fixture imported as tsrun.test/busybox:latest. It
// starts and manages its own containerd, whose runc shim runs tsrun as it runs runc.
// stop() ends dockerd by pid (SIGTERM, then SIGKILL) and whatever of it is left, unmounts
// what it mounted and removes the dir and the cgroups, whatever happened.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtureRootfs, TEST_CGROUP_PARENT, tsrunBin } from './paths.js';

export const DOCKER_IMAGE = 'tsrun.test/busybox:latest';

export interface PrivateDocker {
  readonly dir: string;
  /** `docker -H unix://...`: the client's argv up to the command */
  readonly client: string[];
  /** Runs docker with these arguments; stdout, or a throw with stderr. */
  docker(args: string[], timeoutMs?: number): string;
  /** argv of `docker run --rm` of the image with a runtime ("tsrun" or "runc") */
  runArgv(runtime: string, cmd: string[], extra?: string[]): string[];
  stop(): void;
}

export function dockerAvailable(): boolean {
  return spawnSync('dockerd', ['--version'], { stdio: 'ignore' }).status === 0 && spawnSync('docker', ['--version'], { stdio: 'ignore' }).status === 0;
}

const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids whose command line mentions dir: the engine's containerd and shims. */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (Number(p) !== process.pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`${dir}/`)) pids.push(Number(p));
    } catch {
      // gone
    }
  }
  return pids;
}

export function startDocker(): PrivateDocker {
  // Short: the exec root holds sockets (sun_path is 108 bytes).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dk-'));
  const socket = path.join(dir, 'docker.sock');
  const cgroupParent = `/${TEST_CGROUP_PARENT}/${path.basename(dir)}`;
  writeFileSync(path.join(dir, 'daemon.json'), JSON.stringify({ runtimes: { tsrun: { path: tsrunBin } } }));
  const daemon = spawn(
    'dockerd',
    [
      '--config-file', path.join(dir, 'daemon.json'),
      '--data-root', path.join(dir, 'data'),
      '--exec-root', path.join(dir, 'x'),
      '--pidfile', path.join(dir, 'docker.pid'),
      '--host', `unix://${socket}`,
      '--bridge', 'none', '--iptables=false', '--ip-masq=false', '--ip-forward=false',
      '--cgroup-parent', cgroupParent,
      '--storage-driver', 'overlay2',
    ],
    { stdio: ['ignore', 'ignore', 'ignore'], detached: false },
  );
  const client = ['docker', '-H', `unix://${socket}`];
  const docker = (args: string[], timeoutMs = 60_000): string =>
    execFileSync(client[0] as string, [...client.slice(1), ...args], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = (): void => {
    const pid = daemon.pid ?? 0;
    if (pid && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 80 && alive(pid); i++) sleep(250);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    for (const p of processesUnder(dir)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    for (const h of readdirSync('/sys/fs/cgroup')) {
      try {
        rmdirSync(path.join('/sys/fs/cgroup', h, cgroupParent));
      } catch {
        // absent, or busy: not ours to force
      }
    }
  };
  try {
    for (let i = 0; ; i++) {
      if (existsSync(socket) && spawnSync(client[0] as string, [...client.slice(1), 'version'], { stdio: 'ignore' }).status === 0) break;
      if (i > 240 || daemon.exitCode !== null) throw new Error(`dockerd did not come up at ${socket}`);
      sleep(250);
    }
    // The fixture as an image: a filesystem tarball, which docker 20.10 imports (it loads no OCI layout).
    const tar = spawnSync('sh', ['-c', `tar -C '${fixtureRootfs}' -c . | ${client.join(' ')} import - ${DOCKER_IMAGE}`], { stdio: 'ignore', timeout: 120_000 });
    if (tar.status !== 0) throw new Error('docker import of the busybox fixture failed');
  } catch (err) {
    stop();
    throw err;
  }
  return {
    dir,
    client,
    docker,
    runArgv: (runtime, cmd, extra = []) => [...client, 'run', '--rm', '--network', 'none', '--runtime', runtime, ...extra, DOCKER_IMAGE, ...cmd],
    stop,
  };
}
