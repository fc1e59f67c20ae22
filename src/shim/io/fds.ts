// Raw fds as Node streams. Pipes and fifos become net.Sockets, so reads and writes go through
// libuv's event loop: blocking reads in the thread pool would stall every other container
// of the server once four of them wait.
import { closeSync, constants, openSync } from 'node:fs';
import net from 'node:net';

export function closeQuietly(fd: number | undefined): void {
  if (fd === undefined || fd < 0) return;
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

export function readStream(fd: number): net.Socket {
  const s = new net.Socket({ fd, readable: true, writable: false, allowHalfOpen: true });
  s.on('error', () => undefined);
  return s;
}

export function writeStream(fd: number): net.Socket {
  const s = new net.Socket({ fd, readable: false, writable: true });
  s.on('error', () => undefined);
  return s;
}

/** Opens a fifo for reading without waiting for a writer. */
export function openFifoReader(path: string): number {
  return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
}

/** Opens a fifo for writing; someone (usually ourselves) must hold a reader, or this fails with ENXIO. */
export function openFifoWriter(path: string): number {
  return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
}

/** Resolves when a readable stream has ended (EOF read, or closed), or after ms, whichever
 *  is first. Only the readable side counts: a read-only net.Socket reports its writable
 *  side finished from the start. */
export function ended(stream: NodeJS.ReadableStream, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const s = stream as net.Socket;
    if (s.destroyed || s.readableEnded) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      s.off('end', done);
      s.off('close', done);
      resolve();
    }
    s.once('end', done);
    s.once('close', done);
  });
}
