// ended(): the drain before an exit is reported waits on it, so it must not resolve before
// the process's output has reached EOF. A read-only net.Socket (what the shim reads a
// pipe's or fifo's read end through) reports its writable side finished from the start,
// which once made ended() resolve at once and let a fast exit overtake its own output.
import { execFileSync } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ended, openFifoReader, openFifoWriter, readStream } from '../../../src/shim/io/fds.js';
import { tempDirsPerTest } from '../../helpers/temp-dirs.js';

const tempDir = tempDirsPerTest('fds-ended');

function fifo(): { stream: ReturnType<typeof readStream>; writer: number } {
  const file = path.join(tempDir(), 'out');
  execFileSync('mkfifo', [file]);
  const stream = readStream(openFifoReader(file));
  return { stream, writer: openFifoWriter(file) };
}

describe('ended', () => {
  it('waits for EOF on a read-only socket, and the data comes first', async () => {
    const { stream, writer } = fifo();
    expect(stream.writableFinished).toBe(true); // what fooled it
    let got = '';
    stream.on('data', (d: Buffer) => (got += d.toString()));
    setTimeout(() => {
      writeSync(writer, 'tail\n');
      closeSync(writer);
    }, 300);
    const started = Date.now();
    await ended(stream, 5000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(got).toBe('tail\n');
  });

  it('gives up after ms when EOF does not come, and resolves at once for an ended stream', async () => {
    const { stream, writer } = fifo();
    stream.resume();
    const started = Date.now();
    await ended(stream, 200);
    expect(Date.now() - started).toBeLessThan(2000);
    closeSync(writer);
    await new Promise((r) => stream.once('close', r));
    await ended(stream, 60_000);
  });
});
