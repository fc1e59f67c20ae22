// Signal names and numbers as `kill` accepts them: "KILL", "SIGKILL", "9", "SIGRTMIN+2".
import { constants } from 'node:os';
import { InvalidArgument } from '../errors.js';

const SIGRTMIN = 34;
const SIGRTMAX = 64;

export function parseSignal(text: string, field = 'signal'): number {
  const s = text.trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= SIGRTMAX) return n;
    throw new InvalidArgument(`invalid signal number ${text}`, { field });
  }
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
