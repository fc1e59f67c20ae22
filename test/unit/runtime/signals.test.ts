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
    // as Go's strconv.Atoi reads numbers in runc: 0 (the existence check) and a sign
    ['0', 0],
    ['+5', 5],
  ])('%s is %d', (text, n) => expect(parseSignal(text)).toBe(n));

  it.each(['65', 'NOPE', 'SIGRTMAX+1', '', ' 9', '0x9'])('refuses %j', (text) => expect(() => parseSignal(text)).toThrow(/signal/));

  it('says what runc says of a number with no signal', () => {
    expect(() => parseSignal('65')).toThrow('unable to signal init: invalid argument: there is no signal 65');
  });
});
