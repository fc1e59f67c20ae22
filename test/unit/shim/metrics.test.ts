// Stats in containerd's types: v2 Metrics from a temp directory shaped like a unified
// cgroup (this host's v2 tree has no resource controllers), v1 Metrics from a fake v1
// layout, and NotFound once the cgroup is gone.
import { fromBinary } from '@bufbuild/protobuf';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { V1Manager } from '../../../src/cgroups/v1/manager.js';
import { V2Manager } from '../../../src/cgroups/v2/manager.js';
import { NotFound } from '../../../src/errors.js';
import { MetricsSchema as V1Metrics } from '../../../src/gen/io/containerd/cgroups/v1/metrics_pb.js';
import { MetricsSchema as V2Metrics } from '../../../src/gen/io/containerd/cgroups/v2/metrics_pb.js';
import { metricsOf } from '../../../src/shim/metrics.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function cgroupDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-metrics-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('Stats metrics', () => {
  it('maps a v2 cgroup to io.containerd.cgroups.v2.Metrics', () => {
    const dir = cgroupDir({
      'cgroup.procs': '',
      'cpu.stat': 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 70\n',
      'memory.current': '1048576\n',
      'memory.max': '4194304\n',
      'memory.stat': 'anon 4096\nfile 8192\ninactive_file 1234\npgfault 77\npgmajfault 3\nthp_collapse_alloc 2\n',
      'memory.swap.current': '512\n',
      'memory.swap.max': 'max\n',
      'memory.events': 'low 0\nhigh 1\nmax 2\noom 3\noom_kill 4\n',
      'pids.current': '3\n',
      'pids.max': '100\n',
      'io.stat': '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n',
    });
    const any = metricsOf(new V2Manager({ v1: {}, unified: dir }));
    expect(any.typeUrl).toBe('io.containerd.cgroups.v2.Metrics');
    const m = fromBinary(V2Metrics, any.value);
    expect(m.pids).toMatchObject({ current: 3n, limit: 100n });
    expect(m.cpu).toMatchObject({ usageUsec: 2500n, userUsec: 2000n, systemUsec: 500n, nrPeriods: 4n, nrThrottled: 1n, throttledUsec: 70n });
    expect(m.memory).toMatchObject({
      anon: 4096n,
      file: 8192n,
      inactiveFile: 1234n,
      pgfault: 77n,
      pgmajfault: 3n,
      thpCollapseAlloc: 2n,
      usage: 1048576n,
      usageLimit: 4194304n,
      swapUsage: 512n,
      swapLimit: 2n ** 64n - 1n,
    });
    expect(m.memoryEvents).toMatchObject({ high: 1n, max: 2n, oom: 3n, oomKill: 4n });
    expect(m.io?.usage).toEqual([expect.objectContaining({ major: 8n, minor: 0n, rbytes: 10n, wbytes: 20n, rios: 1n, wios: 2n })]);
  });

  it('maps v1 hierarchies to io.containerd.cgroups.v1.Metrics, memory.stat keys by their protobuf names', () => {
    const memory = cgroupDir({
      'memory.stat': 'cache 100\nrss 200\npgpgin 5\npgmajfault 6\ntotal_pgfault 7\ntotal_inactive_file 8\nhierarchical_memsw_limit 9\n',
      'memory.usage_in_bytes': '300\n',
      'memory.max_usage_in_bytes': '400\n',
      'memory.failcnt': '1\n',
      'memory.limit_in_bytes': '1000\n',
      'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
    });
    const pids = cgroupDir({ 'pids.current': '2\n', 'pids.max': 'max\n' });
    const any = metricsOf(new V1Manager({ v1: { memory, pids } }));
    expect(any.typeUrl).toBe('io.containerd.cgroups.v1.Metrics');
    const m = fromBinary(V1Metrics, any.value);
    expect(m.pids).toMatchObject({ current: 2n, limit: 0n });
    expect(m.memory).toMatchObject({ cache: 100n, rss: 200n, pgPgIn: 5n, pgMajFault: 6n, totalPgFault: 7n, totalInactiveFile: 8n, hierarchicalSwapLimit: 9n });
    expect(m.memory?.usage).toMatchObject({ usage: 300n, max: 400n, failcnt: 1n, limit: 1000n });
    expect(m.memoryOomControl).toMatchObject({ oomKill: 2n });
  });

  it('answers NotFound when the cgroup is gone', () => {
    const dir = path.join(os.tmpdir(), 'tsrun-metrics-none', 'x');
    expect(() => metricsOf(new V2Manager({ v1: {}, unified: dir }))).toThrow(NotFound);
  });
});
