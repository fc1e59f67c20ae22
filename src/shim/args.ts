// The server's command line, as the launcher (cpp/shim/start.cc) writes it, in Go flag
// style: -namespace NS -id ID -address ADDR -publish-binary BIN -socket PATH [-host PATH]
// [-debug].
import { InvalidArgument } from '../errors.js';

export interface ServerArgs {
  namespace: string;
  id: string;
  /** containerd's gRPC socket */
  address: string;
  publishBinary: string;
  /** the group's socket file (fd 3), removed when the group ends */
  socket: string;
  /** the namespace's host socket (fd 4) when this server is the host (cpp/shim/host.h) */
  host: string;
  debug: boolean;
}

const STRINGS: Record<string, keyof ServerArgs> = {
  namespace: 'namespace',
  id: 'id',
  address: 'address',
  'publish-binary': 'publishBinary',
  socket: 'socket',
  host: 'host',
};

export function parseServerArgs(argv: readonly string[]): ServerArgs {
  const out: ServerArgs = { namespace: '', id: '', address: '', publishBinary: '', socket: '', host: '', debug: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw InvalidArgument.at(arg, 'unexpected argument');
    const name = m[1] as string;
    if (name === 'debug') {
      out.debug = m[2] === undefined || m[2] === 'true' || m[2] === '1';
      continue;
    }
    const key = STRINGS[name];
    if (!key) throw InvalidArgument.at(`-${name}`, 'unknown flag');
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw InvalidArgument.at(`-${name}`, 'needs a value');
    (out as unknown as Record<string, string>)[key] = value;
  }
  if (!out.namespace) throw InvalidArgument.at('-namespace', 'is required');
  return out;
}

/** The process title ps shows: the flags a launched server would have. A host serves many
 *  groups, so it shows the host socket and no one group's id. */
export function serverTitle(args: ServerArgs): string {
  const group = args.host ? ['-host', args.host] : ['-id', args.id];
  const flags = ['-namespace', args.namespace, ...group, '-address', args.address, '-publish-binary', args.publishBinary];
  if (!args.host) flags.push('-socket', args.socket);
  if (args.debug) flags.push('-debug');
  return [process.execPath, process.argv[1], ...flags, ''].join(' ');
}
