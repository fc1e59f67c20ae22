// The brain's command line, as the launcher or a keeper writes it, and the runtime options of a Create.
import { create, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OptionsSchema } from '../../../src/gen/containerd/runc/v1/options_pb.js';
import { OptionsSchema as RuntimeOptionsSchema } from '../../../src/gen/runtimeoptions/v1/api_pb.js';
import { InvalidArgument } from '../../../src/errors.js';
import { brainLingerMs, parseBrainArgs } from '../../../src/shim/args.js';
import { readOptionsFile } from '../../../src/shim/options-file.js';
import { parseOptions } from '../../../src/shim/options.js';
import { tempDirsPerTest } from '../../helpers/temp-dirs.js';

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
      systemdCgroup: false,
      ioUid: 1000,
      ioGid: 1001,
    });
  });

  it('defaults for none, and takes the ConfigPath of CRI runtime options', () => {
    expect(parseOptions(undefined)).toEqual({ noPivot: false, noNewKeyring: false, systemdCgroup: false });
    const cri = create(RuntimeOptionsSchema, { typeUrl: 'x', configPath: '/etc/x.toml' });
    expect(parseOptions(any('runtimeoptions.v1.Options', toBinary(RuntimeOptionsSchema, cri)))).toEqual({ noPivot: false, noNewKeyring: false, systemdCgroup: false, configPath: '/etc/x.toml' });
  });

  const tempDir = tempDirsPerTest('tsrun-options-');

  it("reads runc's Options keys from a ConfigPath file, and names the file and key it refuses", async () => {
    const file = path.join(tempDir(), 'ts.toml');
    writeFileSync(file, '# the ts handler\nSystemdCgroup = true\nNoNewKeyring = true\nRoot = "/run/ts-k8s"\nIoUid = 1000\nBinaryName = "x"\n');
    expect(await readOptionsFile(file)).toEqual({ systemdCgroup: true, noNewKeyring: true, root: '/run/ts-k8s', ioUid: 1000 });
    writeFileSync(file, 'SystemdCgroup = "yes"\n');
    await expect(readOptionsFile(file)).rejects.toThrow(`options.ConfigPath: ${file}: SystemdCgroup must be true or false, got "yes"`);
    writeFileSync(file, 'SystemdCgroup = \n');
    await expect(readOptionsFile(file)).rejects.toThrow(InvalidArgument);
    await expect(readOptionsFile(`${file}.missing`)).rejects.toThrow(/^options\.ConfigPath: .*ENOENT/);
  });

  it('takes SystemdCgroup = true, and refuses undecodable options clearly', () => {
    const o = create(OptionsSchema, { systemdCgroup: true });
    expect(parseOptions(any('containerd.runc.v1.Options', toBinary(OptionsSchema, o))).systemdCgroup).toBe(true);
    expect(() => parseOptions(any('containerd.runc.v1.Options', new Uint8Array([0xff, 0xff])))).toThrow(/options: cannot decode/);
  });
});

describe('TSRUN_SHIM_BRAIN_LINGER_MS', () => {
  it('is 30 s by default, 0 for a brain that leaves with its last group, and refused by name when not a number', () => {
    expect(brainLingerMs({})).toBe(30_000);
    expect(brainLingerMs({ TSRUN_SHIM_BRAIN_LINGER_MS: '0' })).toBe(0);
    expect(brainLingerMs({ TSRUN_SHIM_BRAIN_LINGER_MS: '1500' })).toBe(1500);
    for (const bad of ['-1', '1.5', 'soon']) expect(() => brainLingerMs({ TSRUN_SHIM_BRAIN_LINGER_MS: bad })).toThrow(/TSRUN_SHIM_BRAIN_LINGER_MS/);
  });
});
