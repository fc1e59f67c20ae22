// One call the CLI server runs for a caller's native client: the tsrun command line it
// sent, run by main() as `node bin/tsrun.cjs` would run it, in an Invocation that is the
// caller's (cwd, environment, its fds for stdio and --preserve-fds), with tsrun-init spawned
// and reaped by the client (a remote Spawner), the caller's signals passed on, and the exit
// code sent back. Replies come on the same connection while main() runs.
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { Internal, NeedsOwnProcess, SystemError } from '../errors.js';
import { logger, Logger, withLoggerScope } from '../log.js';
import { cancelWatch, cliProtocol, errnoText, pidfdExited, pidfdOpen, recvMessage, sendMessage, waitExit, whenReadable, type CliProtocol, type ProcessExit } from '../native/index.js';
import { withInvocation, type Invocation } from '../api/invocation.js';
import type { Spawner } from '../api/invocation.js';
import { Reader, Writer, type CallRecord } from './wire.js';

type Reply = { reader: Reader; fds: number[] };

const signalName = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

export class Call {
  private readonly p: CliProtocol = cliProtocol();
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<NodeJS.Signals, Set<(s: NodeJS.Signals) => void>>();
  private gone = false;
  private readonly fdOf = new Map<number, number>();

  constructor(
    private readonly conn: number,
    private readonly rec: CallRecord,
    private readonly fds: number[],
    private readonly devNull: number,
  ) {
    rec.fdNumbers.forEach((n, i) => {
      const fd = fds[i];
      if (fd !== undefined) this.fdOf.set(n, fd);
    });
  }

  private send(w: Writer, fds: number[] = []): void {
    if (this.gone) throw new Internal('the caller of this tsrun call has gone');
    sendMessage(this.conn, w.done(), fds);
  }

  private request(w: (seq: number) => Writer, fds: number[]): Promise<Reply> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      try {
        this.send(w(seq), fds);
      } catch (err) {
        this.pending.delete(seq);
        reject(err as Error);
      }
    });
  }

  /** The client spawns tsrun-init: its child, as runc's init is runc's. */
  private readonly spawner: Spawner = {
    spawn: async (req) => {
      const fds = [req.exeFd];
      const slots = req.fds.map((fd) => (fd < 0 ? -1 : fds.push(fd) - 2));
      const { reader, fds: got } = await this.request((seq) => new Writer().u32(this.p.spawn).u32(seq).strs(req.argv).strs(req.env).i32s(slots).str(req.cgroup ?? ''), fds);
      const pid = reader.i32();
      const pidfd = got[0];
      if (pid < 0 || pidfd === undefined) {
        for (const fd of got) closeSync(fd);
        throw new SystemError(`execveat tsrun-init: ${errnoText(-pid)}`, { errno: -pid, syscall: 'execveat' });
      }
      // The client clones it into req.cgroup (CLONE_INTO_CGROUP), or fails the spawn.
      return { pid, pidfd, inCgroup: Boolean(req.cgroup) };
    },
    // The processes tsrun-init makes are the client's children too (CLONE_PARENT): a pidfd
    // is as good here as there, to watch and to signal.
    claim: async (pid) => pidfdOpen(pid),
    exit: async (pid, pidfd) => {
      const seen = await waitExit(pidfd);
      return seen.reaped ? seen : ((await this.statusOf(pid)) ?? seen);
    },
    // Without waiting there is no asking the client: an exit seen, not how it ended.
    exitNow: (pid, pidfd) => (pidfdExited(pidfd) ? { reaped: false, pid, code: 0, signal: 0 } : null),
  };

  /** The exit status of pid as its parent, the client, reaps it; undefined when not its child. */
  private async statusOf(pid: number): Promise<ProcessExit | undefined> {
    if (pid <= 0) return undefined;
    const { reader } = await this.request((seq) => new Writer().u32(this.p.wait).u32(seq).i32(pid), []);
    const known = reader.i32();
    const code = reader.i32();
    const signal = reader.i32();
    return known ? { reaped: true, pid, code, signal } : undefined;
  }

  private invocation(): Invocation {
    const env: Record<string, string> = {};
    for (const e of this.rec.env) {
      const eq = e.indexOf('=');
      if (eq > 0 && !(e.slice(0, eq) in env)) env[e.slice(0, eq)] = e.slice(eq + 1);
    }
    // A caller without a stdin (stdout, stderr) gets /dev/null there, as Node gives itself.
    const std = (n: number): number => this.fdOf.get(n) ?? this.devNull;
    return {
      cwd: this.rec.cwd,
      env,
      stdio: [std(0), std(1), std(2)],
      fd: (n) => {
        const fd = this.fdOf.get(n);
        if (fd === undefined) throw new SystemError(`--preserve-fds: the caller has no fd ${n} open`, { errno: 9 });
        return fd;
      },
      spawner: this.spawner,
      onSignals: (signals, listener) => {
        for (const s of signals) {
          let set = this.listeners.get(s);
          if (!set) this.listeners.set(s, (set = new Set()));
          set.add(listener);
        }
        return () => {
          for (const s of signals) this.listeners.get(s)?.delete(listener);
        };
      },
      local: false,
      undoIfLost: (args) => this.send(new Writer().u32(this.p.undo).strs(args)),
    };
  }

  private onRecord(data: Buffer, fds: number[]): void {
    const r = new Reader(data);
    const type = r.u32();
    if (type === this.p.spawned || type === this.p.status) {
      const seq = r.u32();
      const waiter = this.pending.get(seq);
      if (!waiter) {
        for (const fd of fds) closeSync(fd);
        return;
      }
      this.pending.delete(seq);
      waiter.resolve({ reader: r, fds });
      return;
    }
    for (const fd of fds) closeSync(fd);
    if (type === this.p.signal) {
      const signo = r.i32();
      const name = signalName.get(signo);
      const set = name ? this.listeners.get(name) : undefined;
      if (name && set && set.size > 0) for (const l of set) l(name);
      else if (!this.gone) this.send(new Writer().u32(this.p.defaultSignal).i32(signo));
    }
  }

  /** Reads the client's records until it closes the connection or the call ends. */
  private async pump(): Promise<void> {
    for (;;) {
      await whenReadable(this.conn);
      if (this.gone) return;
      for (;;) {
        const m = recvMessage(this.conn);
        if (!m) break;
        if (m.data.length === 0 && m.fds.length === 0) {
          this.lose();
          return;
        }
        try {
          this.onRecord(m.data, m.fds);
        } catch (err) {
          logger.debug(`cli server: a bad record from the client: ${String(err)}`);
        }
      }
    }
  }

  private lose(): void {
    this.gone = true;
    for (const w of this.pending.values()) w.reject(new Internal('the caller of this tsrun call has gone'));
    this.pending.clear();
  }

  /** Runs the call to its end: the exit code goes back, or COLD when only the caller's own process can run it. */
  async run(main: (argv: string[]) => Promise<number>): Promise<void> {
    const pumping = this.pump().catch(() => this.lose());
    const inv = this.invocation();
    let code: number | 'cold';
    try {
      process.umask(this.rec.umask);
      const argv = ['node', ...this.rec.argv];
      code = await withLoggerScope(new Logger({ format: 'text', debug: false, stderrFd: inv.stdio[2] }), () => withInvocation(inv, () => main(argv)));
    } catch (err) {
      if (!(err instanceof NeedsOwnProcess)) throw err;
      code = 'cold';
    } finally {
      for (const fd of this.fds) closeSync(fd);
    }
    if (!this.gone) {
      this.send(code === 'cold' ? new Writer().u32(this.p.cold) : new Writer().u32(this.p.exit).i32(code));
    }
    this.gone = true;
    cancelWatch(this.conn);
    await pumping;
  }
}
