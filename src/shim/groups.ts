// The groups this server process serves. A group (a container, a pod, or a namespace: see
// cpp/shim/grouping.h) has its own socket, ttrpc server and Shim, and ends when containerd
// shuts down its last container; the process, its reaper and its event queue are shared.
// A server that is not a host serves one group; the host (host.ts) gets more handed to it.
// The process exits with its last group.
import { openSync, rmSync } from 'node:fs';
import { messageOf } from '../errors.js';
import { logger } from '../log.js';
import { dup2 } from '../native/shim.js';
import { Server } from '../ttrpc/server.js';
import type { ServerArgs } from './args.js';
import { registerCleanupService } from './cleanup-service.js';
import type { ContainerDeps } from './container.js';
import type { EventQueue } from './events.js';
import type { Reaper } from './exits.js';
import { closeQuietly } from './io/fds.js';
import { SocketListener } from './listener.js';
import { Shim } from './shim.js';
import { registerTaskService } from './task-service.js';

/** How long an ending group's calls, and the last group's events, get to finish. */
const FLUSH_MS = 5000;

interface Group {
  args: ServerArgs;
  server: Server;
  /** the group's log fifo; undefined for the first group, whose log the process got as fd 2 */
  logFd?: number;
  ended: boolean;
}

export interface NewGroup {
  args: ServerArgs;
  listenFd: number;
  logFd?: number;
}

export class Groups {
  readonly #live = new Set<Group>();
  /** whose log fifo fd 2 is: the server's log lines go to one live group's log */
  #stderr: Group | undefined;

  constructor(
    private readonly root: string,
    private readonly events: EventQueue,
    private readonly reaper: Reaper,
    /** runs when the last group has ended: the host socket goes at once */
    private readonly onLast: () => void,
  ) {}

  /** Serves a group; the first one's log is already fd 2 (hasStderr). */
  async add(spec: NewGroup, hasStderr = false): Promise<void> {
    const { args } = spec;
    const server = new Server({ onError: (err) => logger.warn(`ttrpc: ${err.message}`) });
    const group: Group = { args, server, logFd: spec.logFd, ended: false };
    this.#live.add(group);
    if (hasStderr) this.#stderr = group;
    else if (!this.#stderr && group.logFd !== undefined) this.#logTo(group);
    const deps: ContainerDeps = { namespace: args.namespace, events: this.events, reaper: this.reaper };
    const shim = new Shim({ namespace: args.namespace, root: this.root }, deps, () => void this.end(group, 'shutdown with no containers left'));
    registerTaskService(server, shim);
    registerCleanupService(server, shim);
    try {
      server.closeWith(new SocketListener(spec.listenFd, (socket) => server.handle(socket), (message) => logger.warn(message)));
    } catch (err) {
      void this.end(group, `cannot listen: ${messageOf(err)}`);
      throw err;
    }
    logger.debug(`serving group ${args.id} at ${args.socket}`);
  }

  /** Ends a group: its socket goes first, so a `start` for it makes a new one. */
  async end(group: Group, why: string): Promise<void> {
    if (group.ended) return;
    group.ended = true;
    logger.debug(`group ${group.args.id}: ${why}`);
    this.#live.delete(group);
    if (group.args.socket) rmSync(group.args.socket, { force: true });
    const last = this.#live.size === 0;
    if (last) this.onLast();
    await Promise.race([group.server.shutdown(), new Promise((r) => setTimeout(r, FLUSH_MS))]);
    group.server.close();
    if (this.#stderr === group) this.#logTo([...this.#live].find((g) => g.logFd !== undefined));
    closeQuietly(group.logFd);
    if (last) await this.#exit();
  }

  /** SIGTERM: every group ends now. */
  async endAll(why: string): Promise<void> {
    await Promise.all([...this.#live].map((g) => this.end(g, why)));
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

  /** Only the last group's end comes here: no group can come after it (the host closed). */
  async #exit(): Promise<void> {
    if (!(await this.events.flush(FLUSH_MS))) logger.warn(`exiting with ${this.events.pending} events undelivered`);
    this.reaper.stop();
    process.exit(0);
  }
}
