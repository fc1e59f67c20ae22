import { closeSync, writeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventfd, watchEventfd } from '../../src/native/index.js';

function signal(fd: number, n: bigint): void {
  writeSync(fd, new Uint8Array(new BigUint64Array([n]).buffer));
}

function nextEvent(events: number[], count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = (): void => {
      if (events.length >= count) resolve();
      else if (Date.now() - started > 5000) reject(new Error(`only ${events.length} events`));
      else setTimeout(check, 5);
    };
    check();
  });
}

describe('watchEventfd', () => {
  it('reports each signal with the count taken, until stopped', async () => {
    const fd = eventfd();
    const events: number[] = [];
    const stop = watchEventfd(fd, (n) => events.push(n));
    try {
      signal(fd, 3n);
      await nextEvent(events, 1);
      signal(fd, 1n);
      await nextEvent(events, 2);
      expect(events).toEqual([3, 1]);
    } finally {
      stop();
    }
    signal(fd, 1n);
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual([3, 1]);
    closeSync(fd);
  });

  it('ends with -errno when the fd cannot be watched', async () => {
    const events: number[] = [];
    watchEventfd(999_999, (n) => events.push(n)); // far above any fd this process has open
    await nextEvent(events, 1);
    expect(events).toEqual([-9]); // EBADF
  });
});
