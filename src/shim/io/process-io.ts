// The stdio of one container process (init or exec), from containerd's three strings and
// its terminal flag to the fds the process gets. The group's keeper holds and copies it all
// (cpp/keeper/io.h), so output flows while no brain runs; the brain judges the strings and
// opens their destinations, naming the field at fault, and hands them to the keeper.
//
//   stdin fifo:  our reader, and a writer of ours held until CloseIO (the process must not
//                see EOF before the client has even opened its end)
//   a fifo:      the writer, and a reader of ours held as the runc shim does: the writer
//                never waits for the client, and output written while none reads stays in it
//   a file:      a bare path naming a regular file, or file:// (made, with its directory)
//   binary://:   the keeper starts the logging driver
import { constants, fchownSync, mkdirSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import type { StdioSlot } from '../../api/index.js';
import { Output_Kind } from '../../gen/tsrun/keeper/v1/keeper_pb.js';
import { InvalidArgument, withContext } from '../../errors.js';
import type { KeeperLink } from '../keeper/link.js';
import { closeQuietly, openFifoReader, openFifoWriter } from './fds.js';
import { parseStdio, type StdioTarget } from './uri.js';

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
}

/** Each set of stdio a keeper holds has a number of its own; unique in this brain is enough. */
let nextIo = 1;

interface Opened {
  kind: Output_Kind;
  fds: number[];
}

function openOutput(target: StdioTarget, field: string): Opened {
  if (target.kind === 'null') return { kind: Output_Kind.NONE, fds: [] };
  if (target.kind === 'binary') return { kind: Output_Kind.DRIVER, fds: [] };
  try {
    if (target.kind === 'file') {
      mkdirSync(path.dirname(target.path), { recursive: true, mode: 0o755 });
      return { kind: Output_Kind.FILE, fds: [openSync(target.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644)] };
    }
    if (!statSync(target.path).isFIFO()) return { kind: Output_Kind.FILE, fds: [openSync(target.path, constants.O_WRONLY | constants.O_APPEND)] };
    const hold = openFifoReader(target.path);
    try {
      return { kind: Output_Kind.FIFO, fds: [openFifoWriter(target.path), hold] };
    } catch (err) {
      closeQuietly(hold);
      throw err;
    }
  } catch (err) {
    throw withContext(`${field}: open ${target.path}`, err);
  }
}

export class ProcessIO {
  /** the process's ends (ours to close once the process has its own) */
  #ends: number[];

  private constructor(
    private readonly link: KeeperLink,
    /** the keeper's number for this stdio */
    readonly id: number,
    /** what the process gets as 0, 1, 2; -1 is /dev/null */
    readonly stdio: [number, number, number],
    /** the console socket tsrun-init sends the pty master to (terminal only) */
    readonly consoleSocketFd: number | undefined,
  ) {
    this.#ends = [...stdio, consoleSocketFd ?? -1].filter((fd) => fd >= 0);
  }

  /** What the process gets, as the library's stdio option: /dev/null is 'ignore'. */
  get slots(): [StdioSlot, StdioSlot, StdioSlot] {
    return this.stdio.map((fd) => (fd < 0 ? 'ignore' : fd)) as [StdioSlot, StdioSlot, StdioSlot];
  }

  static async open(link: KeeperLink, req: StdioRequest): Promise<ProcessIO> {
    const stdin = parseStdio(req.stdin, 'stdin');
    if (stdin.kind !== 'null' && stdin.kind !== 'path') throw InvalidArgument.at('stdin', 'must be a fifo path');
    const stdout = parseStdio(req.stdout, 'stdout');
    // A terminal has one output stream; ctr sends no stderr then, others may. A logging
    // driver takes both (containerd names it in both strings).
    const stderr = req.terminal || stdout.kind === 'binary' ? ({ kind: 'null' } as const) : parseStdio(req.stderr, 'stderr');
    if (stderr.kind === 'binary') throw InvalidArgument.at('stderr', 'a logging driver is given as stdout; stderr goes to it too');

    const sent: number[] = [];
    try {
      if (stdin.kind === 'path') {
        try {
          sent.push(openFifoReader(stdin.path));
          sent.push(openFifoWriter(stdin.path));
        } catch (err) {
          throw withContext(`open stdin ${stdin.path}`, err);
        }
      }
      const out = openOutput(stdout, 'stdout');
      sent.push(...out.fds);
      const same = (stdout.kind === 'path' || stdout.kind === 'file') && stderr.kind === stdout.kind && stderr.path === stdout.path;
      const err = same ? { kind: Output_Kind.SAME, fds: [] } : openOutput(stderr, 'stderr');
      sent.push(...err.fds);
      const id = nextIo++;
      const driver =
        stdout.kind === 'binary'
          ? { path: stdout.path, args: stdout.args, env: [`CONTAINER_ID=${req.containerId}`, `CONTAINER_NAMESPACE=${req.namespace}`], v2: stdout.v2 }
          : undefined;
      const { fds } = await link.call(
        'ioOpen',
        { io: id, terminal: req.terminal, stdin: stdin.kind === 'path', stdout: { kind: out.kind }, stderr: { kind: err.kind }, driver },
        sent,
      );
      const [p0 = -1, p1 = -1, p2 = -1, console = -1] = fds;
      const io = new ProcessIO(link, id, [p0, p1, p2], console >= 0 ? console : undefined);
      if (req.uid !== undefined || req.gid !== undefined) {
        for (const fd of io.stdio) if (fd >= 0) fchownSync(fd, req.uid ?? -1, req.gid ?? -1);
      }
      return io;
    } finally {
      // The keeper has its own now.
      for (const fd of sent) closeQuietly(fd);
    }
  }

  /** The stdio the keeper holds as io for a process an earlier brain started. */
  static adopt(link: KeeperLink, id: number): ProcessIO {
    if (id >= nextIo) nextIo = id + 1;
    return new ProcessIO(link, id, [-1, -1, -1], undefined);
  }

  /** The process has its ends: ours go, so that its exit is the keeper's EOF. */
  started(): void {
    for (const fd of this.#ends.splice(0)) closeQuietly(fd);
  }

  /** CloseIO with stdin: the process reads EOF once the client has closed its end too. */
  closeStdin(): void {
    this.link.send({ case: 'closeStdin', value: { io: this.id } });
  }

  resize(width: number, height: number): void {
    this.link.send({ case: 'resize', value: { io: this.id, width, height } });
  }

  /** Everything goes; a logging driver gets its 12 s to finish. */
  async close(): Promise<void> {
    this.started();
    await this.link.call('ioClose', { io: this.id }).catch(() => undefined);
  }
}

