// A process that joins its cgroups by itself (its v1 tasks files, a clone into the v2
// directory) is moved by pid only into the rest: each move by pid can wait for an RCU grace
// period, so none is made twice, and none is left out.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { V1Manager } from '../../../src/cgroups/v1/manager.js';
import { V2Manager } from '../../../src/cgroups/v2/manager.js';
import { SystemdManager } from '../../../src/cgroups/systemd/manager.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'tsrun-selfjoin-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function cgroup(name: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'cgroup.procs'), '');
  return dir;
}
const procs = (dir: string): string => readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');

describe('selfJoin and addProcess', () => {
  it('v1: every existing hierarchy once by its tasks file, the unified tree by clone; the rest by pid', () => {
    const cpu = cgroup('cpu,cpuacct/c');
    const memory = cgroup('memory/c');
    const unified = cgroup('unified/c');
    const m = new V1Manager({ v1: { 'cpu,cpuacct': cpu, memory }, unified });
    const join = m.selfJoin();
    expect(join).toEqual({ tasks: [path.join(cpu, 'tasks'), path.join(memory, 'tasks')], dir: unified });

    m.addProcess(42, { tasks: join.tasks, dir: join.dir });
    expect([procs(cpu), procs(memory), procs(unified)]).toEqual(['', '', '']);

    // the spawner could not clone into the unified tree: that one is moved by pid
    m.addProcess(43, { tasks: join.tasks });
    expect([procs(cpu), procs(memory), procs(unified)]).toEqual(['', '', '43']);
    m.addProcess(44);
    expect([procs(cpu), procs(memory), procs(unified)]).toEqual(['44', '44', '44']);

    // a directory that is missing is not joined by itself: the move by pid fails on it, as before
    const pids = path.join(root, 'pids/missing');
    const partial = new V1Manager({ v1: { memory, pids }, unified });
    const some = partial.selfJoin();
    expect(some.tasks).toEqual([path.join(memory, 'tasks')]);
    expect(() => partial.addProcess(45, some)).toThrow(/pids\/missing/);
  });

  it('v2: the directory by clone, or by pid when the spawner could not', () => {
    const dir = cgroup('unified/c');
    const m = new V2Manager({ v1: {}, unified: dir, unifiedMount: path.join(root, 'unified') });
    expect(m.selfJoin()).toEqual({ tasks: [], dir });
    m.addProcess(42, { tasks: [], dir });
    expect(procs(dir)).toBe('');
    m.addProcess(43, { tasks: [] });
    expect(procs(dir)).toBe('43');
    expect(new V2Manager({ v1: {}, unified: path.join(root, 'gone') }).selfJoin()).toEqual({ tasks: [] });
  });

  it('systemd: nothing by itself, since the unit is made around the pid', () => {
    const paths = { v1: {}, unified: cgroup('unified/c'), systemd: { unit: 'x.scope', slice: 'system.slice', name: 'x' } };
    const m = new SystemdManager(paths, new V2Manager(paths));
    expect(m.selfJoin()).toEqual({ tasks: [] });
  });
});
