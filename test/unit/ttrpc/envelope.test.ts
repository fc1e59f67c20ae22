// The envelope bytes must be what Go's ttrpc writes and reads. The expected hex below is worked
// out by hand from the protobuf encoding rules and the field numbers of containerd/ttrpc's
// request.proto and google.rpc.Status, not produced by the code under test.

import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { RequestSchema, ResponseSchema } from '../../../src/gen/ttrpc/request_pb.js';
import { Metadata } from '../../../src/ttrpc/metadata.js';
import { Code, TtrpcError, codeName, toTtrpcError } from '../../../src/ttrpc/status.js';

describe('ttrpc envelope', () => {
  it('encodes a Request with fields 1-5 as Go does', () => {
    const req = create(RequestSchema, {
      service: 'a.B',
      method: 'C',
      payload: Uint8Array.of(0x08, 0x01),
      timeoutNano: 5_000_000_000n,
      metadata: new Metadata({ k: 'v' }).toKeyValues(),
    });
    const hex = Buffer.from(toBinary(RequestSchema, req)).toString('hex');
    // 0a 03 "a.B" | 12 01 "C" | 1a 02 08 01 | 20 varint(5e9) | 2a 06 (0a 01 "k" 12 01 "v")
    expect(hex).toBe(['0a03612e42', '120143', '1a020801', '2080e497d012', '2a060a016b120176'].join(''));
  });

  it('leaves the status out of a successful empty Response: zero bytes, as containerd answers Forward', () => {
    expect(toBinary(ResponseSchema, create(ResponseSchema, {}))).toHaveLength(0);
  });

  it('encodes an error Response as google.rpc.Status in field 1', () => {
    const status = new TtrpcError(Code.NotFound, 'nope').toStatus();
    const hex = Buffer.from(toBinary(ResponseSchema, create(ResponseSchema, { status }))).toString('hex');
    // 0a 08 (08 05 | 12 04 "nope")
    expect(hex).toBe('0a08080512046e6f7065');
    const back = fromBinary(ResponseSchema, Buffer.from(hex, 'hex'));
    expect(back.status?.code).toBe(5);
    expect(TtrpcError.fromStatus(back.status!).message).toBe('nope');
  });
});

describe('status codes', () => {
  it('are the gRPC numbers', () => {
    expect([Code.OK, Code.Canceled, Code.Unknown, Code.InvalidArgument, Code.DeadlineExceeded, Code.NotFound]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([Code.AlreadyExists, Code.PermissionDenied, Code.ResourceExhausted, Code.FailedPrecondition]).toEqual([6, 7, 8, 9]);
    expect([Code.Aborted, Code.OutOfRange, Code.Unimplemented, Code.Internal, Code.Unavailable]).toEqual([10, 11, 12, 13, 14]);
    expect([Code.DataLoss, Code.Unauthenticated]).toEqual([15, 16]);
    expect(codeName(9)).toBe('FailedPrecondition');
    expect(codeName(99)).toBe('Code(99)');
  });

  it('turn anything thrown into Unknown unless it is already a TtrpcError', () => {
    const own = new TtrpcError(Code.Aborted, 'x');
    expect(toTtrpcError(own)).toBe(own);
    const plain = toTtrpcError(new Error('disk on fire'));
    expect(plain.code).toBe(Code.Unknown);
    expect(plain.message).toBe('disk on fire');
    expect(toTtrpcError('bare string').message).toBe('bare string');
  });
});

describe('Metadata', () => {
  it('keeps every value of a key, matches keys case-insensitively and sends one pair per value', () => {
    const md = new Metadata({ 'Containerd-Namespace-TTRPC': 'default', trace: ['a', 'b'] });
    expect(md.first('containerd-namespace-ttrpc')).toBe('default');
    expect(md.get('TRACE')).toEqual(['a', 'b']);
    expect(md.get('absent')).toEqual([]);
    const pairs = md.toKeyValues().map((kv) => [kv.key, kv.value]);
    expect(pairs).toEqual([
      ['containerd-namespace-ttrpc', 'default'],
      ['trace', 'a'],
      ['trace', 'b'],
    ]);
    const back = Metadata.fromKeyValues(md.toKeyValues());
    expect(back.get('trace')).toEqual(['a', 'b']);
    back.set('trace', 'c');
    expect(back.get('trace')).toEqual(['c']);
    expect(back.size).toBe(2);
  });
});
