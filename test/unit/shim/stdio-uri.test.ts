// How containerd's stdio strings are read.
import { describe, expect, it } from 'vitest';
import { InvalidArgument } from '../../../src/errors.js';
import { parseStdio } from '../../../src/shim/io/uri.js';

describe('stdio strings', () => {
  it('reads empty as no stream and a bare path as a fifo (or file) path', () => {
    expect(parseStdio('', 'stdout')).toEqual({ kind: 'null' });
    expect(parseStdio('/run/containerd/fifo/1/c-stdout', 'stdout')).toEqual({ kind: 'path', path: '/run/containerd/fifo/1/c-stdout' });
  });

  it('reads file:// as a file to append to', () => {
    expect(parseStdio('file:///var/log/c%201.log', 'stdout')).toEqual({ kind: 'file', path: '/var/log/c 1.log' });
  });

  it('reads binary:// and binary-v2:// as a driver with its query as arguments, in order', () => {
    expect(parseStdio('binary:///usr/bin/logger?tag=web&verbose&level=2', 'stdout')).toEqual({
      kind: 'binary',
      path: '/usr/bin/logger',
      args: ['tag', 'web', 'verbose', '', 'level', '2'],
      v2: false,
    });
    expect(parseStdio('binary-v2:///opt/drv', 'stdout')).toMatchObject({ kind: 'binary', path: '/opt/drv', args: [], v2: true });
  });

  it('refuses relative paths and schemes it does not know, naming the field', () => {
    expect(() => parseStdio('relative/fifo', 'stderr')).toThrow(InvalidArgument);
    expect(() => parseStdio('relative/fifo', 'stderr')).toThrow(/^stderr: /);
    expect(() => parseStdio('npipe://./pipe/x', 'stdout')).toThrow(/unsupported scheme "npipe"/);
  });
});
