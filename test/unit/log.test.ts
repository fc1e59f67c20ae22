import { describe, expect, it } from 'vitest';
import { formatLine, rfc3339 } from '../../src/log.js';

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
