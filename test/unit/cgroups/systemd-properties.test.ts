// The unit properties of the systemd driver, against what runc 1.1.5 sent for the same
// config (read back from systemd 252 in the test node: `systemctl show` and the drop-ins).
import { describe, expect, it } from 'vitest';
import { defaultDeviceRules } from '../../../src/cgroups/default-devices.js';
import type { DeviceRule } from '../../../src/cgroups/manager.js';
import { deviceGroup, deviceProperties, rangeToBits, resourceProperties, startProperties, unifiedProperties } from '../../../src/cgroups/systemd/properties.js';

const PROC_DEVICES = `Character devices:
  1 mem
  4 /dev/vc/0
  4 tty
  5 /dev/tty
136 pts
180 usb

Block devices:
  8 sd
254 virtblk
`;

const DEFAULT_NODES = [
  { major: 1, minor: 3 },
  { major: 1, minor: 8 },
  { major: 1, minor: 7 },
  { major: 5, minor: 0 },
  { major: 1, minor: 5 },
  { major: 1, minor: 9 },
];

const ctx = (v2: boolean, version = 252) => ({ v2, version: () => version });

describe('systemd unit properties', () => {
  it('starts a scope in its slice, delegated, with the pid and accounting, as runc', () => {
    expect(startProperties({ unit: 'runc-b1.scope', slice: 'system.slice', name: 'b1', pid: 42, v2: false })).toEqual([
      ['Description', ['s', 'libcontainer container b1']],
      ['Slice', ['s', 'system.slice']],
      ['Delegate', ['b', true]],
      ['PIDs', ['au', [42]]],
      ['MemoryAccounting', ['b', true]],
      ['CPUAccounting', ['b', true]],
      ['BlockIOAccounting', ['b', true]],
      ['TasksAccounting', ['b', true]],
      ['DefaultDependencies', ['b', false]],
    ]);
    const slice = startProperties({ unit: 'kubepods-pod1.slice', slice: 'kubepods.slice', name: 'kubepods-pod1.slice', pid: 7, v2: true });
    expect(slice.slice(1, 3)).toEqual([
      ['Wants', ['as', ['kubepods.slice']]],
      ['PIDs', ['au', [7]]],
    ]);
    expect(slice.map(([n]) => n)).toContain('IOAccounting');
    expect(slice.map(([n]) => n)).not.toContain('Delegate');
  });

  it('turns the default rules plus c 1:3 into runc 1.1.5\'s DeviceAllow list, sorted by major, minor, type', () => {
    const rules: DeviceRule[] = [
      { allow: false, type: 'a', major: '*', minor: '*', access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      ...defaultDeviceRules(DEFAULT_NODES),
    ];
    const { props, exact } = deviceProperties(rules, () => PROC_DEVICES);
    expect(exact).toBe(true);
    expect(props).toEqual([
      ['DevicePolicy', ['s', 'strict']],
      ['DeviceAllow', ['a(ss)', []]],
      [
        'DeviceAllow',
        [
          'a(ss)',
          [
            ['block-*', 'm'],
            ['char-*', 'm'],
            ['/dev/char/1:3', 'rwm'],
            ['/dev/char/1:5', 'rwm'],
            ['/dev/char/1:7', 'rwm'],
            ['/dev/char/1:8', 'rwm'],
            ['/dev/char/1:9', 'rwm'],
            ['/dev/char/5:0', 'rwm'],
            ['/dev/char/5:2', 'rwm'],
            ['/dev/char/10:200', 'rwm'],
            ['char-pts', 'rwm'],
          ],
        ],
      ],
    ]);
  });

  it('gives allow-all as DevicePolicy=auto and other deny-lists as a deny-all', () => {
    expect(deviceProperties([{ allow: true, type: 'a', major: '*', minor: '*', access: 'rwm' }], () => '').props).toEqual([
      ['DevicePolicy', ['s', 'auto']],
      ['DeviceAllow', ['a(ss)', []]],
    ]);
    const denyOne: DeviceRule[] = [
      { allow: true, type: 'a', major: '*', minor: '*', access: 'rwm' },
      { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' },
    ];
    expect(deviceProperties(denyOne, () => '')).toEqual({
      props: [
        ['DevicePolicy', ['s', 'strict']],
        ['DeviceAllow', ['a(ss)', []]],
      ],
      exact: false,
    });
  });

  it('skips what DeviceAllow cannot say: *:n, and a major /proc/devices does not name', () => {
    const rules: DeviceRule[] = [
      { allow: true, type: 'c', major: '*', minor: 3, access: 'r' },
      { allow: true, type: 'c', major: 99, minor: '*', access: 'r' },
      { allow: true, type: 'b', major: 8, minor: '*', access: 'rw' },
    ];
    const { props, exact } = deviceProperties(rules, () => PROC_DEVICES);
    expect(props[2]).toEqual(['DeviceAllow', ['a(ss)', [['block-sd', 'rw']]]]);
    expect(exact).toBe(false);
    expect(deviceGroup(PROC_DEVICES, 'c', 4)).toBe('/dev/vc/0');
    expect(deviceGroup(PROC_DEVICES, 'b', 136)).toBeUndefined();
  });

  it('maps v1 resources as runc 1.1 does (MemoryLimit, CPUShares, quota per second, TasksMax, BlockIOWeight)', () => {
    const props = resourceProperties(
      { memory: { limit: 67108864 }, cpu: { shares: 512, quota: 50000, period: 100000 }, pids: { limit: 50 }, blockIO: { weight: 300 } },
      ctx(false),
    );
    expect(props).toEqual([
      ['MemoryLimit', ['t', 67108864n]],
      ['CPUShares', ['t', 512n]],
      ['CPUQuotaPeriodUSec', ['t', 100000n]],
      ['CPUQuotaPerSecUSec', ['t', 500000n]],
      ['BlockIOWeight', ['t', 300n]],
      ['TasksMax', ['t', 50n]],
    ]);
  });

  it('rounds the quota per second up to whole percents and treats -1 as infinity', () => {
    const props = resourceProperties({ memory: { limit: -1 }, cpu: { quota: 33333, period: 100000 }, pids: { limit: -1 } }, ctx(false));
    expect(props).toContainEqual(['CPUQuotaPerSecUSec', ['t', 340000n]]);
    expect(props).toContainEqual(['MemoryLimit', ['t', 2n ** 64n - 1n]]);
    expect(props).toContainEqual(['TasksMax', ['t', 2n ** 64n - 1n]]);
    // A period alone means no quota; systemd before 242 has no period property.
    expect(resourceProperties({ cpu: { period: 50000 } }, ctx(false, 241))).toEqual([['CPUQuotaPerSecUSec', ['t', 2n ** 64n - 1n]]]);
  });

  it('maps v2 resources: MemoryMax, MemoryLow, MemorySwapMax (swap alone), CPUWeight from shares', () => {
    const props = resourceProperties(
      { memory: { limit: 100 << 20, reservation: 50 << 20, swap: 200 << 20 }, cpu: { shares: 1024, cpus: '0-1,3' } },
      ctx(true),
    );
    expect(props).toEqual([
      ['MemoryMax', ['t', 104857600n]],
      ['MemoryLow', ['t', 52428800n]],
      ['MemorySwapMax', ['t', 104857600n]],
      ['CPUWeight', ['t', 39n]],
      ['AllowedCPUs', ['ay', [0b1011]]],
    ]);
    // AllowedCPUs exists since systemd 244 only: the file still gets the value.
    expect(resourceProperties({ cpu: { cpus: '1' } }, ctx(true, 243))).toEqual([]);
  });

  it('maps the unified files systemd has a property for, and leaves the rest to the files', () => {
    expect(unifiedProperties({ 'memory.high': '1000', 'pids.max': 'max', 'cpu.max': '20000 100000', 'io.weight': '50' }, () => 252)).toEqual([
      ['MemoryHigh', ['t', 1000n]],
      ['TasksMax', ['t', 2n ** 64n - 1n]],
      ['CPUQuotaPeriodUSec', ['t', 100000n]],
      ['CPUQuotaPerSecUSec', ['t', 200000n]],
    ]);
    expect(() => unifiedProperties({ 'memory.max': 'lots' }, () => 252)).toThrow(/unified\.memory\.max/);
  });

  it('encodes cpu lists as little-endian bit masks and refuses bad ones with the field', () => {
    expect(rangeToBits('cpu.cpus', '0')).toEqual([1]);
    expect(rangeToBits('cpu.cpus', '8-9, 15')).toEqual([0, 0b10000011]);
    expect(() => rangeToBits('cpu.cpus', '3-1')).toThrow(/cpu\.cpus/);
    expect(() => rangeToBits('cpu.mems', ',')).toThrow(/cpu\.mems/);
  });
});
