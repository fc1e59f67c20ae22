// A container's (or an exec'd process's) stdin, stdout and stderr, as child_process's
// `stdio` option says them: 'pipe' gives this program a stream for the slot, 'inherit' hands
// over this program's own fd, 'ignore' is /dev/null, a number is an fd of this program.
//
// Our ends of the pipes become streams only once the container holds its ends: a create
// that fails closes every fd it opened, and a stream is never left for the caller to close.
import { closeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { InvalidArgument } from '../errors.js';
import { net as netModule, pipe } from '../native/index.js';
import { invocation } from '../runtime/invocation.js';

export type StdioKind = 'pipe' | 'inherit' | 'ignore';
export type StdioSlot = StdioKind | number;
export type StdioOption = StdioKind | readonly [StdioSlot, StdioSlot, StdioSlot];

export interface StdioStreams {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
}

/** tsrun-init makes -1 /dev/null. */
const DEV_NULL = -1;

export class Stdio {
  /** the fds the container gets as 0, 1 and 2 */
  readonly fds: [number, number, number];
  /** our ends of the pipes, by slot */
  readonly #ours: (number | undefined)[] = [];
  /** the container's ends, ours to close once it has them */
  readonly #theirs: number[] = [];

  private constructor(option: StdioOption, field: string, pipesAllowed: boolean) {
    const slots = typeof option === 'string' ? [option, option, option] : option;
    if (!Array.isArray(slots) || slots.length !== 3) throw InvalidArgument.at(field, "must be 'pipe', 'inherit', 'ignore' or an array of three of them (or fds)");
    const fds: number[] = [];
    try {
      slots.forEach((slot: StdioSlot, i: number) => fds.push(this.#open(slot, i, `${field}[${i}]`, pipesAllowed)));
    } catch (err) {
      this.close();
      throw err;
    }
    this.fds = fds as [number, number, number];
  }

  /**
   * Opens the pipes `option` asks for. Without pipesAllowed ('pipe' where a terminal
   * takes the place of stdio) a 'pipe' slot becomes /dev/null.
   */
  static open(option: StdioOption | undefined, field = 'stdio', pipesAllowed = true): Stdio {
    return new Stdio(option ?? 'pipe', field, pipesAllowed);
  }

  #open(slot: StdioSlot, index: number, field: string, pipesAllowed: boolean): number {
    if (typeof slot === 'number') {
      if (!Number.isInteger(slot) || slot < 0) throw InvalidArgument.at(field, `${slot} is not a file descriptor`);
      return slot;
    }
    switch (slot) {
      case 'inherit':
        // this program's own: the caller's when the CLI server runs a call for it
        return invocation().stdio[index] ?? index;
      case 'ignore':
        return DEV_NULL;
      case 'pipe': {
        if (!pipesAllowed) return DEV_NULL;
        const [r, w] = pipe();
        const [ours, theirs] = index === 0 ? [w, r] : [r, w];
        this.#ours[index] = ours;
        this.#theirs.push(theirs);
        return theirs;
      }
      default:
        throw InvalidArgument.at(field, `${JSON.stringify(slot)} is not 'pipe', 'inherit', 'ignore' or a file descriptor`);
    }
  }

  /** The container holds its ends now: ours become streams, theirs are closed. */
  handedOver(): StdioStreams {
    this.#closeTheirs();
    const net = this.#ours.some((fd) => fd !== undefined) ? netModule() : undefined;
    const stream = (i: number, readable: boolean) => {
      const fd = this.#ours[i];
      if (fd === undefined || !net) return null;
      this.#ours[i] = undefined;
      return new net.Socket({ fd, readable, writable: !readable });
    };
    return { stdin: stream(0, false), stdout: stream(1, true), stderr: stream(2, true) };
  }

  /** A create or exec that failed: every fd we opened is closed. */
  close(): void {
    this.#closeTheirs();
    for (const fd of this.#ours.splice(0)) if (fd !== undefined) closeSync(fd);
  }

  #closeTheirs(): void {
    for (const fd of this.#theirs.splice(0)) closeSync(fd);
  }
}
