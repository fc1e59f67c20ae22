// A group handed to this process by a launcher (cpp/shim/handover.h has the protocol): what
// a waiting spare and the namespace's host both receive. The fds come in order: the group's
// listening socket, then the bundle's log fifo when `log=1`, then the host socket when
// `host=` names one.
import { writeSync } from 'node:fs';
import type { Adoption } from '../native/shim.js';
import { parseServerArgs, type ServerArgs } from './args.js';
import { closeQuietly } from './io/fds.js';

/** Must match kAdoptMagic in cpp/shim/handover.h. */
export const ADOPT_MAGIC = 'tsrun-adopt-1';

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
  args: ServerArgs;
  /** the group's listening socket */
  listenFd: number;
  logFd?: number;
  hostFd?: number;
  /** containerd's environment */
  env: string[];
  /** containerd's oom_score_adj + 1, "" when the launcher could not read it */
  oom: string;
  /** the launcher's connection, answered by accept() */
  conn: number;
}

function serverArgsOf(fields: Map<string, string>): ServerArgs {
  const argv: string[] = [];
  for (const key of ['namespace', 'id', 'address', 'publish-binary', 'socket', 'host']) argv.push(`-${key}=${fields.get(key) ?? ''}`);
  if (fields.get('debug') === '1') argv.push('-debug');
  return parseServerArgs(argv);
}

/** The hand-over in a connection, or undefined (all it brought closed) when it is not one of
 *  our launchers'. */
export function readHandover(got: Adoption): Handover | undefined {
  const message = parseAdoption(got.data);
  let args: ServerArgs | undefined;
  try {
    args = message && serverArgsOf(message.fields);
  } catch {
    args = undefined;
  }
  const withLog = message?.fields.get('log') === '1';
  const fds = [...got.fds];
  const listenFd = fds.shift();
  const logFd = withLog ? fds.shift() : undefined;
  const hostFd = args?.host ? fds.shift() : undefined;
  const complete = listenFd !== undefined && (!withLog || logFd !== undefined) && (!args?.host || hostFd !== undefined);
  if (!message || !args || !complete || fds.length > 0) {
    for (const fd of [got.conn, ...got.fds]) closeQuietly(fd);
    return undefined;
  }
  return { args, listenFd, logFd, hostFd, env: message.env, oom: message.fields.get('oom') ?? '', conn: got.conn };
}

/** Declines the hand-over: everything it brought is closed, and the launcher, seeing no
 *  answer, serves the group another way. */
export function refuse(h: Handover): void {
  for (const fd of [h.conn, h.listenFd, h.logFd, h.hostFd]) closeQuietly(fd);
}

/** Answers the launcher: the group is ours. False, and the hand-over refused, when the
 *  launcher gave up waiting (it serves the group another way). */
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
