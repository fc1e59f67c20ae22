// The group's journal: what a new brain needs to take a group over when the one serving it
// has died or retired. The brain writes a line per container and per exec to its keeper
// (keeper.proto Record), in the same commit as the events and exit acknowledgements of the
// same moment, so the journal, the events published and the exits handled always agree; the
// keeper hands the lines to the next brain with its hello. Lines are JSON, versioned: a
// brain of a later build reads what an earlier one wrote.
import type { ProcessSpec } from '../oci/spec.js';
import type { KeeperLink } from './keeper/link.js';
import type { ShimOptions } from './options.js';
import type { ProcessStatus, Stdio } from './process.js';

export const JOURNAL_VERSION = 1;

/** A step the transition table does not see, under way when the line was written. */
export type Pending = 'create' | 'start' | 'delete';

export interface ProcessLine {
  v: number;
  status: ProcessStatus;
  pending?: Pending;
  /** 0 until tsrun-init has said it */
  pid: number;
  exitStatus: number;
  /** ISO time of the exit */
  exitedAt?: string;
  /** the keeper's number for its stdio */
  io: number;
  stdio: Stdio;
}

export interface ContainerLine extends ProcessLine {
  id: string;
  bundle: string;
  /** <bundle>/rootfs when the shim mounted it */
  mounted?: string;
  options: ShimOptions;
}

export interface ExecLine extends ProcessLine {
  containerId: string;
  execId: string;
  spec: ProcessSpec;
}

/** A line's process state, as the transition table takes it back (Process.restore). */
export function processState(line: ProcessLine): { status: ProcessStatus; pid: number; exitStatus: number; exitedAt: Date | undefined } {
  return { status: line.status, pid: line.pid, exitStatus: line.exitStatus, exitedAt: line.exitedAt ? new Date(line.exitedAt) : undefined };
}

export const containerKey = (id: string): string => `c/${id}`;
export const execKey = (id: string, execId: string): string => `x/${id}/${execId}`;

// A spec read as Go reads JSON holds int64s as BigInts, which JSON cannot write as such.
const BIGINT = '$bigint';
const replacer = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? { [BIGINT]: value.toString() } : value);
const reviver = (_key: string, value: unknown): unknown =>
  value !== null && typeof value === 'object' && typeof (value as Record<string, unknown>)[BIGINT] === 'string' && Object.keys(value).length === 1
    ? BigInt((value as Record<string, string>)[BIGINT] as string)
    : value;

/** A line as the keeper keeps it. */
export function encodeLine(line: ProcessLine): Uint8Array {
  return Buffer.from(JSON.stringify(line, replacer));
}

export class Journal {
  constructor(private readonly link: KeeperLink) {}

  write(key: string, line: ProcessLine): void {
    this.link.record(key, encodeLine(line));
  }

  forget(key: string): void {
    this.link.forget(key);
  }
}

export interface Adopted {
  containers: ContainerLine[];
  /** by container id */
  execs: Map<string, ExecLine[]>;
  /** lines a later journal version wrote, or that do not parse: left alone */
  unread: string[];
}

/** The lines a keeper kept, as containers and their execs. */
export function readJournal(records: ReadonlyArray<{ key: string; value: Uint8Array }>): Adopted {
  const out: Adopted = { containers: [], execs: new Map(), unread: [] };
  for (const { key, value } of records) {
    let line: ProcessLine;
    try {
      line = JSON.parse(Buffer.from(value).toString('utf8'), reviver) as ProcessLine;
    } catch {
      out.unread.push(key);
      continue;
    }
    if (line.v !== JOURNAL_VERSION) {
      out.unread.push(key);
    } else if (key.startsWith('c/')) {
      out.containers.push(line as ContainerLine);
    } else if (key.startsWith('x/')) {
      const x = line as ExecLine;
      const list = out.execs.get(x.containerId) ?? [];
      list.push(x);
      out.execs.set(x.containerId, list);
    } else {
      out.unread.push(key);
    }
  }
  return out;
}
