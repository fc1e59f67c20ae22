// What containerd's stdio strings mean (runc shim's reading of them): empty is no stream, a
// bare path is a fifo the client made (or a regular file), file:// a file to append to, and
// binary:// a logging driver fed through pipes.
import { InvalidArgument } from '../../errors.js';

export type StdioTarget =
  | { kind: 'null' }
  | { kind: 'path'; path: string }
  | { kind: 'file'; path: string }
  | { kind: 'binary'; path: string; args: string[]; v2: boolean };

export function parseStdio(value: string, field: string): StdioTarget {
  if (value === '') return { kind: 'null' };
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (!value.startsWith('/')) throw InvalidArgument.at(field, `${JSON.stringify(value)} is not an absolute path`);
    return { kind: 'path', path: value };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw InvalidArgument.at(field, `${JSON.stringify(value)} is not a valid URI`);
  }
  const path = decodeURIComponent(url.pathname);
  if (scheme === 'file') {
    if (!path.startsWith('/')) throw InvalidArgument.at(field, `${JSON.stringify(value)} needs an absolute path`);
    return { kind: 'file', path };
  }
  if (scheme === 'binary' || scheme === 'binary-v2') {
    if (!path.startsWith('/')) throw InvalidArgument.at(field, `${JSON.stringify(value)} needs an absolute path`);
    // Each query key, then its first value: the logging driver's command line.
    const args: string[] = [];
    for (const key of new Set(url.searchParams.keys())) args.push(key, url.searchParams.get(key) ?? '');
    return { kind: 'binary', path, args, v2: scheme === 'binary-v2' };
  }
  throw InvalidArgument.at(field, `unsupported scheme ${JSON.stringify(scheme)} in ${JSON.stringify(value)}`);
}
