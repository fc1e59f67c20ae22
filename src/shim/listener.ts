// The brain's listening socket (fd 3), where keepers attach, served without net.Server: its
// listen() loads cluster, and cluster loads child_process and dgram, modules held for the
// life of a process that never forks a worker; and a keeper's channel carries fds, which a
// net.Socket cannot. The addon's watcher says when a connection waits, accept4 takes it,
// and the connection's fd goes to whoever serves it.
import { messageOf } from '../errors.js';
import { acceptPending, cancelWatch, whenReadable } from '../native/index.js';
import { closeQuietly } from './io/fds.js';

export class SocketListener {
  #open = true;
  #watch: Promise<void>;

  /** Watches fd at once: a bad fd throws here, before anything is served. */
  constructor(
    private readonly fd: number,
    /** a new connection's fd (close-on-exec), the callee's to close */
    private readonly onConnection: (fd: number) => void,
    private readonly onError: (message: string) => void,
  ) {
    this.#watch = whenReadable(fd);
    void this.#loop().catch((err: unknown) => {
      this.onError(`listening socket: ${messageOf(err)}`);
      this.close();
    });
  }

  async #loop(): Promise<void> {
    for (;;) {
      await this.#watch;
      if (!this.#open) return;
      // Every connection that waits: the watch fires once for any number of them.
      for (let conn = acceptPending(this.fd); conn !== undefined; conn = acceptPending(this.fd)) this.onConnection(conn);
      this.#watch = whenReadable(this.fd);
    }
  }

  /** Stops accepting and closes the socket; connections already taken go on. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    cancelWatch(this.fd);
    closeQuietly(this.fd);
  }
}
