// Pure parts of the cgroup layer: conversions, the device policy reduction, systemd
// naming, config -> model with named fields, and the stats JSON shape.
import { describe, expect, it } from 'vitest';
import { blkioToIoWeight, mergeResources, sharesToWeight } from '../../../src/cgroups/resources.js';
import { emptyStats, encodeEvent, parseCpuList } from '../../../src/cgroups/stats.js';
import { expandSlice, systemdUnit } from '../../../src/cgroups/systemd/unit-name.js';
import { devicePolicy } from '../../../src/cgroups/v2/devices.js';
import { defaultDeviceRules } from '../../../src/cgroups/default-devices.js';
import { cgroupPaths } from '../../../src/cgroups/paths.js';
import { parseLayout } from '../../../src/cgroups/detect.js';
import { schemas } from '../../../src/oci/spec.js';
import { resourcesOf, qualifyCgroupError } from '../../../src/runtime/cgroup-config.js';
import { InvalidArgument, SystemError } from '../../../src/errors.js';

describe('conversions (runc 1.1)', () => {
  it('cpu shares to weight', () => {
    expect(sharesToWeight(0)).toBe(0);
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
  });

  it('blkio weight to io weight', () => {
    expect(blkioToIoWeight(0)).toBe(0);
    expect(blkioToIoWeight(10)).toBe(1);
    expect(blkioToIoWeight(1000)).toBe(10000);
  });

  it('merge keeps what an update leaves out', () => {
    const merged = mergeResources(
      { memory: { limit: 100, swap: 200 }, cpu: { quota: 1000, period: 5000 }, pids: { limit: 7 } },
      { memory: { limit: 150, swap: undefined }, cpu: { quota: 2000 }, pids: { limit: 0 } },
    );
    expect(merged).toEqual({ memory: { limit: 150, swap: 200 }, cpu: { quota: 2000, period: 5000 }, pids: { limit: 7 } });
  });
});

describe('device policy', () => {
  it("runc's default config: deny all, then the allow list", () => {
    const p = devicePolicy([{ allow: false, type: 'a', major: '*', minor: '*', access: 'rwm' }, ...defaultDeviceRules([{ major: 1, minor: 3 }])]);
    expect(p.defaultAllow).toBe(false);
    expect(p.exceptions).toContainEqual({ type: 'c', major: -1, minor: -1, access: 'm' });
    expect(p.exceptions).toContainEqual({ type: 'c', major: 1, minor: 3, access: 'rwm' });
    expect(p.exceptions).toContainEqual({ type: 'c', major: 136, minor: -1, access: 'rwm' });
  });

  it('a later rule of the default action takes access out of an exception', () => {
    const p = devicePolicy([
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
      { allow: false, type: 'c', major: 1, minor: 5, access: 'w' },
      { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' },
    ]);
    expect(p).toEqual({ defaultAllow: false, exceptions: [{ type: 'c', major: 1, minor: 5, access: 'rm' }] });
  });

  it('"a" resets: allow-all then denials', () => {
    const p = devicePolicy([
      { allow: true, type: 'c', major: 1, minor: 5, access: 'r' },
      { allow: true, type: 'a', major: '*', minor: '*', access: 'rwm' },
      { allow: false, type: 'b', major: 8, minor: '*', access: 'rw' },
    ]);
    expect(p).toEqual({ defaultAllow: true, exceptions: [{ type: 'b', major: 8, minor: -1, access: 'rw' }] });
  });

  it('no rules: everything denied, as runc does on v2', () => {
    expect(devicePolicy([])).toEqual({ defaultAllow: false, exceptions: [] });
  });
});

describe('systemd naming', () => {
  it('expands slices as systemd does', () => {
    expect(expandSlice('system.slice')).toBe('/system.slice');
    expect(expandSlice('a-b-c.slice')).toBe('/a.slice/a-b.slice/a-b-c.slice');
    expect(expandSlice('-.slice')).toBe('/');
    expect(() => expandSlice('a--b.slice')).toThrow(/invalid slice name/);
    expect(() => expandSlice('foo')).toThrow(/invalid slice name/);
  });

  it('slice:prefix:name becomes <prefix>-<name>.scope under the slice', () => {
    expect(systemdUnit('system.slice:docker:abc', 'x')).toEqual({ slice: 'system.slice', unit: 'docker-abc.scope', name: 'abc', path: '/system.slice/docker-abc.scope' });
    expect(systemdUnit('kubepods-burstable.slice:cri-containerd:abc', 'x').path).toBe('/kubepods.slice/kubepods-burstable.slice/cri-containerd-abc.scope');
    expect(systemdUnit(':runc:abc', 'x').path).toBe('/system.slice/runc-abc.scope');
    expect(systemdUnit('user.slice::abc', 'x').unit).toBe('-abc.scope');
    expect(systemdUnit('-.slice:p:sub.slice', 'x').path).toBe('/sub.slice');
    expect(systemdUnit(undefined, 'c1').path).toBe('/system.slice/runc-c1.scope');
    expect(() => systemdUnit('/abs/path', 'x')).toThrow(/linux\.cgroupsPath: expected "slice:prefix:name"/);
  });
});

describe('cgroupPaths', () => {
  const v2 = parseLayout('30 25 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw');
  const v1 = parseLayout('32 31 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw');
  const own = () => new Map([['memory', '/runtime/self'], ['', '/system.slice/tsrun.service']]);

  it('takes an absolute path from the root, cleaned', () => {
    expect(cgroupPaths('/a/../b/c', 'c', v2, own)).toEqual({ v1: {}, unified: '/sys/fs/cgroup/b/c', unifiedMount: '/sys/fs/cgroup' });
    expect(cgroupPaths('/../../x', 'c', v2, own).unified).toBe('/sys/fs/cgroup/x');
  });

  it("puts a relative path under the runtime's own cgroup (v1) or its parent (v2)", () => {
    expect(cgroupPaths('pods/c1', 'c1', v1, own)).toMatchObject({
      v1: { memory: '/sys/fs/cgroup/memory/runtime/self/pods/c1' },
      unified: '/sys/fs/cgroup/unified/system.slice/tsrun.service/pods/c1',
    });
    expect(cgroupPaths('pods/c1', 'c1', v2, own).unified).toBe('/sys/fs/cgroup/system.slice/pods/c1');
  });

  it('defaults to the container id, relative', () => {
    expect(cgroupPaths(undefined, 'c9', v2, own).unified).toBe('/sys/fs/cgroup/system.slice/c9');
    expect(cgroupPaths('', 'c9', v1, own).v1.memory).toBe('/sys/fs/cgroup/memory/runtime/self/c9');
  });
});

describe('config resources -> model', () => {
  const parse = (json: unknown) => schemas().Resources.parse(json);

  it('converts every group', () => {
    const r = resourcesOf(
      parse({
        memory: { limit: 100, swap: 200, swappiness: 10, disableOOMKiller: true },
        cpu: { shares: 512, quota: 1000, period: 5000, cpus: '0-1' },
        pids: { limit: 5 },
        blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 100 }] },
        hugepageLimits: [{ pageSize: '2MB', limit: 1024 }],
        network: { classID: 7 },
        unified: { 'memory.high': '100' },
      }),
    );
    expect(r.memory).toMatchObject({ limit: 100, swap: 200, swappiness: 10, disableOOMKiller: true });
    expect(r.cpu).toMatchObject({ shares: 512, quota: 1000, period: 5000, cpus: '0-1' });
    expect(r.blockIO?.throttleReadBpsDevice).toEqual([{ major: 8, minor: 0, rate: 100 }]);
    expect(r.hugepageLimits).toEqual([{ pageSize: '2MB', limit: 1024 }]);
    expect(r.unified).toEqual({ 'memory.high': '100' });
  });

  it('names the field at fault', () => {
    expect(() => resourcesOf(parse({ memory: { swappiness: 101 } }))).toThrow(/^linux\.resources\.memory\.swappiness: must be between 0 and 100/);
    expect(() => resourcesOf(parse({ memory: { limit: 200, swap: 100 } }))).toThrow(/^linux\.resources\.memory\.swap: /);
    expect(() => resourcesOf(parse({ memory: { limit: -5 } }))).toThrow(/^linux\.resources\.memory\.limit: /);
    expect(() => resourcesOf(parse({ cpu: { cpus: 'zero' } }))).toThrow(/^linux\.resources\.cpu\.cpus: /);
    expect(() => resourcesOf(parse({ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }))).toThrow(/^linux\.resources\.hugepageLimits\[0\]\.pageSize: /);
  });

  it('reads swappiness of all ones (-1 as u64) as unset, like runc', () => {
    expect(resourcesOf(parse({ memory: { swappiness: 18446744073709551615 } })).memory?.swappiness).toBeUndefined();
  });

  it("qualifies the cgroup layer's field names", () => {
    const original = SystemError.at('memory.limit', 'write "1" to /x: EBUSY', { errno: 16, path: '/x' });
    const e = qualifyCgroupError(original) as SystemError;
    expect(e.message).toBe('linux.resources.memory.limit: write "1" to /x: EBUSY');
    expect(e).toMatchObject({ kind: 'SystemError', field: 'linux.resources.memory.limit', errno: 16, path: '/x', cause: original });
    expect(e).toBeInstanceOf(SystemError);
    // The cgroup layer's error is a new one, not rewritten: whoever holds it still reads its own field.
    expect(original.message).toBe('memory.limit: write "1" to /x: EBUSY');
    expect(qualifyCgroupError(e)).toBe(e);
    const flag = InvalidArgument.at('--memory', 'bad');
    expect(qualifyCgroupError(flag)).toBe(flag);
  });
});

describe('stats JSON', () => {
  it("has runc 1.1's keys, omits what Go's omitempty omits, and keeps u64 exact", () => {
    const s = emptyStats();
    s.memory.usage.limit = 9223372036854771712n;
    s.memory.raw.set('rss', 5n).set('cache', 0n);
    s.pids.current = 3n;
    s.hugetlb.set('2MB', { usage: 0n, max: 0n, failcnt: 0n });
    const json = encodeEvent('stats', 'c1', s);
    expect(json).toContain('"limit":9223372036854771712');
    const o = JSON.parse(json) as { type: string; id: string; data: Record<string, unknown> };
    expect(o.type).toBe('stats');
    expect(Object.keys(o.data)).toEqual(['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
    expect(o.data.cpu).toEqual({ usage: { kernel: 0, user: 0 }, throttling: {} });
    expect(o.data.pids).toEqual({ current: 3 });
    expect(o.data.blkio).toEqual({});
    expect(o.data.hugetlb).toEqual({ '2MB': { failcnt: 0 } });
    expect((o.data.memory as Record<string, unknown>).kernelTCP).toEqual({ limit: 0, failcnt: 0 });
    expect(Object.keys((o.data.memory as { raw: object }).raw)).toEqual(['cache', 'rss']);
    expect(o.data.network_interfaces).toBeNull();
    expect(encodeEvent('oom', 'c1')).toBe('{"type":"oom","id":"c1"}');
  });

  it('parses cpu lists', () => {
    expect(parseCpuList('0-2,4\n')).toEqual([0, 1, 2, 4]);
    expect(parseCpuList('')).toEqual([]);
  });
});
