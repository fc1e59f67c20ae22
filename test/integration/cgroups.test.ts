// Cgroups through the CLI on this hybrid host: resources land in their v1 files, pause
// and resume, update, OOM kills and their events, statistics, ps, and the errors for what
// the host cannot do. Every container lives under tsrun-test/ and is deleted pass or fail.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { errorOf, runc, runCommand, tsrun } from '../helpers/cli.js';
import { leftoverCgroups } from '../helpers/leaks.js';
import { TEST_CGROUP_PARENT, tsrunBin } from '../helpers/paths.js';

const bundles: TestBundle[] = [];
function bundle(name: string, args: string[]): TestBundle {
  const b = new TestBundle(name, args);
  bundles.push(b);
  return b;
}

afterEach(async () => {
  for (const b of bundles.splice(0)) {
    await tsrun(b.root, ['delete', '--force', b.id]);
    await runc(b.root, ['delete', '--force', b.id]);
    b.remove();
  }
});

const cg = (b: TestBundle, controller: string, file: string): string =>
  readFileSync(path.join('/sys/fs/cgroup', controller, TEST_CGROUP_PARENT, b.id, file), 'utf8').trim();

async function ok(b: TestBundle, args: string[], input?: string): Promise<string> {
  const r = await tsrun(b.root, args, { input });
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return r.stdout;
}

async function status(b: TestBundle): Promise<string> {
  return (JSON.parse(await ok(b, ['state', b.id])) as { status: string }).status;
}

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const BUSY = ['/bin/sh', '-c', 'sleep 1000 & while :; do :; done'];
/** A busy container gets a fifth of a cpu, so tests running beside it keep their pace. */
const FIFTH_OF_A_CPU = { quota: 20000, period: 100000 };
const MiB = 1024 * 1024;
/**
 * The blkio weight file this host has: CFQ's, BFQ's, or none when no proportional-weight
 * scheduler is built in (then a weight is refused by name, as tested below).
 */
const BLKIO_WEIGHT = ['blkio.bfq.weight', 'blkio.weight'].find((f) => existsSync(path.join('/sys/fs/cgroup/blkio', f)));

describe('resources on cgroup v1', () => {
  it('every resource the host has lands in its v1 file', async () => {
    const [major, minor] = readFileSync('/sys/block/vda/dev', 'utf8').trim().split(':').map(Number);
    const b = bundle('res', ['/usr/local/bin/probe', 'sleep', '100']);
    b.edit((c) => {
      c.linux.resources = {
        ...c.linux.resources,
        memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 96 * MiB, swappiness: 30, kernelTCP: 16 * MiB, useHierarchy: true },
        cpu: { shares: 512, quota: 30000, period: 60000, burst: 1000, cpus: '0', mems: '0', idle: 0 },
        pids: { limit: 33 },
        blockIO: {
          ...(BLKIO_WEIGHT ? { weight: 300 } : {}),
          throttleReadBpsDevice: [{ major, minor, rate: 1048576 }],
          throttleWriteIOPSDevice: [{ major, minor, rate: 500 }],
        },
      };
    });
    await ok(b, ['create', '--bundle', b.dir, b.id]);
    expect(cg(b, 'memory', 'memory.limit_in_bytes')).toBe(String(64 * MiB));
    expect(cg(b, 'memory', 'memory.soft_limit_in_bytes')).toBe(String(32 * MiB));
    expect(cg(b, 'memory', 'memory.memsw.limit_in_bytes')).toBe(String(96 * MiB));
    expect(cg(b, 'memory', 'memory.swappiness')).toBe('30');
    expect(cg(b, 'memory', 'memory.kmem.tcp.limit_in_bytes')).toBe(String(16 * MiB));
    expect(cg(b, 'memory', 'memory.use_hierarchy')).toBe('1');
    expect(cg(b, 'cpu', 'cpu.shares')).toBe('512');
    expect(cg(b, 'cpu', 'cpu.cfs_quota_us')).toBe('30000');
    expect(cg(b, 'cpu', 'cpu.cfs_period_us')).toBe('60000');
    expect(cg(b, 'cpu', 'cpu.cfs_burst_us')).toBe('1000');
    expect(cg(b, 'cpu', 'cpu.idle')).toBe('0');
    expect(cg(b, 'cpuset', 'cpuset.cpus')).toBe('0');
    expect(cg(b, 'cpuset', 'cpuset.mems')).toBe('0');
    expect(cg(b, 'pids', 'pids.max')).toBe('33');
    if (BLKIO_WEIGHT) expect(cg(b, 'blkio', BLKIO_WEIGHT)).toBe('300');
    expect(cg(b, 'blkio', 'blkio.throttle.read_bps_device')).toBe(`${major}:${minor} 1048576`);
    expect(cg(b, 'blkio', 'blkio.throttle.write_iops_device')).toBe(`${major}:${minor} 500`);
    // The init joined before running anything of its own: it is in every hierarchy now.
    const pid = (JSON.parse(await ok(b, ['state', b.id])) as { pid: number }).pid;
    expect(cg(b, 'memory', 'cgroup.procs').split('\n')).toContain(String(pid));
    expect(cg(b, 'cpuset', 'cgroup.procs').split('\n')).toContain(String(pid));
    await ok(b, ['delete', '--force', b.id]);
    expect(leftoverCgroups(b.id)).toEqual([]);
  });

  it('a resource whose controller the host lacks is refused by name, leaving nothing', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ hugepageLimits: [{ pageSize: '2MB', limit: 2 * MiB }] }, /^linux\.resources\.hugepageLimits: the hugetlb cgroup controller is not mounted on this host$/],
      [{ network: { classID: 1048577 } }, /^linux\.resources\.network\.classID: the net_cls cgroup controller is not mounted/],
      [{ unified: { 'memory.high': '1000000' } }, /^linux\.resources\.unified: invalid configuration: cannot use unified on cgroup v1/],
      [{ blockIO: { leafWeight: 100 } }, /^linux\.resources\.blockIO\.leafWeight: blkio\.leaf_weight is missing/],
      // The kernel's own refusal, half-way through the writes: the cgroups made so far go too.
      [{ cpu: { shares: 1 } }, /^linux\.resources\.cpu\.shares: the minimum allowed cpu-shares is 2$/],
      [{ memory: { swap: 8 * MiB } }, /^linux\.resources\.memory\.swap: write "8388608" to .*memsw\.limit_in_bytes: EINVAL$/],
      BLKIO_WEIGHT
        ? // BFQ takes a per-device weight only for a disk it schedules; vda here runs mq-deadline.
          [
            { blockIO: { weightDevice: [{ major: 254, minor: 0, weight: 200 }] } },
            /^linux\.resources\.blockIO\.weightDevice\[0\]\.weight: write "254:0 200" to .*blkio\.bfq\.weight_device: ENOTSUP$/,
          ]
        : [
            { blockIO: { weightDevice: [{ major: 254, minor: 0, weight: 200 }] } },
            /^linux\.resources\.blockIO\.weightDevice\[0\]: neither blkio\.weight_device nor blkio\.bfq\.weight_device exists: no proportional-weight I\/O scheduler on this host$/,
          ],
    ];
    if (!BLKIO_WEIGHT) {
      cases.push([{ blockIO: { weight: 300 } }, /^linux\.resources\.blockIO\.weight: neither blkio\.weight nor blkio\.bfq\.weight exists/]);
    }
    for (const [resources, message] of cases) {
      const b = bundle('refuse', ['/bin/true']);
      b.edit((c) => (c.linux.resources = { ...c.linux.resources, ...resources }));
      const r = await tsrun(b.root, ['create', '--bundle', b.dir, b.id]);
      expect(r.code).toBe(1);
      expect(errorOf(r)).toMatch(message);
      expect(leftoverCgroups(b.id)).toEqual([]);
      expect(existsSync(path.join(b.root, b.id))).toBe(false);
    }
  });

  it('--systemd-cgroup says why it cannot work here and checks the path first', async () => {
    const b = bundle('systemd', ['/bin/true']);
    b.edit((c) => (c.linux.cgroupsPath = 'system.slice:tsrun:x'));
    const r = await tsrun(b.root, ['--systemd-cgroup', 'create', '--bundle', b.dir, b.id]);
    expect(errorOf(r)).toBe(
      '--systemd-cgroup: systemd is not running on this host (no /run/systemd/system), so it cannot create unit tsrun-x.scope in system.slice; use the default cgroupfs driver',
    );
    b.edit((c) => (c.linux.cgroupsPath = '/not/a/slice'));
    const bad = await tsrun(b.root, ['--systemd-cgroup', 'create', '--bundle', b.dir, b.id]);
    expect(errorOf(bad)).toMatch(/^linux\.cgroupsPath: expected "slice:prefix:name"/);
    expect(leftoverCgroups(b.id)).toEqual([]);
    expect(existsSync(path.join(b.root, b.id))).toBe(false);
  });
});

describe('pause and resume', () => {
  it('pause freezes every process and state says paused; resume thaws', async () => {
    const b = bundle('pause', BUSY);
    b.edit((c) => (c.linux.resources = { ...c.linux.resources, cpu: FIFTH_OF_A_CPU }));
    await ok(b, ['run', '--detach', '--bundle', b.dir, b.id]);
    const pids = JSON.parse(await ok(b, ['ps', '--format', 'json', b.id])) as number[];
    expect(pids.length).toBeGreaterThanOrEqual(2);

    await ok(b, ['pause', b.id]);
    expect(await status(b)).toBe('paused');
    expect(cg(b, 'freezer', 'freezer.state')).toBe('FROZEN');
    const before = pids.map(cpuTicks);
    await sleep(300);
    expect(pids.map(cpuTicks)).toEqual(before);
    expect(errorOf(await tsrun(b.root, ['pause', b.id]))).toBe('container not running or created: paused');
    expect(errorOf(await tsrun(b.root, ['start', b.id]))).toMatch(/paused/);

    await ok(b, ['resume', b.id]);
    expect(await status(b)).toBe('running');
    const thawed = pids.map(cpuTicks);
    await sleep(300);
    // the busy loop runs again (the sleeping child need not)
    expect(Math.max(...pids.map((p, i) => cpuTicks(p) - (thawed[i] ?? 0)))).toBeGreaterThan(0);
    expect(errorOf(await tsrun(b.root, ['resume', b.id]))).toBe('container not paused');

    // SIGKILL to a paused container's init lands: it is thawed for it.
    await ok(b, ['pause', b.id]);
    await ok(b, ['kill', b.id, 'KILL']);
    for (let i = 0; i < 100 && (await status(b)) !== 'stopped'; i++) await sleep(20);
    expect(await status(b)).toBe('stopped');
    await ok(b, ['delete', b.id]);
    expect(leftoverCgroups(b.id)).toEqual([]);
  });
});

describe('update', () => {
  it("changes a running container's limits, by flags and by --resources JSON on stdin", async () => {
    const b = bundle('update', ['/usr/local/bin/probe', 'sleep', '100']);
    b.edit((c) => (c.linux.resources = { ...c.linux.resources, memory: { limit: 64 * MiB }, cpu: { quota: 20000, period: 100000 } }));
    await ok(b, ['run', '--detach', '--bundle', b.dir, b.id]);

    await ok(b, ['update', '--memory', '128m', '--memory-swap', '256m', '--pids-limit', '20', '--cpu-share', '256', '--cpu-quota', '50000', '--cpuset-cpus', '1', b.id]);
    expect(cg(b, 'memory', 'memory.limit_in_bytes')).toBe(String(128 * MiB));
    expect(cg(b, 'memory', 'memory.memsw.limit_in_bytes')).toBe(String(256 * MiB));
    expect(cg(b, 'pids', 'pids.max')).toBe('20');
    expect(cg(b, 'cpu', 'cpu.shares')).toBe('256');
    expect(cg(b, 'cpu', 'cpu.cfs_quota_us')).toBe('50000');
    expect(cg(b, 'cpuset', 'cpuset.cpus')).toBe('1');

    // go-runc's form: only what changes, on stdin; the rest stays as it was.
    const change = { memory: { limit: 96 * MiB }, ...(BLKIO_WEIGHT ? { blockIO: { weight: 400 } } : {}) };
    await ok(b, ['update', '--resources', '-', b.id], JSON.stringify(change));
    expect(cg(b, 'memory', 'memory.limit_in_bytes')).toBe(String(96 * MiB));
    expect(cg(b, 'memory', 'memory.memsw.limit_in_bytes')).toBe(String(256 * MiB));
    if (BLKIO_WEIGHT) expect(cg(b, 'blkio', BLKIO_WEIGHT)).toBe('400');
    expect(cg(b, 'pids', 'pids.max')).toBe('20');

    const low = await tsrun(b.root, ['update', '--memory', '4k', b.id]);
    expect(errorOf(low)).toMatch(/^linux\.resources\.memory\.limit: unable to set memory limit to 4096 \(current usage: \d+, peak usage: \d+\)$/);
    const bad = await tsrun(b.root, ['update', '--resources', '-', b.id], { input: '{"memory":{"limit":"x"}}' });
    expect(errorOf(bad)).toMatch(/^--resources: memory\.limit: /);
    expect(cg(b, 'memory', 'memory.limit_in_bytes')).toBe(String(96 * MiB));

    await ok(b, ['kill', b.id, 'KILL']);
    await sleep(200);
    expect(errorOf(await tsrun(b.root, ['update', '--memory', '1g', b.id]))).toBe('container not running');
  });
});

describe('OOM', () => {
  it('a container over its memory limit is OOM-killed, exits 137, and events reports it', async () => {
    const b = bundle('oom', ['/usr/local/bin/probe', 'memhog', '64']);
    b.edit((c) => (c.linux.resources = { ...c.linux.resources, memory: { limit: 16 * MiB, swap: 16 * MiB } }));
    await ok(b, ['create', '--bundle', b.dir, b.id]);
    const events = runCommand(tsrunBin, ['--root', b.root, 'events', '--interval', '100ms', b.id], { timeoutMs: 20_000 });
    await sleep(300);
    await ok(b, ['start', b.id]);
    for (let i = 0; i < 100 && (await status(b)) !== 'stopped'; i++) await sleep(50);
    await ok(b, ['delete', b.id]);
    const r = await events;
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; id: string });
    expect(lines).toContainEqual({ type: 'oom', id: b.id });
    expect(lines.filter((l) => l.type === 'stats').length).toBeGreaterThan(0);

    const fg = bundle('oomrun', ['/usr/local/bin/probe', 'memhog', '64']);
    fg.edit((c) => (c.linux.resources = { ...c.linux.resources, memory: { limit: 16 * MiB, swap: 16 * MiB } }));
    const run = await tsrun(fg.root, ['run', '--bundle', fg.dir, fg.id]);
    expect(run.code).toBe(137);
    expect(leftoverCgroups(fg.id)).toEqual([]);
  });
});

describe('events --stats and ps', () => {
  it('shows non-zero cpu and memory for a busy container, agreeing with the cgroup files', async () => {
    const b = bundle('stats', BUSY);
    b.edit((c) => (c.linux.resources = { ...c.linux.resources, memory: { limit: 64 * MiB }, pids: { limit: 40 }, cpu: FIFTH_OF_A_CPU }));
    await ok(b, ['run', '--detach', '--bundle', b.dir, b.id]);
    await sleep(400);
    const cpuBefore = BigInt(cg(b, 'cpuacct', 'cpuacct.usage'));
    const ev = JSON.parse(await ok(b, ['events', '--stats', b.id])) as {
      type: string;
      id: string;
      data: { cpu: { usage: { total: number; percpu: number[] } }; memory: { usage: { usage: number; limit: number } }; pids: { current: number; limit: number } };
    };
    const cpuAfter = BigInt(cg(b, 'cpuacct', 'cpuacct.usage'));
    expect(ev.type).toBe('stats');
    expect(ev.id).toBe(b.id);
    const total = BigInt(ev.data.cpu.usage.total);
    expect(total).toBeGreaterThan(0n);
    expect(total >= cpuBefore && total <= cpuAfter).toBe(true);
    expect(ev.data.cpu.usage.percpu.length).toBeGreaterThan(0);
    expect(ev.data.memory.usage.usage).toBeGreaterThan(0);
    expect(ev.data.memory.usage.limit).toBe(64 * MiB);
    expect(ev.data.pids).toEqual({ current: Number(cg(b, 'pids', 'pids.current')), limit: 40 });

    const pids = JSON.parse(await ok(b, ['ps', '--format', 'json', b.id])) as number[];
    expect(pids.sort()).toEqual(cg(b, 'pids', 'cgroup.procs').split('\n').map(Number).sort());
    const table = (await ok(b, ['ps', b.id])).trim().split('\n');
    expect(table[0]).toMatch(/^UID\s+PID\s+PPID/);
    expect(table.slice(1).map((l) => Number(l.trim().split(/\s+/)[1])).sort()).toEqual(pids.sort());
    const custom = (await ok(b, ['ps', b.id, '-o', 'pid,comm'])).trim().split('\n');
    expect(custom[0]).toMatch(/^\s*PID COMMAND$/);
    expect(custom.slice(1).map((l) => l.trim().split(/\s+/)[1]).sort()).toEqual(['sh', 'sleep']);
  });

  it("has the shape of runc's events --stats", async () => {
    const keys = (v: unknown, at = ''): string[] =>
      v && typeof v === 'object' && !Array.isArray(v) && !at.endsWith('.raw')
        ? Object.entries(v).flatMap(([k, x]) => [`${at}.${k}`, ...keys(x, `${at}.${k}`)])
        : [];
    const shapes: string[][] = [];
    for (const tool of [tsrun, runc]) {
      const b = bundle(tool === tsrun ? 'shape' : 'shaperunc', ['/usr/local/bin/probe', 'sleep', '100']);
      b.edit((c) => (c.linux.resources = { ...c.linux.resources, memory: { limit: 64 * MiB }, pids: { limit: 40 } }));
      expect((await tool(b.root, ['run', '--detach', '--bundle', b.dir, b.id])).code).toBe(0);
      const r = await tool(b.root, ['events', '--stats', b.id]);
      // blkio's lists (omitted when empty, as runc omits them) fill only once the container
      // has read past the page cache, and memory.cache (omitted when 0, as runc omits it)
      // counts the page cache charged to the container, which goes to whichever cgroup first
      // read a page: neither run controls that, so they are left out here
      // (test/unit/cgroups/v1-stats.test.ts reads them from the cgroup files).
      const uncontrolled = (k: string): boolean => k.startsWith('.data.blkio.') || k === '.data.memory.cache';
      shapes.push(keys(JSON.parse(r.stdout)).filter((k) => !uncontrolled(k)).sort());
      await tool(b.root, ['delete', '--force', b.id]);
    }
    expect(shapes[0]).toEqual(shapes[1]);
  });
});
