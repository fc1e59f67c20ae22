// Flag and output handling of update, events and ps, without containers.
import { describe, expect, it } from 'vitest';
import { ramInBytes, resourcesFromFlags } from '../../../src/cli/commands/update.js';
import { parseDuration } from '../../../src/cli/commands/events.js';
import { filterPsOutput } from '../../../src/cli/commands/ps.js';

describe('update flags', () => {
  it('reads sizes as docker/go-units RAMInBytes does', () => {
    expect(ramInBytes('--memory', '512')).toBe(512);
    expect(ramInBytes('--memory', '100m')).toBe(100 * 1024 * 1024);
    expect(ramInBytes('--memory', '1.5g')).toBe(1.5 * 1024 ** 3);
    expect(ramInBytes('--memory', '64KiB')).toBe(64 * 1024);
    expect(ramInBytes('--memory', '-1')).toBe(-1);
    expect(() => ramInBytes('--memory', '12x')).toThrow(/^--memory: invalid size/);
  });

  it("maps runc's flags to LinuxResources", () => {
    expect(
      resourcesFromFlags({ memory: '1g', memorySwap: '-1', cpuShare: '512', cpuQuota: '-1', cpusetCpus: '0', pidsLimit: '10', blkioWeight: '300' }),
    ).toEqual({
      memory: { limit: 1024 ** 3, swap: -1 },
      cpu: { shares: 512, quota: -1, cpus: '0' },
      pids: { limit: 10 },
      blockIO: { weight: 300 },
    });
    expect(resourcesFromFlags({ cpuShares: '256' }).cpu).toEqual({ shares: 256 });
    expect(() => resourcesFromFlags({ cpuPeriod: 'x' })).toThrow(/^--cpu-period: /);
  });
});

describe('events --interval', () => {
  it("reads Go durations", () => {
    expect(parseDuration('5s', '--interval')).toBe(5000);
    expect(parseDuration('100ms', '--interval')).toBe(100);
    expect(parseDuration('1m30s', '--interval')).toBe(90000);
    expect(() => parseDuration('5', '--interval')).toThrow(/^--interval: invalid duration "5"$/);
    expect(() => parseDuration('5sx', '--interval')).toThrow(/invalid duration/);
  });
});

describe('ps table', () => {
  const output = ['UID        PID  PPID  C STIME TTY          TIME CMD', 'root         1     0  0 10:00 ?        00:00:01 init', 'root       42     1  0 10:01 ?        00:00:00 sleep 100', ''].join('\n');

  it("keeps the header and the container's rows", () => {
    expect(filterPsOutput(output, [42])).toBe(
      'UID        PID  PPID  C STIME TTY          TIME CMD\nroot       42     1  0 10:01 ?        00:00:00 sleep 100\n',
    );
  });

  it('finds the PID column wherever ps put it', () => {
    expect(filterPsOutput('COMMAND PID\nsleep 42\nsh 7\n', [7])).toBe('COMMAND PID\nsh 7\n');
    expect(() => filterPsOutput('COMMAND\nsleep\n', [7])).toThrow(/couldn't find PID field/);
  });
});
