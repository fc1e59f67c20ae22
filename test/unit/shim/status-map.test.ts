import { describe, expect, it } from 'vitest';
import {
  AlreadyExists,
  ERROR_KINDS,
  FailedPrecondition,
  HookFailed,
  Internal,
  InvalidArgument,
  NotFound,
  PermissionDenied,
  SystemError,
  Timeout,
  TsrunError,
  Unavailable,
  Unimplemented,
} from '../../../src/errors.js';
import { fromStatusError, toStatusError } from '../../../src/shim/status-map.js';
import { Code, TtrpcError } from '../../../src/ttrpc/status.js';

describe('status map', () => {
  it('gives each error kind the gRPC code containerd errdefs reads', () => {
    const cases: [TsrunError, number][] = [
      [new InvalidArgument('bad'), 3],
      [new NotFound('gone'), 5],
      [new AlreadyExists('twice'), 6],
      [new PermissionDenied('no'), 7],
      [new FailedPrecondition('running'), 9],
      [new Unimplemented('checkpoint'), 12],
      [new Internal('bug'), 13],
      [new Unavailable('later'), 14],
      [new Timeout('cgroup /x did not reach "frozen 1"'), 4],
      [new HookFailed('hooks.prestart[0] "/bin/false": exited with 1', { field: 'hooks.prestart[0]' }), 2],
      [new SystemError('mount: EPERM', { errno: 1 }), 2],
    ];
    expect(new Set(cases.map(([e]) => e.kind))).toEqual(new Set(ERROR_KINDS));
    for (const [err, code] of cases) {
      const status = toStatusError(err);
      expect([err.kind, status.code]).toEqual([err.kind, code]);
      expect(status.message).toBe(err.message);
      expect(status.cause).toBe(err);
    }
  });

  it('answers Unknown for anything that is not ours and keeps a TtrpcError as it is', () => {
    expect(toStatusError(new Error('plain')).code).toBe(Code.Unknown);
    expect(toStatusError('text').message).toBe('text');
    const own = new TtrpcError(Code.DeadlineExceeded, 'late');
    expect(toStatusError(own)).toBe(own);
  });

  it('maps codes back to kinds and strips the class text containerd adds', () => {
    const nf = fromStatusError(new TtrpcError(Code.NotFound, 'container c1 not created: not found'));
    expect(nf).toBeInstanceOf(NotFound);
    expect(nf.message).toBe('container c1 not created');
    expect(nf.cause).toBeInstanceOf(TtrpcError);
    expect(fromStatusError(new TtrpcError(Code.InvalidArgument, 'timestamp must be set on forwarded event'))).toBeInstanceOf(InvalidArgument);
    expect(fromStatusError(new TtrpcError(Code.AlreadyExists, 'id e1: already exists'))).toMatchObject({ kind: 'AlreadyExists', message: 'id e1' });
    expect(fromStatusError(new TtrpcError(Code.FailedPrecondition, 'x'))).toBeInstanceOf(FailedPrecondition);
    expect(fromStatusError(new TtrpcError(Code.Unimplemented, 'method Nope'))).toBeInstanceOf(Unimplemented);
    expect(fromStatusError(new TtrpcError(Code.Internal, 'x'))).toBeInstanceOf(Internal);
    expect(fromStatusError(new TtrpcError(Code.PermissionDenied, 'x'))).toMatchObject({ kind: 'PermissionDenied' });
    expect(fromStatusError(new TtrpcError(Code.Unavailable, 'ttrpc: closed'))).toMatchObject({ kind: 'Unavailable' });
    expect(fromStatusError(new TtrpcError(Code.DeadlineExceeded, 'pause: context deadline exceeded'))).toMatchObject({ kind: 'Timeout', message: 'pause' });
  });

  it('leaves codes that have no kind as TtrpcError', () => {
    for (const code of [Code.Unknown, Code.Canceled, Code.ResourceExhausted, 42]) {
      const err = new TtrpcError(code, 'x');
      expect(fromStatusError(err)).toBe(err);
    }
  });

  it('round-trips every kind that has a code', () => {
    const kinds = [new InvalidArgument('a'), new NotFound('b'), new AlreadyExists('c'), new FailedPrecondition('d'), new Unimplemented('e'), new Internal('f'), new Timeout('g')];
    for (const err of kinds) {
      const back = fromStatusError(toStatusError(err));
      expect([back.constructor, back.message]).toEqual([err.constructor, err.message]);
    }
  });
});
