import { describe, expect, it } from 'vitest';
import { formatLine, rfc3339, rfc3339Nano, rfc3339NanoFixed, utcTimestamp } from '../../src/log.js';

const t = new Date('2026-01-02T15:04:05.678Z');

describe('log lines', () => {
  it('use RFC 3339 in UTC with whole seconds', () => expect(rfc3339(t)).toBe('2026-01-02T15:04:05Z'));

  it('look like runc JSON lines, which go-runc parses', () => {
    expect(JSON.parse(formatLine('json', 'error', 'boom "x"', t))).toEqual({ level: 'error', msg: 'boom "x"', time: '2026-01-02T15:04:05Z' });
    expect(formatLine('json', 'error', 'm', t)).toBe('{"level":"error","msg":"m","time":"2026-01-02T15:04:05Z"}');
  });

  it('look like logrus text lines', () => {
    expect(formatLine('text', 'warning', 'a "b"', t)).toBe('time="2026-01-02T15:04:05Z" level=warning msg="a \\"b\\""');
  });
});

describe('utcTimestamp', () => {
  it('writes what toISOString writes, with or without the milliseconds', () => {
    const dates = [0, 1, 999, 951782400000, 1767366245123, 4102444799999, -1000, Date.UTC(9999, 11, 31, 23, 59, 59, 999)];
    for (let i = 0; i < 200; i++) dates.push(Math.floor(Math.random() * 4e12));
    for (const ms of dates) {
      const d = new Date(ms);
      expect(utcTimestamp(d, true)).toBe(d.toISOString());
      expect(utcTimestamp(d, false)).toBe(d.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    }
  });

  it('refuses an invalid date', () => {
    expect(() => utcTimestamp(new Date(NaN), true)).toThrow(RangeError);
  });
});

describe('rfc3339Nano', () => {
  it("writes Go's RFC3339Nano: nine digits at most, trailing zeros dropped, none on a whole second", () => {
    expect(rfc3339Nano(1767366245123456789n)).toBe('2026-01-02T15:04:05.123456789Z');
    expect(rfc3339Nano(1767366245120000000n)).toBe('2026-01-02T15:04:05.12Z');
    expect(rfc3339Nano(1767366245000000001n)).toBe('2026-01-02T15:04:05.000000001Z');
    expect(rfc3339Nano(1767366245000000000n)).toBe('2026-01-02T15:04:05Z');
    expect(rfc3339Nano(0n)).toBe('1970-01-01T00:00:00Z');
  });
});

describe('rfc3339NanoFixed', () => {
  it("writes containerd's RFC3339NanoFixed, as its shims stamp log lines: always nine digits", () => {
    expect(rfc3339NanoFixed(1767366245123456789n)).toBe('2026-01-02T15:04:05.123456789Z');
    expect(rfc3339NanoFixed(1767366245120000000n)).toBe('2026-01-02T15:04:05.120000000Z');
    expect(rfc3339NanoFixed(1767366245000000000n)).toBe('2026-01-02T15:04:05.000000000Z');
    expect(formatLine('text', 'debug', 'x', rfc3339NanoFixed(1767366245000000001n))).toBe('time="2026-01-02T15:04:05.000000001Z" level=debug msg="x"');
  });
});
