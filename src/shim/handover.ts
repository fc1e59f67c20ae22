// A brain socket handed to this waiting spare (cpp/shim/handover.h has the protocol). The
// fds come in order: the brain's listening socket, then a log fd when `log=1`.
import { writeSync } from 'node:fs';
import type { Adoption } from '../native/index.js';
import { parseBrainArgs, type BrainArgs } from './args.js';
import { closeQuietly } from './io/fds.js';

/** Must match kAdoptMagic in cpp/shim/handover.h. */
export const ADOPT_MAGIC = 'tsrun-adopt-2';

interface Message {
  fields: Map<string, string>;
  env: string[];
}

/** NUL-terminated items: the magic, key=value fields, an empty item, the environment. */
export function parseAdoption(data: Buffer): Message | undefined {
  const items = data.toString('utf8').split('\0');
  if (items.pop() !== '' || items[0] !== ADOPT_MAGIC) return undefined;
  const end = items.indexOf('', 1);
  if (end < 0) return undefined;
  const fields = new Map<string, string>();
  for (const item of items.slice(1, end)) {
    const eq = item.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return { fields, env: items.slice(end + 1) };
}

export interface Handover {
  args: BrainArgs;
  /** the brain's listening socket */
  listenFd: number;
  logFd?: number;
  /** containerd's environment */
  env: string[];
  /** containerd's oom_score_adj + 1, "" when the sender had none to give */
  oom: string;
  /** the sender's connection, answered by accept() */
  conn: number;
}

function brainArgsOf(fields: Map<string, string>): BrainArgs {
  const argv: string[] = [];
  for (const key of ['brain', 'namespace', 'address', 'publish-binary']) argv.push(`-${key}=${fields.get(key) ?? ''}`);
  if (fields.get('debug') === '1') argv.push('-debug');
  return parseBrainArgs(argv);
}

/** The hand-over in a connection, or undefined (all it brought closed) when it is not one
 *  of ours. */
export function readHandover(got: Adoption): Handover | undefined {
  const message = parseAdoption(got.data);
  let args: BrainArgs | undefined;
  try {
    args = message && brainArgsOf(message.fields);
  } catch {
    args = undefined;
  }
  const withLog = message?.fields.get('log') === '1';
  const fds = [...got.fds];
  const listenFd = fds.shift();
  const logFd = withLog ? fds.shift() : undefined;
  const complete = listenFd !== undefined && (!withLog || logFd !== undefined);
  if (!message || !args || !complete || fds.length > 0) {
    for (const fd of [got.conn, ...got.fds]) closeQuietly(fd);
    return undefined;
  }
  return { args, listenFd, logFd, env: message.env, oom: message.fields.get('oom') ?? '', conn: got.conn };
}

/** Declines the hand-over: everything it brought is closed, and the sender, seeing no
 *  answer, starts a brain another way. */
export function refuse(h: Handover): void {
  for (const fd of [h.conn, h.listenFd, h.logFd]) closeQuietly(fd);
}

/** Answers the sender: the brain socket is ours. False, and the hand-over refused, when
 *  the sender gave up waiting (it starts a brain another way). */
export function accept(h: Handover): boolean {
  try {
    writeSync(h.conn, '1');
  } catch {
    refuse(h);
    return false;
  }
  closeQuietly(h.conn);
  return true;
}
