import { describe, expect, it } from 'vitest';
import { parseSignal } from '../../../src/runtime/signals.js';

describe('parseSignal', () => {
  it.each([
    ['KILL', 9],
    ['SIGKILL', 9],
    ['kill', 9],
    ['9', 9],
    ['TERM', 15],
    ['SIGRTMIN', 34],
    ['RTMIN+3', 37],
    ['SIGRTMAX-1', 63],
  ])('%s is %d', (text, n) => expect(parseSignal(text)).toBe(n));

  it.each(['0', '65', 'NOPE', 'SIGRTMAX+1', ''])('refuses %j', (text) => expect(() => parseSignal(text)).toThrow(/signal/));
});
