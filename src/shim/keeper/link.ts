// One keeper attached to this brain: its channel, and the containerd connections it relays,
// each a RelayedSocket the group's ttrpc server serves like any socket.
import type { Hello, KeeperMessage } from '../../gen/tsrun/keeper/v1/keeper_pb.js';
import { closeQuietly } from '../io/fds.js';
import { KeeperChannel } from './channel.js';
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

export class KeeperLink {
  readonly #channel: KeeperChannel;
  readonly #sockets = new Map<number, RelayedSocket>();
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

  /** The group is over: the keeper removes its socket, and exits once the connections close. */
  end(): void {
    this.#channel.send({ kind: { case: 'end', value: {} } });
  }

  /** Lets the keeper go without a word (it may be another brain's now, or gone). */
  close(): void {
    this.#closed = true;
    this.#channel.close();
    for (const s of this.#sockets.values()) s.destroy();
    this.#sockets.clear();
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
      default:
        break; // a later keeper's message this brain does not know
    }
    for (const fd of fds) closeQuietly(fd);
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
