// The CLI server's records and its reading of a command line: what the native client sends
// must come back out field for field, and the verb is found behind any global flags.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verbOf } from '../../../src/server/serve.js';
import { decodeCall, encodeCall, Reader, Writer, type CallRecord } from '../../../src/server/wire.js';

describe('CLI server records', () => {
  it('a call comes back as it was sent, whatever its strings and fds', () => {
    fc.assert(
      fc.property(
        fc.record({
          version: fc.nat(),
          umask: fc.nat(0o777),
          build: fc.string(),
          cwd: fc.string(),
          argv: fc.array(fc.string({ unit: 'grapheme' })),
          env: fc.array(fc.string()),
          fdNumbers: fc.array(fc.nat(1 << 20), { maxLength: 253 }),
        }),
        (call: CallRecord) => {
          const r = new Reader(encodeCall(7, call));
          expect(r.u32()).toBe(7);
          expect(decodeCall(r)).toEqual(call);
        },
      ),
    );
  });

  it('a record cut short is refused, not read past its end', () => {
    const whole = new Writer().u32(1).str('hello').done();
    const r = new Reader(whole.subarray(0, whole.length - 2));
    expect(r.u32()).toBe(1);
    expect(() => r.str()).toThrow(RangeError);
  });
});

describe('verbOf', () => {
  it.each([
    [['state', 'x'], 'state'],
    [['--root', '/r', 'create', '--bundle', 'b', 'x'], 'create'],
    [['--root=/r', '--log', 'l', '--log-format', 'json', 'delete', 'x'], 'delete'],
    [['--debug', '--systemd-cgroup', 'kill', 'x', '9'], 'kill'],
    [['--rootless', 'true', 'run', 'x'], 'run'],
    [['--version'], undefined],
    [[], undefined],
  ])('%j: %s', (args, verb) => {
    expect(verbOf(args)).toBe(verb);
  });
});
