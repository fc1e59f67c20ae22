// The brain's command line, as the launcher or a keeper writes it, and the runtime options of a Create.
import { create, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { OptionsSchema } from '../../../src/gen/containerd/runc/v1/options_pb.js';
import { OptionsSchema as RuntimeOptionsSchema } from '../../../src/gen/runtimeoptions/v1/api_pb.js';
import { InvalidArgument, Unimplemented } from '../../../src/errors.js';
import { parseBrainArgs } from '../../../src/shim/args.js';
import { parseOptions } from '../../../src/shim/options.js';

describe('brain arguments', () => {
  it('reads the flags the launcher passes, in either form', () => {
    expect(parseBrainArgs(['-brain', '/run/s/host-1', '-namespace', 'k8s.io', '-address=/run/c.sock', '-publish-binary', '/usr/bin/containerd', '-debug'])).toEqual({
      brain: '/run/s/host-1',
      namespace: 'k8s.io',
      address: '/run/c.sock',
      publishBinary: '/usr/bin/containerd',
      debug: true,
    });
    expect(parseBrainArgs(['--brain=/b', '-namespace', 'default']).debug).toBe(false);
  });

  it('refuses unknown flags, a group\'s flags, and a missing brain socket or namespace', () => {
    expect(() => parseBrainArgs(['-brain', '/b', '-namespace', 'x', '-bogus', '1'])).toThrow(InvalidArgument);
    expect(() => parseBrainArgs(['-brain', '/b', '-namespace', 'x', '-id', 'c1'])).toThrow(/-id: unknown flag/);
    expect(() => parseBrainArgs(['-namespace', 'x'])).toThrow(/-brain: is required/);
    expect(() => parseBrainArgs(['-brain', '/b'])).toThrow(/-namespace: is required/);
    expect(() => parseBrainArgs(['-namespace'])).toThrow(/needs a value/);
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
