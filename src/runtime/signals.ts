// Signal names and numbers as `kill` accepts them: "KILL", "SIGKILL", "9", "0", "SIGRTMIN+2".
import { constants } from 'node:os';
import { InvalidArgument } from '../errors.js';

const SIGRTMIN = 34;
const SIGRTMAX = 64;

export function parseSignal(text: string, field = 'signal'): number {
  // A number as Go's strconv.Atoi reads it in runc: 0 is kill(2)'s existence check, which
  // callers use; one the kernel has no signal for fails as runc's kill(2) does.
  if (/^[+-]?\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 0 && n <= SIGRTMAX) return n;
    throw new InvalidArgument(`unable to signal init: invalid argument: there is no signal ${text}`, { field });
  }
  const s = text.toUpperCase();
  const name = s.startsWith('SIG') ? s : `SIG${s}`;
  const rt = /^SIGRT(MIN|MAX)([+-]\d+)?$/.exec(name);
  if (rt) {
    const n = (rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX) + Number(rt[2] ?? 0);
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  const n = (constants.signals as Record<string, number>)[name];
  if (n !== undefined) return n;
  throw new InvalidArgument(`unknown signal "${text}"`, { field });
}

/** Go's (and strsignal's) words for signals 1 to 31, as runc's errors show them ("signal: killed"). */
const DESCRIPTIONS = [
  'hangup', 'interrupt', 'quit', 'illegal instruction', 'trace/breakpoint trap', 'aborted', 'bus error',
  'floating point exception', 'killed', 'user defined signal 1', 'segmentation fault', 'user defined signal 2',
  'broken pipe', 'alarm clock', 'terminated', 'stack fault', 'child exited', 'continued', 'stopped (signal)', 'stopped',
  'stopped (tty input)', 'stopped (tty output)', 'urgent I/O condition', 'CPU time limit exceeded',
  'file size limit exceeded', 'virtual timer expired', 'profiling timer expired', 'window changed', 'I/O possible',
  'power failure', 'bad system call',
];

/** "bad system call" for SIGSYS; a real-time signal as Go names it ("signal 35"). */
export function signalDescription(name: NodeJS.Signals): string {
  const n = (constants.signals as Record<string, number>)[name] ?? 0;
  return DESCRIPTIONS[n - 1] ?? `signal ${n}`;
}
