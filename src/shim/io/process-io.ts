// The stdio of one container process (init or exec), from containerd's three strings and
// its terminal flag to the fds the runtime hands the process, and back.
//
//   no terminal: stdin fifo -> pipe -> process; process -> pipes -> fifo or file
//                (binary://: process -> the driver's pipes, no copy of ours)
//   terminal:    the runtime sends the pty master to our console socket; stdin fifo ->
//                master; master -> fifo, file or driver
//
// Output is drained before the exit is reported: drain() waits (bounded) for EOF on what
// we copy, since the client stops reading once it hears of the exit.
import type { ChildProcess } from 'node:child_process';
import { fchownSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { InvalidArgument } from '../../errors.js';
import { pipe } from '../../native/index.js';
import { Console, ConsoleSocket } from './console.js';
import { closeQuietly, ended, readStream, writeStream } from './fds.js';
import { LogDriver } from './log-driver.js';
import { openSink, type Sink } from './sinks.js';
import { StdinFifo } from './stdin.js';
import { parseStdio, type StdioTarget } from './uri.js';

/** How long a sink may take to flush what is queued when the process is deleted. */
const CLOSE_TIMEOUT_MS = 2000;
/** How long drain() waits for output already read to reach its destination. */
const FLUSH_MS = 10_000;

export interface StdioRequest {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
  containerId: string;
  namespace: string;
  /** owner of the process's ends of the pipes (runc Options io_uid/io_gid) */
  uid?: number;
  gid?: number;
  /** each child process we start (a logging driver), for the reaper */
  onSpawn: (child: ChildProcess) => void;
}

export class ProcessIO {
  /** What the process gets as 0, 1, 2; -1 is /dev/null. */
  readonly stdio: [number, number, number] = [-1, -1, -1];
  /** The console socket the runtime sends the pty master to (terminal only). */
  readonly consoleSocket: string | undefined;

  #consoleSocket: ConsoleSocket | undefined;
  #console: Console | undefined;
  #stdin: StdinFifo | undefined;
  #driver: LogDriver | undefined;
  readonly #sinks: Sink[] = [];
  /** Streams whose end means the process's output is all copied. */
  readonly #copies: Readable[] = [];
  /** Our copies of the process's ends, closed once the runtime has handed them over. */
  readonly #processEnds: number[] = [];
  #stdinWriter: NodeJS.WritableStream | undefined;
  readonly #stdout: StdioTarget;
  readonly #stderr: StdioTarget;
  readonly #stdinPath: string | undefined;

  private constructor(private readonly req: StdioRequest) {
    const stdin = parseStdio(req.stdin, 'stdin');
    if (stdin.kind !== 'null' && stdin.kind !== 'path') throw InvalidArgument.at('stdin', 'must be a fifo path');
    this.#stdinPath = stdin.kind === 'path' ? stdin.path : undefined;
    this.#stdout = parseStdio(req.stdout, 'stdout');
    // A terminal has one output stream; ctr sends no stderr then, others may.
    this.#stderr = req.terminal ? { kind: 'null' } : parseStdio(req.stderr, 'stderr');
    if (req.terminal) {
      this.#consoleSocket = new ConsoleSocket();
      this.consoleSocket = this.#consoleSocket.path;
    }
  }

  static async open(req: StdioRequest): Promise<ProcessIO> {
    const io = new ProcessIO(req);
    try {
      await io.#setUp();
      return io;
    } catch (err) {
      await io.close();
      throw err;
    }
  }

  async #setUp(): Promise<void> {
    const out = this.#stdout;
    if (out.kind === 'binary') {
      this.#driver = await LogDriver.start(out, { containerId: this.req.containerId, namespace: this.req.namespace }, this.req.onSpawn);
      if (!this.req.terminal) {
        this.stdio[1] = this.#driver.stdout;
        this.stdio[2] = this.#driver.stderr;
      }
    } else if (!this.req.terminal) {
      this.#outputs(out, this.#stderr);
    }
    if (this.#stdinPath !== undefined) {
      this.#stdin = new StdinFifo(this.#stdinPath);
      if (!this.req.terminal) {
        const [r, w] = pipe();
        this.#processEnds.push(r);
        this.stdio[0] = r;
        const writer = writeStream(w);
        this.#stdinWriter = writer;
        this.#stdin.stream.pipe(writer);
      }
    }
    if (this.req.uid !== undefined || this.req.gid !== undefined) {
      for (const fd of this.stdio) if (fd >= 0) fchownSync(fd, this.req.uid ?? -1, this.req.gid ?? -1);
    }
  }

  /** Pipes for stdout and stderr into their sinks (one sink when both name the same place). */
  #outputs(stdout: StdioTarget, stderr: StdioTarget): void {
    const same =
      (stdout.kind === 'path' || stdout.kind === 'file') && stderr.kind === stdout.kind && stderr.path === stdout.path;
    let outSink: Sink | undefined;
    if (stdout.kind === 'path' || stdout.kind === 'file') {
      outSink = openSink(stdout, same ? 2 : 1);
      this.#sinks.push(outSink);
      this.stdio[1] = this.#copyInto(outSink);
    }
    if (stderr.kind === 'path' || stderr.kind === 'file') {
      let errSink = same ? outSink : undefined;
      if (!errSink) {
        errSink = openSink(stderr, 1);
        this.#sinks.push(errSink);
      }
      this.stdio[2] = this.#copyInto(errSink);
    } else if (stderr.kind === 'binary') {
      throw InvalidArgument.at('stderr', 'a logging driver is given as stdout; stderr goes to it too');
    }
  }

  /** A pipe whose read end we copy into sink; returns the write end, for the process. */
  #copyInto(sink: Sink): number {
    const [r, w] = pipe();
    this.#processEnds.push(w);
    const source = readStream(r);
    this.#copies.push(source);
    source.pipe(sink.stream, { end: false });
    source.once('end', () => sink.release());
    return w;
  }

  /**
   * The runtime has started the process: drop our copies of its ends (so its exit is our
   * EOF), and take over the terminal.
   */
  started(): void {
    for (const fd of this.#processEnds.splice(0)) closeQuietly(fd);
    if (!this.req.terminal) {
      this.#driver?.releaseStdout();
      this.#driver?.releaseStderr();
      return;
    }
    const socket = this.#consoleSocket;
    this.#consoleSocket = undefined;
    if (!socket) return;
    const tty = new Console(socket.receive());
    this.#console = tty;
    const out = this.#stdout;
    if (out.kind === 'binary' && this.#driver) {
      tty.stream.pipe(writeStream(this.#driver.takeStdout()));
      this.#driver.releaseStderr();
    } else if (out.kind === 'path' || out.kind === 'file') {
      const sink = openSink(out, 1);
      this.#sinks.push(sink);
      tty.stream.pipe(sink.stream, { end: false });
      tty.stream.once('close', () => sink.release());
    } else {
      tty.stream.resume();
    }
    this.#copies.push(tty.stream);
    if (this.#stdin) {
      this.#stdin.stream.pipe(tty.stream, { end: false });
      // Like the runc shim: stdin's end hangs up the terminal.
      this.#stdin.stream.once('end', () => tty.close());
    }
  }

  /** CloseIO with stdin: the process reads EOF once the client has closed its end too. */
  closeStdin(): void {
    this.#stdin?.closeHeld();
  }

  resize(width: number, height: number): void {
    this.#console?.resize(width, height);
  }

  /**
   * Waits until what the process wrote is copied out: EOF on its pipes at most ms (a
   * background process may hold them open), then, for each destination all of whose
   * writers reached EOF, until what was read is written (at most FLUSH_MS: a fifo nobody
   * reads may never take it). A loaded machine must not cost the tail of the output.
   */
  async drain(ms: number): Promise<void> {
    await Promise.all(this.#copies.map((s) => ended(s, ms)));
    await Promise.all(
      this.#sinks.filter((s) => s.released).map((s) => Promise.race([s.closed, new Promise((r) => setTimeout(r, FLUSH_MS))])),
    );
  }

  /** Closes everything; the logging driver gets its 12 s to finish. */
  async close(): Promise<void> {
    this.#consoleSocket?.close();
    this.#consoleSocket = undefined;
    this.#stdin?.destroy();
    for (const fd of this.#processEnds.splice(0)) closeQuietly(fd);
    for (const s of this.#copies) s.destroy();
    (this.#stdinWriter as { destroy?: () => void } | undefined)?.destroy?.();
    this.#console?.close();
    for (const s of this.#sinks) s.finish();
    await Promise.all(
      this.#sinks.map((s) => Promise.race([s.closed, new Promise((r) => setTimeout(r, CLOSE_TIMEOUT_MS)).then(() => s.destroy())])),
    );
    await this.#driver?.stop();
  }
}
