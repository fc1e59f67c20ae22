import { describe, expect, it } from 'vitest';
import { parseLayout, parseProcCgroup } from '../../../src/cgroups/detect.js';
import { cgroupPaths, ownCgroupPaths } from '../../../src/cgroups/paths.js';

const HYBRID = [
  '30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate',
  '32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd',
  '33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct',
  '34 30 0:30 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpuset,clone_children',
].join('\n');

describe('parseLayout', () => {
  it('reads a hybrid host', () => {
    const l = parseLayout(HYBRID);
    expect(l.mode).toBe('hybrid');
    expect(l.v1.map((h) => h.controllers)).toEqual([['name=systemd'], ['cpu', 'cpuacct'], ['cpuset']]);
    expect(l.unified).toEqual({ mountpoint: '/sys/fs/cgroup/unified', root: '/' });
  });

  it('reads a unified host', () => {
    const l = parseLayout('30 25 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot');
    expect(l).toEqual({ mode: 'v2', v1: [], unified: { mountpoint: '/sys/fs/cgroup', root: '/' } });
  });
});

describe('cgroupPaths', () => {
  it('takes an absolute cgroupsPath from each hierarchy root', () => {
    const p = cgroupPaths('/pods/c1', 'c1', parseLayout(HYBRID));
    expect(p.v1['cpu,cpuacct']).toBe('/sys/fs/cgroup/cpu,cpuacct/pods/c1');
    expect(p.v1['name=systemd']).toBe('/sys/fs/cgroup/systemd/pods/c1');
    expect(p.unified).toBe('/sys/fs/cgroup/unified/pods/c1');
  });

  it('ownCgroupPaths: the runtime\'s own cgroups, on v1 and on v2 alike', () => {
    const own = () => parseProcCgroup('1:cpu,cpuacct:/user/a\n0::/user/a\n');
    const p = ownCgroupPaths(parseLayout(HYBRID), own);
    expect(p.v1['cpu,cpuacct']).toBe('/sys/fs/cgroup/cpu,cpuacct/user/a');
    expect(p.v1.cpuset).toBe('/sys/fs/cgroup/cpuset');
    expect(p.unified).toBe('/sys/fs/cgroup/unified/user/a');
    const v2 = parseLayout('30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw');
    expect(ownCgroupPaths(v2, own).unified).toBe('/sys/fs/cgroup/user/a');
  });

  it('follows the mount root inside a cgroup namespace', () => {
    const layout = parseLayout('31 30 0:27 /outer /sys/fs/cgroup rw - cgroup2 cgroup2 rw');
    expect(cgroupPaths('/outer/c1', 'c1', layout).unified).toBe('/sys/fs/cgroup/c1');
  });
});

describe('parseProcCgroup', () => {
  it('keys v1 lines by controllers and the unified line by ""', () => {
    const m = parseProcCgroup('4:memory:/a/b\n1:cpu,cpuacct:/\n0::/a\n');
    expect([...m]).toEqual([
      ['memory', '/a/b'],
      ['cpu,cpuacct', '/'],
      ['', '/a'],
    ]);
  });
});
