import { create } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { execSpec, resourcesSpec } from '../../../src/shim/specs.js';

const any = (type: string, json: unknown) =>
  create(AnySchema, { typeUrl: `types.containerd.io/opencontainers/runtime-spec/1/${type}`, value: new TextEncoder().encode(JSON.stringify(json)) });

describe('the JSON containerd sends in Anys, read as Go reads it', () => {
  it('an exec process: null members absent, no user is 0:0', () => {
    const p = execSpec(any('Process', { args: ['sh'], cwd: '/', user: null, env: null, capabilities: null, rlimits: null }));
    expect(p.user).toEqual({ uid: 0, gid: 0 });
    expect(p.env).toBeUndefined();
    expect(p.capabilities).toBeUndefined();
  });

  it('update resources: null members absent', () => {
    const r = resourcesSpec(any('LinuxResources', { memory: null, cpu: { shares: 256, quota: null }, pids: { limit: null }, devices: null }));
    expect(r).toEqual({ cpu: { shares: 256n }, pids: { limit: 0 } });
  });
});
