// One keeper attached to this brain: its channel, the containerd connections it relays (each
// a RelayedSocket the group's ttrpc server serves like any socket), the calls the brain makes
// of it (spawn, claim, stdio), the exits it reports, and what the brain commits back: exits
// handled and the events they caused, batched per turn of the event loop so that one
// message carries both (a brain dying in between leaves all of it or none).
import type { Event, Hello, KeeperMessage, Reply } from '../../gen/tsrun/keeper/v1/keeper_pb.js';
import { Internal, SystemError } from '../../errors.js';
import type { ProcessExit } from '../../native/index.js';
import { closeQuietly } from '../io/fds.js';
import { KeeperChannel, type BrainMessageInit } from './channel.js';
import { RelayedSocket } from './relayed-socket.js';

/** The keeper channel versions this brain speaks (cpp/keeper/wire.h kVersion). */
export const KEEPER_VERSION = 1;

export interface LinkHandlers {
  /** The keeper said who it is; logFd (the group's log fifo) is the handler's. */
  hello(hello: Hello, logFd: number | undefined): void;
  /** A connection containerd opened to the group (or had open when the keeper attached). */
  connection(socket: RelayedSocket): void;
  /** The keeper is gone: its group is no longer ours. */
  lost(why: string): void;
}

/** A process's end as the keeper saw it, and when. */
export interface KeeperExit extends ProcessExit {
  at: Date;
}

/** A call's answer: the reply and its fds by slot (-1: none), which become the caller's. */
export interface Answer {
  reply: Reply;
  fds: number[];
}

type CallCase = 'spawn' | 'claim' | 'ioOpen' | 'ioClose';
type CallValue<C extends CallCase> = Extract<BrainMessageInit['kind'], { case: C }>['value'];

export class KeeperLink {
  readonly #channel: KeeperChannel;
  readonly #sockets = new Map<number, RelayedSocket>();
  readonly #calls = new Map<bigint, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  readonly #exits = new Map<number, KeeperExit>();
  readonly #waiting = new Map<number, Array<(e: KeeperExit) => void>>();
  /** pids whose exits someone here will handle (spawned, claimed) */
  readonly #expected = new Set<number>();
  #acks: number[] = [];
  #events: Array<Omit<Event, '$typeName'>> = [];
  #records = new Map<string, Uint8Array | undefined>();
  #commitQueued = false;
  #nextCall = 1n;
  #hello: Hello | undefined;
  #closed = false;

  constructor(
    fd: number,
    private readonly handlers: LinkHandlers,
  ) {
    this.#channel = new KeeperChannel(fd, {
      message: (m, fds) => this.#message(m.kind, fds),
      closed: (why) => this.#lost(why),
    });
  }

  get hello(): Hello | undefined {
    return this.#hello;
  }

  /** The group is ours: the keeper relays what containerd sends from now on. */
  welcome(): void {
    this.#channel.send({ kind: { case: 'welcome', value: { version: KEEPER_VERSION } } });
  }

  /** The group is over: the keeper removes its socket, and exits once the connections close
   *  and its events are out. */
  end(): void {
    this.#flushCommit();
    this.#channel.send({ kind: { case: 'end', value: {} } });
  }

  /** Lets the keeper go without a word (it may be another brain's now, or gone). */
  close(): void {
    this.#closed = true;
    this.#channel.close();
    for (const s of this.#sockets.values()) s.destroy();
    this.#sockets.clear();
    const gone = new Internal('the group\'s keeper is gone');
    for (const c of this.#calls.values()) c.reject(gone);
    this.#calls.clear();
  }

  /** Makes a call; its reply's fds come back by slot. Fails with the keeper's errno. */
  call<C extends CallCase>(kind: C, value: Omit<CallValue<C>, 'call'>, fds: number[] = []): Promise<Answer> {
    if (this.#closed) return Promise.reject(new Internal('the group\'s keeper is gone'));
    const call = this.#nextCall++;
    const answer = new Promise<Answer>((resolve, reject) => this.#calls.set(call, { resolve, reject }));
    // Commits made before a call go before it: a spawn follows the acks and events of its turn.
    this.#flushCommit();
    this.#channel.send({ kind: { case: kind, value: { ...value, call } } as BrainMessageInit['kind'] }, fds);
    return answer;
  }

  send(kind: BrainMessageInit['kind']): void {
    this.#channel.send({ kind });
  }

  /** Resolves with pid's exit once the keeper reports it (drained). */
  exit(pid: number): Promise<KeeperExit> {
    const known = this.#exits.get(pid);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      const list = this.#waiting.get(pid) ?? [];
      list.push(resolve);
      this.#waiting.set(pid, list);
    });
  }

  /** pid's exit, if the keeper has reported it. */
  exitNow(pid: number): KeeperExit | undefined {
    return this.#exits.get(pid);
  }

  /** pid's exit will be handled here (it was spawned or claimed through this link). */
  expect(pid: number): void {
    this.#expected.add(pid);
  }

  /** pid's exit is handled: the keeper forgets it with this turn's commit. */
  ack(pid: number): void {
    this.#exits.delete(pid);
    this.#expected.delete(pid);
    this.#acks.push(pid);
    this.#queueCommit();
  }

  /** A line of the group's journal, kept by the keeper, written with this turn's commit. */
  record(key: string, value: Uint8Array): void {
    this.#records.set(key, value);
    this.#queueCommit();
  }

  /** Drops a line of the journal with this turn's commit. */
  forget(key: string): void {
    this.#records.set(key, undefined);
    this.#queueCommit();
  }

  /** An event for the keeper to publish, in order, with this turn's commit. */
  publish(event: Omit<Event, '$typeName'>): void {
    this.#events.push(event);
    this.#queueCommit();
  }

  #queueCommit(): void {
    if (this.#commitQueued) return;
    this.#commitQueued = true;
    queueMicrotask(() => this.#flushCommit());
  }

  #flushCommit(): void {
    this.#commitQueued = false;
    if (this.#acks.length === 0 && this.#events.length === 0 && this.#records.size === 0) return;
    const records: Array<{ key: string; value: Uint8Array }> = [];
    const forget: string[] = [];
    for (const [key, value] of this.#records) {
      if (value === undefined) forget.push(key);
      else records.push({ key, value });
    }
    const value = { acks: this.#acks, events: this.#events, records, forget };
    this.#acks = [];
    this.#events = [];
    this.#records = new Map();
    this.#channel.send({ kind: { case: 'commit', value } });
  }

  #message(kind: KeeperMessage['kind'], fds: number[]): void {
    switch (kind.case) {
      case 'hello': {
        const logFd = kind.value.log ? fds.shift() : undefined;
        this.#hello = kind.value;
        this.handlers.hello(kind.value, logFd);
        for (const conn of kind.value.connections) this.#open(conn);
        break;
      }
      case 'connOpened':
        this.#open(kind.value.conn);
        break;
      case 'frame':
        this.#sockets.get(kind.value.conn)?.deliver(kind.value.data);
        break;
      case 'connEnded':
        this.#sockets.get(kind.value.conn)?.peerEnded();
        break;
      case 'reply':
        this.#reply(kind.value, fds);
        return;
      case 'exit': {
        const e = kind.value;
        const exit: KeeperExit = { reaped: true, pid: e.pid, code: e.code, signal: e.signal, at: new Date(Number(e.atNs / 1_000_000n)) };
        // One nobody here will handle (an earlier brain's bootstrap, a process it forgot):
        // the keeper may forget it.
        if (!this.#expected.has(e.pid) && !this.#waiting.has(e.pid)) {
          this.ack(e.pid);
          break;
        }
        this.#exits.set(e.pid, exit);
        const waiting = this.#waiting.get(e.pid) ?? [];
        this.#waiting.delete(e.pid);
        for (const resolve of waiting) resolve(exit);
        break;
      }
      default:
        break; // a later keeper's message this brain does not know
    }
    for (const fd of fds) closeQuietly(fd);
  }

  #reply(reply: Reply, fds: number[]): void {
    const call = this.#calls.get(reply.call);
    const bySlot = reply.fds.map((slot) => (slot >= 0 ? (fds[slot] ?? -1) : -1));
    if (!call) {
      for (const fd of fds) closeQuietly(fd);
      return;
    }
    this.#calls.delete(reply.call);
    // A spawned process: its exit may be the very next message, before the caller resumes.
    if (reply.pid) this.#expected.add(reply.pid);
    if (reply.errno !== 0) {
      for (const fd of fds) closeQuietly(fd);
      call.reject(new SystemError(reply.message || `keeper: errno ${reply.errno}`, { errno: reply.errno }));
      return;
    }
    call.resolve({ reply, fds: bySlot });
  }

  #open(conn: number): void {
    if (this.#sockets.has(conn)) return;
    const socket = new RelayedSocket(
      conn,
      (data) => this.#channel.send({ kind: { case: 'frame', value: { conn, data } } }),
      () => {
        this.#sockets.delete(conn);
        if (!this.#closed) this.#channel.send({ kind: { case: 'closeConn', value: { conn } } });
      },
    );
    this.#sockets.set(conn, socket);
    // Only a group's server takes connections: before the hello there is none.
    if (this.#hello) this.handlers.connection(socket);
  }

  #lost(why: string): void {
    if (this.#closed) return;
    this.close();
    this.handlers.lost(why);
  }
}
