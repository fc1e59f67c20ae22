// A terminal's output to the last byte: whoever copies the pty master must read it until it
// says EIO (no slave left) and finish before the exit is reported, or the client, which
// stops reading once it hears of the exit, loses the tail. (A Node tty.ReadStream lost the
// last 1.5-13 KB of 6.9 MB in most runs: EIO destroyed it with chunks still held back.)
import { describe, expect, it } from 'vitest';
import { containerId, IMAGE, shimContainerdForFile, TS } from '../helpers/shim.js';

// Each round is ~5 s of pty traffic (as long under runc's shim): `npm test` runs 3, the
// acceptance run TSRUN_TTY_ROUNDS=20.
const ROUNDS = Number(process.env.TSRUN_TTY_ROUNDS ?? 3);
const LAST = 1_000_000;
const shim = shimContainerdForFile();

/** The last number a run printed: the output as a pty gives it, \r\n line ends. */
function lastLine(out: string): string {
  return out.trimEnd().split(/\r?\n/).pop() ?? '';
}

describe(`a terminal's output, ${ROUNDS} times 1..${LAST}`, () => {
  it('ends with the last number under ctr task exec -t', async () => {
    const id = containerId('tty-exec');
    expect((await shim().ctrRun(['run', '-d', '--runtime', TS, IMAGE, id, 'sleep', '100000'])).code).toBe(0);
    try {
      for (let i = 0; i < ROUNDS; i++) {
        const r = await shim().ctrRun(['task', 'exec', '-t', '--exec-id', `seq${i}`, id, 'seq', '1', String(LAST)], { tty: true, timeoutMs: 120_000 });
        expect(r.code, `round ${i}: ${r.stderr}`).toBe(0);
        expect(lastLine(r.stdout), `round ${i}: ${r.stdout.length} bytes`).toBe(String(LAST));
      }
    } finally {
      await shim().ctrRun(['task', 'kill', '-s', 'SIGKILL', id]);
      await shim().waitEvent(id, '/tasks/exit');
      await shim().ctrRun(['task', 'delete', id]);
      await shim().ctrRun(['container', 'rm', id]);
    }
  }, 60_000 + ROUNDS * 60_000);

  it('ends with the last number under ctr run -t', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const id = containerId(`tty-run${i}`);
      const r = await shim().run(TS, id, ['seq', '1', String(LAST)], { tty: true, flags: ['-t'], timeoutMs: 120_000 });
      expect(r.code, `round ${i}: ${r.stderr}`).toBe(0);
      expect(lastLine(r.stdout), `round ${i}: ${r.stdout.length} bytes`).toBe(String(LAST));
    }
  }, 60_000 + ROUNDS * 60_000);
});
