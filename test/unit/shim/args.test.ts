// The shim server's command line, as the launcher writes it, and the runtime options of a Create.
import { create, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { OptionsSchema } from '../../../src/gen/containerd/runc/v1/options_pb.js';
import { OptionsSchema as RuntimeOptionsSchema } from '../../../src/gen/runtimeoptions/v1/api_pb.js';
import { InvalidArgument, Unimplemented } from '../../../src/errors.js';
import { parseServerArgs } from '../../../src/shim/args.js';
import { parseOptions } from '../../../src/shim/options.js';

describe('server arguments', () => {
  it('reads the flags the launcher passes, in either form', () => {
    expect(
      parseServerArgs(['-namespace', 'k8s.io', '-id', 'c1', '-address=/run/c.sock', '-publish-binary', '/usr/bin/containerd', '-socket', '/run/s/x', '-debug']),
    ).toEqual({ namespace: 'k8s.io', id: 'c1', address: '/run/c.sock', publishBinary: '/usr/bin/containerd', socket: '/run/s/x', host: '', debug: true });
    expect(parseServerArgs(['-namespace', 'default', '-id', 'c2', '-socket', '/run/s/y', '-host', '/run/s/host-1']).host).toBe('/run/s/host-1');
  });

  it('refuses unknown flags and a missing namespace', () => {
    expect(() => parseServerArgs(['-namespace', 'x', '-bogus', '1'])).toThrow(InvalidArgument);
    expect(() => parseServerArgs(['-id', 'c1'])).toThrow(/-namespace: is required/);
    expect(() => parseServerArgs(['-namespace'])).toThrow(/needs a value/);
  });
});

describe('runtime options', () => {
  const any = (typeUrl: string, value: Uint8Array) => create(AnySchema, { typeUrl, value });

  it('takes root, pivot, keyring and io owner from runc options', () => {
    const o = create(OptionsSchema, { root: '/run/other', noPivotRoot: true, noNewKeyring: true, ioUid: 1000, ioGid: 1001 });
    expect(parseOptions(any('containerd.runc.v1.Options', toBinary(OptionsSchema, o)))).toEqual({
      root: '/run/other',
      noPivot: true,
      noNewKeyring: true,
      ioUid: 1000,
      ioGid: 1001,
    });
  });

  it('defaults for none, and for CRI runtime options (a config path we do not read)', () => {
    expect(parseOptions(undefined)).toEqual({ noPivot: false, noNewKeyring: false });
    const cri = create(RuntimeOptionsSchema, { typeUrl: 'x', configPath: '/etc/x.toml' });
    expect(parseOptions(any('runtimeoptions.v1.Options', toBinary(RuntimeOptionsSchema, cri)))).toEqual({ noPivot: false, noNewKeyring: false });
  });

  it('refuses the systemd cgroup driver and undecodable options clearly', () => {
    const o = create(OptionsSchema, { systemdCgroup: true });
    expect(() => parseOptions(any('containerd.runc.v1.Options', toBinary(OptionsSchema, o)))).toThrow(Unimplemented);
    expect(() => parseOptions(any('containerd.runc.v1.Options', new Uint8Array([0xff, 0xff])))).toThrow(/options: cannot decode/);
  });
});
