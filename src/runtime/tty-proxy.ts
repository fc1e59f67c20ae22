// A foreground `run` or `exec` with a terminal and no --console-socket: like runc, we take
// the pty master ourselves and wire it to our own stdio (our terminal in raw mode, window
// size followed on SIGWINCH) until the container side closes.
import { closeSync, write } from 'node:fs';
import { getWinsize, recvFd, setWinsize, socketPair, tty } from '../native/index.js';

export interface ConsolePair {
  /** the end tsrun-init sends the master to (give it as the console socket fd) */
  theirs: number;
  ours: number;
}

export function consolePair(): ConsolePair {
  const [ours, theirs] = socketPair();
  return { ours, theirs };
}

export class TtyProxy {
  private readonly done: Promise<void>;
  private rawStdin = false;
  private readonly onWinch = (): void => this.resize();
  private readonly onInput = (d: Buffer): void => write(this.master, d, () => undefined);

  private constructor(private readonly master: number) {
    this.resize();
    const output = new (tty().ReadStream)(master);
    this.done = new Promise((resolve) => {
      output.on('data', (d: Buffer) => process.stdout.write(d));
      // EIO once every slave fd is closed: the container side is gone.
      output.on('error', () => resolve());
      output.on('end', () => resolve());
      output.on('close', () => resolve());
    });
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      this.rawStdin = true;
    }
    process.stdin.on('data', this.onInput);
    process.on('SIGWINCH', this.onWinch);
  }

  /** Receives the master the container's tsrun-init sent on the pair, and starts copying. */
  static attach(pair: ConsolePair): TtyProxy {
    const { fd } = recvFd(pair.ours);
    closeSync(pair.ours);
    return new TtyProxy(fd);
  }

  private resize(): void {
    const size = getWinsize(0) ?? getWinsize(1);
    if (size) setWinsize(this.master, size.rows, size.cols);
  }

  /** Waits for the output to end (bounded, as something in the container may hold the pty). */
  async drain(limitMs = 2000): Promise<void> {
    await Promise.race([this.done, new Promise((r) => setTimeout(r, limitMs).unref())]);
  }

  close(): void {
    process.off('SIGWINCH', this.onWinch);
    process.stdin.off('data', this.onInput);
    if (this.rawStdin) process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stdin.unref?.();
  }
}
