// A foreground `run` or `exec` with a terminal and no --console-socket: like runc, tsrun
// holds the pty master and wires it to its own stdio (its terminal in raw mode, the window
// size followed on SIGWINCH) until the container side closes.
import type { Terminal } from '../api/terminal.js';

export class TtyProxy {
  #rawStdin = false;
  readonly #onWinch = (): void => this.#resize();
  readonly #onInput = (d: Buffer): void => {
    this.term.write(d);
  };

  constructor(private readonly term: Terminal) {
    this.#resize();
    term.on('data', (d: Buffer) => process.stdout.write(d));
    term.on('error', () => undefined);
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      this.#rawStdin = true;
    }
    process.stdin.on('data', this.#onInput);
    process.on('SIGWINCH', this.#onWinch);
  }

  #resize(): void {
    if (!this.term.resizeLike(0)) this.term.resizeLike(1);
  }

  close(): void {
    process.off('SIGWINCH', this.#onWinch);
    process.stdin.off('data', this.#onInput);
    if (this.#rawStdin) process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stdin.unref?.();
  }
}
