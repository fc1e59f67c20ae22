// The v2 manager for real, in this host's controller-less unified tree: the eBPF device
// filter (a denied device fails with EPERM), cgroup.freeze, cgroup.kill and procs of a
// subtree. Only cgroups under tsrun-test/ are made, and removed pass or fail.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceRule } from '../../src/cgroups/manager.js';
import { V2Manager } from '../../src/cgroups/v2/manager.js';
import { deviceFilters } from '../../src/native/index.js';
import { isAlive } from '../helpers/leaks.js';
import { TEST_CGROUP_PARENT } from '../helpers/paths.js';

const PARENT = path.join('/sys/fs/cgroup/unified', TEST_CGROUP_PARENT);
let counter = 0;
const children: ChildProcess[] = [];
const managers: V2Manager[] = [];

function manager(): V2Manager {
  const m = new V2Manager({ v1: {}, unified: path.join(PARENT, `v2-${process.pid}-${++counter}`), unifiedMount: PARENT });
  managers.push(m);
  return m;
}

afterEach(async () => {
  for (const c of children.splice(0)) if (c.pid && isAlive(c.pid)) c.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 50));
  for (const m of managers.splice(0)) await m.destroy();
});

/** A shell that moves itself into dir, then runs script there. */
function inCgroup(dir: string, script: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn('/bin/sh', ['-c', `echo $$ > ${dir}/cgroup.procs && ${script}`]);
    children.push(c);
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

function sleeper(dir: string): ChildProcess {
  const c = spawn('/bin/sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec sleep 1000`], { stdio: 'ignore' });
  children.push(c);
  return c;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

const procsOf = (dir: string): number[] => readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);

const DENY_ALL: DeviceRule = { allow: false, type: 'a', major: '*', minor: '*', access: 'rwm' };
const NULL_RW: DeviceRule = { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' };

describe('cgroup v2 under the unified tree', () => {
  it('the eBPF device filter denies what the rules deny, and a new policy replaces the old', async () => {
    const m = manager();
    m.create({ devices: [DENY_ALL, NULL_RW] });
    const dir = m.paths.unified ?? '';
    expect(deviceFilters(dir)).toHaveLength(1);

    const denied = await inCgroup(dir, 'head -c 1 /dev/zero');
    expect(denied.code).not.toBe(0);
    expect(denied.err).toMatch(/Operation not permitted/);
    const allowed = await inCgroup(dir, 'head -c 1 /dev/null && echo null-ok');
    expect(allowed.out).toBe('null-ok\n');

    // The same cgroup, a policy that also lets /dev/zero be read: it replaces the first.
    m.create({ devices: [DENY_ALL, NULL_RW, { allow: true, type: 'c', major: 1, minor: 5, access: 'r' }] });
    expect(deviceFilters(dir)).toHaveLength(1);
    const now = await inCgroup(dir, 'head -c 1 /dev/zero | wc -c');
    expect(now.out.trim()).toBe('1');
    // read was allowed, not write
    const write = await inCgroup(dir, 'echo x > /dev/zero');
    expect(write.err).toMatch(/Operation not permitted/);
  });

  it('freezes with cgroup.freeze, lists pids of sub-cgroups, and kills all with cgroup.kill', async () => {
    const m = manager();
    m.create({ devices: [{ allow: true, type: 'a', major: '*', minor: '*', access: 'rwm' }] });
    const dir = m.paths.unified ?? '';
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    const a = sleeper(dir);
    const b = sleeper(sub);
    await until(() => procsOf(dir).includes(a.pid ?? -1) && procsOf(sub).includes(b.pid ?? -1), 'both sleepers to join');
    expect(m.procs().sort()).toEqual([a.pid, b.pid].sort());

    await m.freeze();
    expect(m.isFrozen()).toBe(true);
    expect(readFileSync(path.join(dir, 'cgroup.events'), 'utf8')).toContain('frozen 1');
    // a frozen task takes no signal until thawed; cgroup.kill still reaches it
    await m.thaw();
    expect(m.isFrozen()).toBe(false);
    expect(readFileSync(path.join(dir, 'cgroup.events'), 'utf8')).toContain('frozen 0');

    expect(m.killAll()).toBe(true);
    await until(() => !isAlive(a.pid ?? -1) && !isAlive(b.pid ?? -1), 'cgroup.kill to take both');
    await until(() => m.procs().length === 0, 'the cgroup to empty');
    await m.destroy();
    expect(existsSync(dir)).toBe(false);
  });

  it('a resource the unified tree has no controller for is named', () => {
    const m = manager();
    // Only the test parent is a root here: no controller is enabled, so pids.max does not exist.
    expect(() => m.create({ devices: [], resources: { pids: { limit: 5 } } })).toThrow(/^pids\.limit: write "5" to .*pids\.max: ENOENT$/);
  });
});
