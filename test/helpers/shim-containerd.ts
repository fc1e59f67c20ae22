// A private containerd with containerd-shim-ts-v2 first on its PATH, the busybox image
// imported, and ctr at hand for both runtimes, so tests can run the same thing under
// io.containerd.ts.v2 and io.containerd.runc.v2 and compare. The shim keeps its state and
// sockets in the containerd's temp dir. Containers live in the namespace tsrun-test, so
// that ctr's default cgroupsPath (/<namespace>/<id>) puts them under tsrun-test/.
// Free of vitest, so that npm run bench can use it too (shim.ts adds the per-file hooks).
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startContainerd, type ContainerdOptions, type PrivateContainerd } from './containerd.js';
import { repoRoot, shimServerScript, TEST_CGROUP_PARENT } from './paths.js';

export const NAMESPACE = TEST_CGROUP_PARENT;
export const IMAGE = 'tsrun.test/busybox:latest';
export const TS = 'io.containerd.ts.v2';
export const RUNC = 'io.containerd.runc.v2';
/** test/floor-shim: answers every Task call at once, runs nothing (the bench's floor) */
export const FLOOR = 'io.containerd.floor.v2';
export const imageArchive = path.join(repoRoot, '.cache', 'fixtures', 'busybox-image.tar');
/** The launcher binary as ps shows a keeper's argv[0]. */
const launcherPath = realpathSync(path.join(repoRoot, 'bin', 'containerd-shim-ts-v2'));

let counter = 0;
/** A container id no other test (or test run) uses. */
export function containerId(name: string): string {
  return `s${process.pid}-${++counter}-${name}`;
}

export interface CtrResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CtrOptions {
  /** written to ctr's stdin once stdout shows `after` (or at once), then stdin is closed */
  input?: string;
  after?: string;
  timeoutMs?: number;
  /** run under `script`, so ctr has a terminal (for ctr run -t) */
  tty?: boolean;
}

export interface TaskEvent {
  topic: string;
  payload: Record<string, unknown>;
}

export interface ShimContainerd {
  readonly ctd: PrivateContainerd;
  /** TSRUN_SHIM_ROOT: the shim's state is in <root>/<namespace> */
  readonly stateRoot: string;
  readonly socketDir: string;
  /** ctr in the test namespace; stdout, or throws with stderr */
  ctr(args: string[], timeoutMs?: number): string;
  /** ctr as a child process, with its exit code and both streams */
  ctrRun(args: string[], options?: CtrOptions): Promise<CtrResult>;
  /** `ctr run --rm --runtime <runtime> <image> <id> <cmd...>` */
  run(runtime: string, id: string, cmd: string[], options?: CtrOptions & { flags?: string[] }): Promise<CtrResult>;
  /** Events of one container seen by `ctr events` since start, in order. */
  events(id: string): TaskEvent[];
  /** Waits until the events of id include topic (count times). */
  waitEvent(id: string, topic: string, count?: number, timeoutMs?: number): Promise<TaskEvent[]>;
  /** Pids of our brains (Node shim servers) serving this containerd. */
  servers(): number[];
  /** Pids of idle spare brains waiting to be adopted by this containerd. */
  spares(): number[];
  /** Pids of the groups' keepers of this containerd. */
  keepers(): number[];
  /** The keeper of task id's group: the process holding its group's listening socket. */
  keeperOf(id: string): number | undefined;
  /** The brain serving task id: the peer of its keeper's channel (a brain serves many
   *  groups, and its command line names none of them). */
  serverOf(id: string): number | undefined;
  /** Restarts containerd (same root and state; whileDown runs while it is away) and subscribes to its events again. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Kills and removes every task and container left in the namespace. */
  removeAll(): Promise<void>;
  stop(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function shellQuote(args: string[]): string {
  return args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
}

/** Processes whose command line contains every needle. */
export function processesMatching(...needles: string[]): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      if (needles.every((n) => cmd.includes(n))) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** The ids (first column) of a table ctr prints, such as `ctr task ls`. */
export function ctrIds(table: string): string[] {
  return table
    .split('\n')
    .slice(1)
    .map((l) => l.split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

export async function startShimContainerd(
  options: ContainerdOptions & { /** more of the shim's environment, e.g. TSRUN_SHIM_GROUPING */ shimEnv?: Record<string, string> } = {},
): Promise<ShimContainerd> {
  if (!existsSync(imageArchive)) execFileSync('bash', [path.join(repoRoot, 'scripts', 'image.sh')], { stdio: 'ignore' });
  // The shim's state root and socket directory of this test alone; containerd passes its
  // environment on to the shim.
  const shimDir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-shim-'));
  const stateRoot = path.join(shimDir, 'ts');
  const socketDir = path.join(shimDir, 's');
  mkdirSync(stateRoot);
  mkdirSync(socketDir, { mode: 0o700 });
  let ctd: PrivateContainerd;
  try {
    ctd = await startContainerd({
      ...options,
      // build/Release: containerd-shim-floor-v2, for whoever asks for the floor shim.
      pathPrefix: [path.join(repoRoot, 'bin'), ...(options.pathPrefix ?? []), path.join(repoRoot, 'build', 'Release')],
      env: { ...options.env, TSRUN_SHIM_ROOT: stateRoot, TSRUN_SHIM_SOCKET_DIR: socketDir, ...options.shimEnv },
    });
  } catch (err) {
    rmSync(shimDir, { recursive: true, force: true });
    throw err;
  }
  const base = ['--address', ctd.address, '--namespace', NAMESPACE];
  const eventLines: string[] = [];
  // `ctr events` ends with containerd; restart() subscribes again.
  const subscribe = (): ChildProcessWithoutNullStreams => {
    const proc = spawn('ctr', ['--address', ctd.address, 'events'], { env: ctd.env, stdio: ['ignore', 'pipe', 'ignore'] }) as unknown as ChildProcessWithoutNullStreams;
    let partial = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      eventLines.push(...lines);
    });
    return proc;
  };
  let events = subscribe();
  const subscribed = async (): Promise<void> => {
    // ctr events subscribes asynchronously: wait until it sees something of ours.
    const seen = eventLines.length;
    const deadline = Date.now() + 10_000;
    while (!eventLines.slice(seen).some((l) => l.includes('/images/')) && Date.now() < deadline) {
      ctd.ctr(['images', 'label', IMAGE, `tsrun.test/probe=${Date.now()}`], { namespace: NAMESPACE });
      await sleep(100);
    }
  };
  const children = new Set<ChildProcessWithoutNullStreams>();

  const ctrRun = (args: string[], o: CtrOptions = {}): Promise<CtrResult> =>
    new Promise((resolve, reject) => {
      const argv = ['ctr', ...base, ...args];
      const child = (o.tty
        ? spawn('script', ['-qec', shellQuote(argv), '/dev/null'], { env: ctd.env, stdio: 'pipe' })
        : spawn('ctr', argv.slice(1), { env: ctd.env, stdio: 'pipe' })) as ChildProcessWithoutNullStreams;
      children.add(child);
      let stdout = '';
      let stderr = '';
      let fed = false;
      const feed = (): void => {
        if (fed) return;
        fed = true;
        if (o.input !== undefined) child.stdin.write(o.input);
        child.stdin.end();
      };
      child.stdin.on('error', () => undefined);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (o.after !== undefined && stdout.includes(o.after)) feed();
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      if (o.after === undefined && !o.tty) feed();
      const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        children.delete(child);
        resolve({ code, stdout, stderr });
      });
    });

  const parse = (line: string): TaskEvent | undefined => {
    const m = /^\S+ \S+ \S+ \S+ (\S+) (\S+) (\{.*\})$/.exec(line);
    if (!m || m[1] !== NAMESPACE) return undefined;
    try {
      return { topic: m[2] as string, payload: JSON.parse(m[3] as string) as Record<string, unknown> };
    } catch {
      return undefined;
    }
  };
  const eventsOf = (id: string): TaskEvent[] =>
    eventLines.map(parse).filter((e): e is TaskEvent => e !== undefined && e.topic.startsWith('/tasks/') && e.payload.container_id === id);

  const servers = (): number[] => processesMatching(shimServerScript, `-address ${ctd.address} `);
  const spares = (): number[] => processesMatching(shimServerScript, `-spare ${socketDir}/`);
  const keepers = (): number[] => processesMatching(launcherPath, `-address ${ctd.address} `, ' keep');
  const holding = (pids: number[], inode: string): number | undefined =>
    pids.find((pid) => {
      try {
        return readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`);
      } catch {
        return false;
      }
    });
  const keeperOf = (id: string): number | undefined => {
    let socket: string;
    try {
      socket = readFileSync(path.join(ctd.state, 'io.containerd.runtime.v2.task', NAMESPACE, id, 'address'), 'utf8').replace(/^unix:\/\//, '');
    } catch {
      return undefined;
    }
    // Accepted connections show the path too; the listening socket has __SO_ACCEPTCON set.
    const fields = readFileSync('/proc/net/unix', 'utf8').split('\n').map((l) => l.trim().split(/\s+/));
    const inode = fields.find((f) => f[7] === socket && f[3] === '00010000')?.[6];
    return inode ? holding(keepers(), inode) : undefined;
  };
  const serverOf = (id: string): number | undefined => {
    const keeper = keeperOf(id);
    if (keeper === undefined) return undefined;
    let channel: string;
    try {
      channel = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${keeper}/fd/4`))?.[1] ?? '';
    } catch {
      return undefined;
    }
    // ss names each unix socket's peer by inode: the brain holds the other end.
    const peer = execFileSync('ss', ['-xan'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .find((f) => f[5] === channel)?.[7];
    return peer ? holding(servers(), peer) : undefined;
  };

  const instance: ShimContainerd = {
    ctd,
    stateRoot,
    socketDir,
    ctr: (args, timeoutMs) => ctd.ctr(args, { namespace: NAMESPACE, timeoutMs }),
    ctrRun,
    run: (runtime, id, cmd, o = {}) => ctrRun(['run', '--rm', '--runtime', runtime, ...(o.flags ?? []), IMAGE, id, ...cmd], o),
    events: eventsOf,
    waitEvent: async (id, topic, count = 1, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = eventsOf(id);
        if (got.filter((e) => e.topic === topic).length >= count) return got;
        if (Date.now() > deadline) throw new Error(`no ${topic} for ${id} within ${timeoutMs} ms; saw ${JSON.stringify(got)}`);
        await sleep(25);
      }
    },
    servers,
    spares,
    keepers,
    keeperOf,
    serverOf,
    restart: async (whileDown) => {
      await ctd.restart(whileDown);
      events.kill('SIGKILL');
      events = subscribe();
      await subscribed();
    },
    removeAll: async () => {
      for (const id of ctrIds(instance.ctr(['task', 'ls']))) {
        await ctrRun(['task', 'kill', '-s', 'SIGKILL', id]);
        await ctrRun(['task', 'delete', '-f', id]);
      }
      for (const id of ctrIds(instance.ctr(['container', 'ls']))) await ctrRun(['container', 'rm', id]);
      const deadline = Date.now() + 10_000;
      while (servers().length > 0 && Date.now() < deadline) await sleep(50);
    },
    stop: async () => {
      try {
        await instance.removeAll();
      } catch {
        // containerd may already be gone
      }
      events.kill('SIGKILL');
      for (const c of children) c.kill('SIGKILL');
      // Keepers, brains and spares are ours: none may outlive the test.
      for (const pid of [...keepers(), ...servers(), ...spares()]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await ctd.stop();
      rmSync(shimDir, { recursive: true, force: true });
    },
  };

  ctd.ctr(['images', 'import', imageArchive], { namespace: NAMESPACE, timeoutMs: 60_000 });
  await subscribed();
  return instance;
}
