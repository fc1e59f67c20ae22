// Writing to stdout and stderr by fd. Node's process.stdout would switch a pipe to
// non-blocking mode, and that flag lives on the open file, which containers share with us.
import { writeSync } from 'node:fs';
import { invocation } from '../api/invocation.js';

function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
      throw err;
    }
  }
}

export const out = (text: string): void => writeAll(invocation().stdio[1], text);
export const err = (text: string): void => writeAll(invocation().stdio[2], text);
