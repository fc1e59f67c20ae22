// The namespace's host (cpp/shim/host.h): this server also listens on the host socket, and
// every launcher that starts a new group of our containerd and namespace hands the group to
// it there. Hand-overs are taken on the event loop as they come; the host socket goes
// (unlinked, then closed) when the last group has ended, so that the next group's launcher
// makes a new host rather than handing its group to one on its way out.
import { unlinkSync } from 'node:fs';
import { logger } from '../log.js';
import { messageOf } from '../errors.js';
import { cancelWatch, whenReadable } from '../native/index.js';
import { takeAdoption } from '../native/shim.js';
import { accept, readHandover, refuse, type Handover } from './handover.js';
import { closeQuietly } from './io/fds.js';

export class Host {
  #open = true;

  constructor(
    /** the host socket's path, which only we can have bound while we listen */
    private readonly path: string,
    private readonly fd: number,
    private readonly namespace: string,
    private readonly address: string,
    /** takes the group; called in the same turn the launcher is told so */
    private readonly onGroup: (h: Handover) => void,
  ) {}

  start(): void {
    void this.#loop().catch((err: unknown) => {
      logger.error(`host socket: ${messageOf(err)}; new groups get servers of their own`);
      this.close();
    });
  }

  async #loop(): Promise<void> {
    while (this.#open) {
      await whenReadable(this.fd);
      if (!this.#open) return;
      // Ready: one connection at most, and the launcher sent all of it before waiting.
      const got = takeAdoption(this.fd, 0);
      if (!got) continue;
      const h = readHandover(got);
      if (!h) continue;
      // The socket's name holds our containerd and namespace: anything else is no launcher's.
      if (h.args.namespace !== this.namespace || h.args.address !== this.address || h.hostFd !== undefined) {
        logger.warn(`host socket: refused a group of namespace ${h.args.namespace} at ${h.args.address}`);
        refuse(h);
        continue;
      }
      if (accept(h)) this.onGroup(h);
    }
  }

  /** No more groups: our path goes before our socket, so no launcher can find it served by
   *  a host that is going (one already waiting in the backlog is refused by the close). */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      unlinkSync(this.path);
    } catch {
      // gone already
    }
    cancelWatch(this.fd);
    closeQuietly(this.fd);
  }
}
