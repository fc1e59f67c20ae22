// start's read of the exec fifo (src/runtime/start.ts), with this process as the init's end.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mkfifo } from '../../../src/native/index.js';
import { readToEnd } from '../../../src/runtime/start.js';
import { tempDirsPerTest } from '../../helpers/temp-dirs.js';

const tempDir = tempDirsPerTest('fifo');

function fifo(): string {
  const p = path.join(tempDir(), 'exec.fifo');
  mkfifo(p, 0o600);
  return p;
}

const reader = (p: string): number => openSync(p, constants.O_RDONLY | constants.O_NONBLOCK);

describe('readToEnd', () => {
  it('reads what the writer wrote, in pieces, until it closes its end', async () => {
    const p = fifo();
    const fd = reader(p);
    try {
      const reading = readToEnd(fd, () => true);
      const w = openSync(p, constants.O_WRONLY);
      writeSync(w, '0');
      await new Promise((r) => setTimeout(r, 20));
      writeSync(w, 'hook failed');
      closeSync(w);
      expect(await reading).toEqual({ data: Buffer.from('0hook failed'), died: false });
    } finally {
      closeSync(fd);
    }
  });

  it('does not take a fifo nobody has opened yet for one that was closed', async () => {
    const p = fifo();
    const fd = reader(p);
    try {
      let settled = false;
      const reading = readToEnd(fd, () => true).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 50));
      expect(settled).toBe(false);
      const w = openSync(p, constants.O_WRONLY);
      writeSync(w, '0');
      closeSync(w);
      expect((await reading).data.toString()).toBe('0');
    } finally {
      closeSync(fd);
    }
  });

  it('gives up with nothing read once the writer is gone without ever opening its end', async () => {
    const p = fifo();
    const fd = reader(p);
    let alive = true;
    try {
      const reading = readToEnd(fd, () => alive);
      await new Promise((r) => setTimeout(r, 30));
      alive = false;
      expect(await reading).toEqual({ data: Buffer.alloc(0), died: true });
    } finally {
      closeSync(fd);
    }
  });
});
