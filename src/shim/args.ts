// The brain's command line, as the launcher or a keeper writes it (cpp/shim/brain.cc), in
// Go flag style: -brain PATH -namespace NS -address ADDR -publish-binary BIN [-debug]; and
// what a group is, as its keeper tells (proto/tsrun/keeper/v1 Group).
import { InvalidArgument } from '../errors.js';

export interface BrainArgs {
  /** the socket keepers attach to (fd 3 listens there), removed when the brain goes */
  brain: string;
  namespace: string;
  /** containerd's gRPC socket */
  address: string;
  publishBinary: string;
  debug: boolean;
}

/** A group, as its keeper describes it. */
export interface GroupArgs {
  namespace: string;
  /** the container whose start made the group */
  id: string;
  address: string;
  publishBinary: string;
  /** the group's socket file, which its keeper removes when the group ends */
  socket: string;
  debug: boolean;
}

const STRINGS: Record<string, keyof BrainArgs> = {
  brain: 'brain',
  namespace: 'namespace',
  address: 'address',
  'publish-binary': 'publishBinary',
};

export function parseBrainArgs(argv: readonly string[]): BrainArgs {
  const out: BrainArgs = { brain: '', namespace: '', address: '', publishBinary: '', debug: false };
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
  if (!out.brain) throw InvalidArgument.at('-brain', 'is required');
  if (!out.namespace) throw InvalidArgument.at('-namespace', 'is required');
  return out;
}

/** The process title ps shows: the flags a launched brain has (an adopted spare takes them). */
export function brainTitle(args: BrainArgs): string {
  const flags = ['-brain', args.brain, '-namespace', args.namespace, '-address', args.address, '-publish-binary', args.publishBinary];
  if (args.debug) flags.push('-debug');
  return [process.execPath, process.argv[1], ...flags, ''].join(' ');
}

const DEFAULT_LINGER_MS = 30_000;

/** TSRUN_SHIM_BRAIN_LINGER_MS: how long a brain waits for a next group after its last. */
export function brainLingerMs(env: NodeJS.ProcessEnv): number {
  const text = env.TSRUN_SHIM_BRAIN_LINGER_MS;
  if (text === undefined || text === '') return DEFAULT_LINGER_MS;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 0) throw InvalidArgument.at('TSRUN_SHIM_BRAIN_LINGER_MS', `must be a whole number of ms, not "${text}"`);
  return ms;
}
