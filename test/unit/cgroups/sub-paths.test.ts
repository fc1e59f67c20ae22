import { describe, expect, it } from 'vitest';
import { subCgroupPaths } from '../../../src/cgroups/sub-paths.js';

const paths = {
  v1: { cpu: '/sys/fs/cgroup/cpu/t/c', 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/t/c', memory: '/sys/fs/cgroup/memory/t/c', 'name=systemd': '/sys/fs/cgroup/systemd/t/c' },
  unified: '/sys/fs/cgroup/unified/t/c',
};

describe('subCgroupPaths (exec --cgroup)', () => {
  it('one path alone goes to every hierarchy, the unified one too', () => {
    const out = subCgroupPaths(paths, ['a/b']);
    expect(Object.values(out.v1)).toEqual(Object.values(paths.v1).map((d) => `${d}/a/b`));
    expect(out.unified).toBe('/sys/fs/cgroup/unified/t/c/a/b');
  });

  it('named controllers move only their hierarchies; "/" and an empty path are the top', () => {
    const out = subCgroupPaths(paths, ['memory,name=systemd:x', 'cpuacct:']);
    expect(out.v1).toEqual({ ...paths.v1, memory: '/sys/fs/cgroup/memory/t/c/x', 'name=systemd': '/sys/fs/cgroup/systemd/t/c/x' });
    expect(subCgroupPaths(paths, ['/'])).toEqual(paths);
  });

  it.each([
    [['..'], '.. is not a sub cgroup path'],
    [['cpu:../c-sibling'], '../c-sibling is not a sub cgroup path'],
    [['whaaat:/'], 'unknown controller whaaat in SubCgroupPaths'],
    [['a:b:c'], 'invalid --cgroup argument: a:b:c'],
    [['cpu:x', 'y'], 'invalid --cgroup argument: y (missing <controller>: prefix)'],
  ])('refuses %j with runc\'s words', (args, words) => {
    expect(() => subCgroupPaths(paths, args)).toThrow(words);
  });
});
