import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../../../src/oci/defaults.js';
import { fieldPath, parseConfig, parseProcess } from '../../../src/oci/validate.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function withEdit(edit: (c: any) => void): string {
  const c = defaultSpec();
  edit(c);
  return JSON.stringify(c);
}

function fieldsOf(text: string): string[] {
  const r = parseConfig(text);
  return r.ok ? [] : r.issues.map((i) => i.field);
}

describe('parseConfig', () => {
  it('accepts runc spec defaults, plain and rootless', () => {
    expect(parseConfig(JSON.stringify(defaultSpec())).ok).toBe(true);
    expect(parseConfig(JSON.stringify(defaultSpec({ rootless: true }))).ok).toBe(true);
  });

  it('ignores properties it does not know, as runc does', () => {
    const r = parseConfig(withEdit((c) => (c.futureField = { x: 1 })));
    expect(r.ok).toBe(true);
  });

  it('reads 2^64-1 rlimits as RLIM_INFINITY', () => {
    const r = parseConfig(
      withEdit((c) => (c.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 }])),
    );
    expect(r.ok && r.config.process?.rlimits?.[0]?.hard).toBe(2n ** 64n - 1n);
  });

  it.each([
    ['process.args', (c: any) => (c.process.args = [])],
    ['process.cwd', (c: any) => (c.process.cwd = 'relative')],
    ['process.user.uid', (c: any) => (c.process.user.uid = 'root')],
    ['process.capabilities.effective[1]', (c: any) => (c.process.capabilities.effective = ['CAP_KILL', 'KILL'])],
    ['process.rlimits[1].type', (c: any) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }, { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }])],
    ['linux.namespaces[0].path', (c: any) => (c.linux.namespaces[0].path = 'proc/1/ns/pid')],
    ['linux.rootfsPropagation', (c: any) => (c.linux.rootfsPropagation = 'sideways')],
    ['linux.cgroupsPath', (c: any) => (c.linux.cgroupsPath = '/a/../b')],
    ['mounts[0].destination', (c: any) => (c.mounts[0].destination = 'proc')],
    ['linux.readonlyPaths[0]', (c: any) => (c.linux.readonlyPaths = ['proc/sys'])],
    ['domainname', (c: any) => ((c.domainname = 'x'), (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'uts')))],
    ['root', (c: any) => delete c.root],
    ['ociVersion', (c: any) => delete c.ociVersion],
  ])('names %s', (field, edit) => {
    expect(fieldsOf(withEdit(edit))).toContain(field);
  });

  it('reads a null member as absent, as Go does (nil slices, maps and pointers)', () => {
    const r = parseConfig(withEdit((c) => {
      c.hostname = null;
      c.process.env = null;
      c.process.user = null;
      c.linux.resources = { devices: null, pids: { limit: null } };
      c.annotations = null;
    }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect('hostname' in r.config).toBe(false);
    expect(r.config.process?.env).toBeUndefined();
    expect(r.config.process?.user).toEqual({ uid: 0, gid: 0 });
    expect(r.config.linux?.resources).toEqual({ pids: { limit: 0 } });
  });

  it('refuses a null element of an array, naming its index', () => {
    expect(fieldsOf(withEdit((c) => (c.process.args = ['sh', null])))).toEqual(['process.args[1]']);
  });

  it('says what is wrong with broken JSON', () => {
    const r = parseConfig('{"ociVersion":');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issues[0]?.message).toMatch(/^invalid JSON/);
  });
});

describe('fieldPath', () => {
  it('writes indexes in brackets', () => {
    expect(fieldPath(['linux', 'namespaces', 2, 'type'])).toBe('linux.namespaces[2].type');
    expect(fieldPath([])).toBe('(config)');
  });
});

describe('parseProcess', () => {
  it('runs a process without user as 0:0, as runc', () => {
    const r = parseProcess(JSON.stringify({ args: ['sh'], cwd: '/', user: null, env: null }));
    expect(r.ok && r.process.user).toEqual({ uid: 0, gid: 0 });
    const without = parseProcess(JSON.stringify({ args: ['sh'], cwd: '/' }));
    expect(without.ok && without.process.user).toEqual({ uid: 0, gid: 0 });
  });
});
