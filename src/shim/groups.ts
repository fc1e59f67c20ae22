// The groups this brain serves, one per attached keeper. A group (a container, a pod, or a
// namespace: see cpp/shim/grouping.h) has its own ttrpc server and Shim behind its keeper,
// which holds its processes, stdio and events, and ends when containerd shuts down its last
// container. The brain exits with its last group.
import { openSync } from 'node:fs';
import type { Hello } from '../gen/tsrun/keeper/v1/keeper_pb.js';
import { messageOf } from '../errors.js';
import { logger } from '../log.js';
import { dup2 } from '../native/index.js';
import { Server } from '../ttrpc/server.js';
import type { GroupArgs } from './args.js';
import { registerCleanupService } from './cleanup-service.js';
import type { ContainerDeps } from './container.js';
import { closeQuietly } from './io/fds.js';
import { KeeperEvents } from './keeper/events.js';
import type { KeeperLink } from './keeper/link.js';
import type { RelayedSocket } from './keeper/relayed-socket.js';
import { Shim } from './shim.js';
import { registerTaskService } from './task-service.js';

/** How long an ending group's calls, and the last group's events, get to finish. */
const FLUSH_MS = 5000;

export interface Group {
  readonly args: GroupArgs;
  readonly server: Server;
  readonly shim: Shim;
  readonly link: KeeperLink;
  /** the group's log fifo, from its keeper */
  readonly logFd?: number;
  ended: boolean;
}

export function groupArgsOf(hello: Hello): GroupArgs {
  const g = hello.group;
  return {
    namespace: g?.namespace ?? '',
    id: g?.id ?? '',
    address: g?.address ?? '',
    publishBinary: g?.publishBinary ?? '',
    socket: g?.socket ?? '',
    debug: g?.debug ?? false,
  };
}

export class Groups {
  readonly #live = new Set<Group>();
  /** whose log fifo fd 2 is: the brain's log lines go to one live group's log */
  #stderr: Group | undefined;
  #closing = false;
  #retiring = false;
  #linger: NodeJS.Timeout | undefined;

  constructor(
    private readonly root: string,
    /** runs when the last group has gone: no keeper may attach any more */
    private readonly onLast: () => void,
    /** how long the brain stays, its code warm, for a next group after its last one */
    private readonly lingerMs = 0,
  ) {}

  get size(): number {
    return this.#live.size;
  }

  /** The last group has gone and the brain is on its way out: a keeper attaching now must
   *  find the next brain (it does, when its connection closes before a welcome). */
  get closing(): boolean {
    return this.#closing;
  }

  /** Serves the group a keeper attached with, and welcomes it. */
  add(link: KeeperLink, hello: Hello, logFd: number | undefined): Group {
    const args = groupArgsOf(hello);
    clearTimeout(this.#linger);
    this.#linger = undefined;
    const server = new Server({ onError: (err) => logger.warn(`ttrpc: ${err.message}`) });
    const deps: ContainerDeps = { namespace: args.namespace, events: new KeeperEvents(link, args.namespace), link, shimPid: hello.keeperPid };
    let group: Group | undefined;
    const shim = new Shim({ namespace: args.namespace, root: this.root }, deps, () => {
      if (group) void this.end(group, 'shutdown with no containers left');
    });
    group = { args, server, shim, link, logFd, ended: false };
    this.#live.add(group);
    if (!this.#stderr && logFd !== undefined) this.#logTo(group);
    registerTaskService(server, shim);
    registerCleanupService(server, shim);
    // A group an earlier brain served comes with its journal: taken over before the keeper
    // relays anything (it holds containerd's requests until the welcome).
    void shim
      .adopt(hello.records)
      .catch((err: unknown) => logger.error(`group ${args.id}: taking it over: ${messageOf(err)}`))
      .then(() => {
        logger.debug(`group ${args.id}: taken over, ${shim.size} containers`);
        link.welcome();
      });
    logger.debug(`serving group ${args.id} at ${args.socket} (keeper ${hello.keeperPid})`);
    return group;
  }

  /** A connection containerd made to the group. */
  connection(group: Group, socket: RelayedSocket): void {
    group.server.handle(socket);
  }

  /** Ends a group: its keeper removes the socket first, so a `start` for it makes a new one. */
  async end(group: Group, why: string): Promise<void> {
    if (group.ended) return;
    group.ended = true;
    logger.debug(`group ${group.args.id}: ${why}`);
    group.link.end();
    await Promise.race([group.server.shutdown(), new Promise((r) => setTimeout(r, FLUSH_MS))]);
    group.server.close();
    group.link.close();
    await this.#remove(group);
  }

  /** The group's keeper is gone, and its containers with it: containerd cleans up after
   *  them (its `delete`), and there is nobody left to report anything to. */
  async lost(group: Group, why: string): Promise<void> {
    if (group.ended) return;
    group.ended = true;
    if (this.#retiring) logger.debug(`group ${group.args.id}: its keeper left for the next brain`);
    else logger.warn(`group ${group.args.id}: keeper lost (${why})`);
    group.server.close();
    group.shim.abandon();
    await this.#remove(group);
  }

  /** An upgrade: every keeper is told to leave this brain for the next one, which takes its
   *  group over from its journal; this brain exits once they all have (or after ms). */
  retireAll(ms: number): void {
    this.#closing = true;
    this.#retiring = true;
    if (this.#live.size === 0) this.#exit();
    for (const g of this.#live) g.link.send({ case: 'retire', value: {} });
    setTimeout(() => this.#exit(), ms).unref();
  }

  /** SIGTERM: every group ends now. */
  async endAll(why: string): Promise<void> {
    if (this.#live.size === 0) return this.#last();
    await Promise.all([...this.#live].map((g) => this.end(g, why)));
  }

  async #remove(group: Group): Promise<void> {
    this.#live.delete(group);
    if (this.#stderr === group) this.#logTo([...this.#live].find((g) => g.logFd !== undefined));
    closeQuietly(group.logFd);
    if (this.#live.size > 0) return;
    // Retiring (an upgrade) or not lingering: it goes as soon as its last group has.
    if (this.#closing || this.lingerMs <= 0) return this.#last();
    // A next container (the next `ctr run` of a script, a pod's next) finds this brain with
    // its code compiled, where a new one would adopt the spare and start the next spare.
    this.#linger = setTimeout(() => {
      if (this.#live.size === 0) this.#last();
    }, this.lingerMs);
  }

  #last(): void {
    this.#closing = true;
    this.onLast();
    this.#exit();
  }

  /** fd 2 becomes the group's log (/dev/null with none): an ended group's log fifo must close,
   *  or containerd, reading it until EOF, would keep its reader. */
  #logTo(group: Group | undefined): void {
    this.#stderr = group;
    if (group?.logFd !== undefined) {
      dup2(group.logFd, 2);
      return;
    }
    const nul = openSync('/dev/null', 'w');
    dup2(nul, 2);
    closeQuietly(nul);
  }

  /** Only the last group's end comes here: no group can come after it (the socket closed).
   *  The events are the keepers' to publish. */
  #exit(): void {
    process.exit(0);
  }
}
