// Raw fds of the brain's: closing them quietly, and opening a client's fifo without waiting
// for the other side (the keeper copies through them; cpp/keeper/io.h).
import { closeSync, constants, openSync } from 'node:fs';

export function closeQuietly(fd: number | undefined): void {
  if (fd === undefined || fd < 0) return;
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/** Opens a fifo for reading without waiting for a writer. */
export function openFifoReader(path: string): number {
  return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
}

/** Opens a fifo for writing; someone (usually ourselves) must hold a reader, or this fails with ENXIO. */
export function openFifoWriter(path: string): number {
  return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
}
