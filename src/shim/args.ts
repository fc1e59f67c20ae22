// The server's command line, as the launcher (cpp/shim/start.cc) writes it, in Go flag
// style: -namespace NS -id ID -address ADDR -publish-binary BIN -socket PATH [-debug].
import { InvalidArgument } from '../errors.js';

export interface ServerArgs {
  namespace: string;
  id: string;
  /** containerd's gRPC socket */
  address: string;
  publishBinary: string;
  /** the socket file we listen on (fd 3), removed when we exit */
  socket: string;
  debug: boolean;
}

const STRINGS: Record<string, keyof ServerArgs> = {
  namespace: 'namespace',
  id: 'id',
  address: 'address',
  'publish-binary': 'publishBinary',
  socket: 'socket',
};

export function parseServerArgs(argv: readonly string[]): ServerArgs {
  const out: ServerArgs = { namespace: '', id: '', address: '', publishBinary: '', socket: '', debug: false };
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
