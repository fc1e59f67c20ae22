// A private containerd for tests: its own root, state, sockets and config in a temp dir, so it
// shares nothing with a containerd the machine may run. stop() ends it by pid (SIGTERM, then
// SIGKILL), ends the ctr processes started through it, unmounts whatever is mounted under its
// dir and removes the dir. The same happens at process exit if a test never got to stop().
//
// Options let shim tests add config (e.g. a runtime section) and put a directory holding a shim
// binary first on containerd's PATH, where containerd looks for containerd-shim-*-v2. The CRI
// plugin is off unless `cri` is set (its sections then go in extraConfig); `netns` runs
// containerd, and so every shim, host-network pod and CNI plugin it starts, inside a network
// namespace the caller made (`ip netns add`), entered with nsenter --net only: the mount
// namespace stays the machine's (ip netns exec would remount /sys and hide the cgroups).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ContainerdOptions {
  /** TOML appended to the generated config (put [plugins."..."] sections here). */
  extraConfig?: string;
  /** Directories put before containerd's PATH, in this order. */
  pathPrefix?: string[];
  /** Variables added to containerd's environment (shims inherit it). */
  env?: Record<string, string>;
  /** Plugins to disable besides the ones this launcher always disables. */
  disabledPlugins?: string[];
  /** Keep the CRI plugin (io.containerd.grpc.v1.cri) that is otherwise always disabled. */
  cri?: boolean;
  /** A network namespace's name (under /run/netns) to run containerd in. */
  netns?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  startTimeoutMs?: number;
}

export interface PrivateContainerd {
  /** containerd's pid (a new one after restart()) */
  readonly pid: number;
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  /** The gRPC socket path, for `ctr --address` and the shims' -address. */
  readonly address: string;
  /** `<address>.ttrpc`: where shims publish events (TTRPC_ADDRESS). */
  readonly ttrpcAddress: string;
  readonly env: NodeJS.ProcessEnv;
  /** Runs ctr against this containerd and returns its stdout; throws with stderr on failure. */
  ctr(args: string[], options?: { namespace?: string; timeoutMs?: number }): string;
  /** Starts a long-running ctr (e.g. `events`); stop() kills it if it is still running. */
  spawnCtr(args: string[], options?: { namespace?: string }): ChildProcess;
  /** containerd's own log so far, for failure messages. */
  log(): string;
  /** Stops containerd (SIGTERM), runs whileDown, and starts it again on the same config, root and state. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

// Not needed to publish or run tasks, and slow or intrusive to start: CRI (a whole Kubernetes
// runtime), opt (installs into /opt/containerd), snapshotters absent on these hosts, tracing.
const CRI_PLUGIN = 'io.containerd.grpc.v1.cri';
const ALWAYS_DISABLED = [
  CRI_PLUGIN,
  'io.containerd.internal.v1.opt',
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.tracing.processor.v1.otlp',
];

export async function startContainerd(options: ContainerdOptions = {}): Promise<PrivateContainerd> {
  if (process.getuid?.() !== 0) throw new Error('a private containerd needs root');
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-containerd-'));
  const root = join(dir, 'root');
  const state = join(dir, 'state');
  const address = join(dir, 'containerd.sock');
  const ttrpcAddress = `${address}.ttrpc`;
  const logPath = join(dir, 'containerd.log');
  const configPath = join(dir, 'config.toml');
  const disabled = [...ALWAYS_DISABLED.filter((p) => !(options.cri && p === CRI_PLUGIN)), ...(options.disabledPlugins ?? [])];
  const config = [
    'version = 2',
    `root = ${JSON.stringify(root)}`,
    `state = ${JSON.stringify(state)}`,
    `disabled_plugins = ${JSON.stringify(disabled)}`,
    '[grpc]',
    `  address = ${JSON.stringify(address)}`,
    '[ttrpc]',
    `  address = ${JSON.stringify(ttrpcAddress)}`,
    // Empty addresses: no debug or metrics listeners to collide with anything else.
    '[debug]',
    '  address = ""',
    '[metrics]',
    '  address = ""',
    options.extraConfig ?? '',
  ].join('\n');
  writeFileSync(configPath, `${config}\n`);

  const env = { ...process.env, ...options.env, PATH: [...(options.pathPrefix ?? []), process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'].join(':') };
  const launch = (flags: string): { child: ChildProcess; pid: number; exited: Promise<void> } => {
    const logFd = openSync(logPath, flags);
    const argv = ['containerd', '--config', configPath, '--log-level', options.logLevel ?? 'warn'];
    // nsenter execs containerd in place: the pid is containerd's.
    if (options.netns !== undefined) argv.unshift('nsenter', `--net=/run/netns/${options.netns}`, '--');
    const child = spawn(argv[0] as string, argv.slice(1), {
      env,
      // Same process group as the test runner: a Ctrl-C that kills the runner before its exit
      // handler can run still ends containerd.
      stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    return { child, pid: child.pid ?? -1, exited };
  };
  let current = launch('w');
  if (current.pid < 0) {
    cleanup(dir, undefined, []);
    throw new Error('containerd did not start');
  }
  const ctrs: ChildProcess[] = [];
  const onExit = (): void => cleanup(dir, current.pid, ctrs);
  process.once('exit', onExit);
  const log = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');

  const ctrArgs = (args: string[], namespace: string | undefined): string[] => ['--address', address, ...(namespace ? ['--namespace', namespace] : []), ...args];
  const instance: PrivateContainerd = {
    get pid() {
      return current.pid;
    },
    dir,
    root,
    state,
    address,
    ttrpcAddress,
    env,
    ctr: (args, o = {}) =>
      execFileSync('ctr', ctrArgs(args, o.namespace), { env, encoding: 'utf8', timeout: o.timeoutMs ?? 20_000, stdio: ['ignore', 'pipe', 'pipe'] }),
    spawnCtr: (args, o = {}) => {
      const proc = spawn('ctr', ctrArgs(args, o.namespace), { env, stdio: ['ignore', 'pipe', 'pipe'] });
      ctrs.push(proc);
      return proc;
    },
    log,
    restart: async (whileDown) => {
      await terminate(current.pid, current.exited);
      await whileDown?.();
      current = launch('a');
      if (current.pid < 0) throw new Error('containerd did not start again');
      await waitReady(ttrpcAddress, current.exited, options.startTimeoutMs ?? 10_000);
    },
    stop: async () => {
      process.off('exit', onExit);
      await terminate(current.pid, current.exited);
      cleanup(dir, undefined, ctrs);
    },
  };

  try {
    await waitReady(ttrpcAddress, current.exited, options.startTimeoutMs ?? 10_000);
  } catch (err) {
    const text = log();
    await instance.stop();
    throw new Error(`containerd did not come up: ${(err as Error).message}\n${text}`);
  }
  return instance;
}

async function waitReady(socket: string, exited: Promise<void>, timeoutMs: number): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone) throw new Error('containerd exited');
    if (existsSync(socket) && (await canConnect(socket))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ttrpc socket at ${socket} after ${timeoutMs} ms`);
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function terminate(pid: number, exited: Promise<void>): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  const inTime = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(r, 5000, false))]);
  if (inTime) return;
  signal(pid, 'SIGKILL');
  await exited;
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false; // already gone
  }
}

/** Synchronous, so it can run from an 'exit' handler too. */
function cleanup(dir: string, pid: number | undefined, ctrs: ChildProcess[]): void {
  if (pid !== undefined) signal(pid, 'SIGKILL');
  for (const proc of ctrs) if (proc.exitCode === null && proc.pid !== undefined) signal(proc.pid, 'SIGKILL');
  for (const target of mountsUnder(dir)) {
    try {
      execFileSync('umount', ['--lazy', target], { stdio: 'ignore' });
    } catch {
      // Already gone (a parent's lazy unmount took it along).
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Mount points at or below dir, deepest first, from our mount namespace's mountinfo. */
export function mountsUnder(dir: string): string[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => unescape(line.split(' ')[4] ?? ''))
    .filter((target) => target === dir || target.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}
