// Debian's containerd run by an unprivileged user the way RootlessKit runs it (rootless
// containerd's "hard way" in containerd's docs/rootless.md): rootlesskit makes a user
// namespace (newuidmap with the user's subordinate range) and a mount namespace with
// writable copies of /etc and /run, and containerd runs in them as that namespace's root,
// with this repo's containerd-shim-ts-v2 first on its PATH. ctr runs in the same namespaces
// (nsenter). The host network is kept (--net=host): slirp4netns needs /dev/net/tun, which
// this machine keeps 0600. stop() ends rootlesskit by pid; the user's removal ends the rest.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { Result } from './cli.js';
import { repoRoot } from './paths.js';
import type { UnprivilegedUser } from './unprivileged.js';

export interface RootlessContainerd {
  readonly address: string;
  /** ctr as the user, inside rootlesskit's namespaces */
  ctr(args: string[], timeoutMs?: number): Promise<Result>;
  log(): string;
  stop(): Promise<void>;
}

export async function startRootlessContainerd(user: UnprivilegedUser): Promise<RootlessContainerd> {
  const dir = path.join(user.home, 'containerd');
  mkdirSync(dir, { recursive: true });
  const address = path.join(user.runtimeDir, 'containerd', 'containerd.sock');
  const stateDir = path.join(user.runtimeDir, 'rootlesskit');
  const config = path.join(dir, 'config.toml');
  const logFile = path.join(dir, 'containerd.log');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = "${path.join(dir, 'root')}"`,
      `state = "${path.join(user.runtimeDir, 'containerd')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]',
      '[grpc]',
      `  address = "${address}"`,
      '',
    ].join('\n'),
  );
  user.own(dir);
  const env = user.env({ PATH: `${path.join(repoRoot, 'bin')}:${path.dirname(process.execPath)}:${user.env().PATH ?? ''}` });
  const child: ChildProcess = spawn(
    'setpriv',
    [
      '--reuid', String(user.uid), '--regid', String(user.gid), '--init-groups', '--',
      'sh', '-c', `exec rootlesskit --net=host --copy-up=/etc --copy-up=/run --state-dir=${stateDir} sh -c 'rm -f /run/containerd; exec containerd -c ${config}' >>${logFile} 2>&1`,
    ],
    { env, stdio: 'ignore' },
  );
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const childPid = (): string => readFileSync(path.join(stateDir, 'child_pid'), 'utf8').trim();

  const ctr = (args: string[], timeoutMs = 60_000): Promise<Result> =>
    user.run('nsenter', ['-U', '--preserve-credentials', '-m', '-t', childPid(), 'ctr', '--address', address, ...args], { env, timeoutMs });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  };

  for (let i = 0; ; i++) {
    if (existsSync(path.join(stateDir, 'child_pid')) && (await ctr(['version'], 5000)).code === 0) break;
    if (i > 200 || child.exitCode !== null) {
      await stop();
      throw new Error(`rootless containerd did not come up:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { address, ctr, log, stop };
}
