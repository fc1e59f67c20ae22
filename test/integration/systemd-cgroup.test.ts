// --systemd-cgroup, side by side with runc 1.1.5's systemd driver, in a node that runs
// systemd 252 as PID 1 (test/helpers/systemd-node.ts). The same bundle (memory, cpu shares
// and quota, pids, device rules) goes through each runtime's whole life: what systemd says
// of the unit, the container's own view of its cgroup, the cgroup files, an OOM kill and its
// event, update, pause, ps, stats and delete must read the same for both.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSpec } from '../../src/oci/defaults.js';
import type { AnyConfig } from '../helpers/bundle.js';
import { fixtureRootfs, repoRoot, tsrunBin } from '../helpers/paths.js';
import { until } from '../helpers/runtimes.js';
import { startSystemdNode, type SystemdNode } from '../helpers/systemd-node.js';

const MiB = 1024 * 1024;
const SHOWN = [
  'Slice', 'ControlGroup', 'Delegate', 'DefaultDependencies', 'Description',
  'MemoryAccounting', 'CPUAccounting', 'BlockIOAccounting', 'TasksAccounting',
  'MemoryLimit', 'CPUShares', 'CPUQuotaPerSecUSec', 'CPUQuotaPeriodUSec', 'TasksMax',
  'DevicePolicy', 'DeviceAllow',
];

type Runtime = 'runc' | 'tsrun';

let node: SystemdNode;

beforeAll(async () => {
  node = await startSystemdNode();
});

afterAll(async () => {
  await node?.stop();
});

function command(rt: Runtime): string[] {
  const root = `/run/${rt}-sd`;
  return rt === 'runc' ? ['runc', '--root', root, '--systemd-cgroup'] : [tsrunBin, '--root', root, '--systemd-cgroup'];
}

/** Runs the runtime in the node; stdio goes to a file, so a detached container holds no pipe of ours. */
async function runtime(rt: Runtime, args: string[]): Promise<{ code: number; out: string }> {
  const r = await node.exec(['sh', '-c', '"$@" </dev/null >/tmp/rt.out 2>&1; rc=$?; cat /tmp/rt.out; exit $rc', 'sh', ...command(rt), ...args], { timeoutMs: 60_000 });
  return { code: r.code, out: r.stdout };
}

async function ok(rt: Runtime, args: string[]): Promise<string> {
  const r = await runtime(rt, args);
  if (r.code !== 0) throw new Error(`${rt} ${args.join(' ')} exited ${r.code}: ${r.out}`);
  return r.out;
}

/** A bundle in the node's /tmp: the busybox fixture, sleeping in scope <rt>-probe.scope. */
let bundles = 0;

function makeBundle(rt: Runtime, slice = 'system.slice'): string {
  const dir = `/tmp/bundle-${++bundles}`;
  cpSync(fixtureRootfs, node.path(`${dir}/rootfs`), { recursive: true, verbatimSymlinks: true });
  const c = defaultSpec() as AnyConfig;
  c.process.terminal = false;
  c.process.args = ['sleep', '1000'];
  c.linux.cgroupsPath = `${slice}:${rt}:probe`;
  c.linux.resources = {
    memory: { limit: 64 * MiB },
    cpu: { shares: 512, quota: 50_000, period: 100_000 },
    pids: { limit: 50 },
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    ],
  };
  writeFileSync(node.path(`${dir}/config.json`), JSON.stringify(c));
  return dir;
}

async function show(unit: string): Promise<Record<string, string>> {
  const out = await node.sh(`systemctl show ${unit} ${SHOWN.map((p) => `-p ${p}`).join(' ')}`);
  const props: Record<string, string> = {};
  for (const line of out.trim().split('\n')) {
    const i = line.indexOf('=');
    const key = line.slice(0, i);
    // DeviceAllow comes once per entry.
    props[key] = props[key] === undefined ? line.slice(i + 1) : `${props[key]}; ${line.slice(i + 1)}`;
  }
  return props;
}

function cgroupFile(unit: string, controller: string, file: string): string {
  return readFileSync(node.path(`/sys/fs/cgroup/${controller}/system.slice/${unit}/${file}`), 'utf8').trim();
}

function limits(unit: string): Record<string, string> {
  return {
    memory: cgroupFile(unit, 'memory', 'memory.limit_in_bytes'),
    shares: cgroupFile(unit, 'cpu', 'cpu.shares'),
    quota: cgroupFile(unit, 'cpu', 'cpu.cfs_quota_us'),
    period: cgroupFile(unit, 'cpu', 'cpu.cfs_period_us'),
    pids: cgroupFile(unit, 'pids', 'pids.max'),
    devices: cgroupFile(unit, 'devices', 'devices.list'),
  };
}

/** Everything one runtime's container shows through its life, with the runtime's name taken out. */
async function lifeOf(rt: Runtime): Promise<Record<string, unknown>> {
  const id = `sd-${rt}`;
  const unit = `${rt}-probe.scope`;
  const bundle = makeBundle(rt);
  const view: Record<string, unknown> = {};
  await ok(rt, ['run', '--detach', '--bundle', bundle, id]);
  try {
    view.unit = await show(unit);
    view.ownCgroup = (await ok(rt, ['exec', id, 'cat', '/proc/self/cgroup'])).split('\n').filter((l) => /:(memory|pids|name=systemd):/.test(l));
    view.limits = limits(unit);

    // An allocation past the memory limit is OOM-killed, and events says so.
    const events = node.exec(['sh', '-c', `timeout 20 "$@" events ${id} > /tmp/events-${rt}`, 'sh', ...command(rt)], { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    const hog = await runtime(rt, ['exec', id, 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1']);
    view.hogCode = hog.code;
    await until(`${rt} events to report the OOM kill`, () => readFileSync(node.path(`/tmp/events-${rt}`), 'utf8').includes('"oom"'), 10_000);
    view.oomEvent = true;

    await ok(rt, ['update', '--memory', String(128 * MiB), '--cpu-share', '256', '--cpu-quota', '20000', '--pids-limit', '60', id]);
    view.updatedUnit = await show(unit);
    view.updatedLimits = limits(unit);

    await ok(rt, ['pause', id]);
    view.paused = JSON.parse(await ok(rt, ['state', id])).status;
    view.frozen = cgroupFile(unit, 'freezer', 'freezer.state');
    await ok(rt, ['resume', id]);
    view.resumed = JSON.parse(await ok(rt, ['state', id])).status;

    view.ps = (await ok(rt, ['ps', id])).includes('sleep 1000');
    const stats = JSON.parse(await ok(rt, ['events', '--stats', id])) as { data: { memory: { usage: { limit: number } }; pids: { current: number; limit: number } } };
    view.stats = { memoryLimit: stats.data.memory.usage.limit, pids: stats.data.pids.current, pidsLimit: stats.data.pids.limit };

    await ok(rt, ['kill', id, 'KILL']);
    await until(`${rt} container to stop`, async () => JSON.parse(await ok(rt, ['state', id])).status === 'stopped');
    await ok(rt, ['delete', id]);
    await events;
    view.afterDelete = (await node.sh(`systemctl show ${unit} -p LoadState -p ActiveState`)).trim();
    view.dirsLeft = (await node.sh(`ls -d /sys/fs/cgroup/*/system.slice/${unit} 2>/dev/null || true`)).trim();
  } finally {
    await runtime(rt, ['delete', '--force', id]);
  }
  return JSON.parse(JSON.stringify(view).replaceAll(rt, '<rt>')) as Record<string, unknown>;
}

describe('--systemd-cgroup in a systemd node, side by side with runc', () => {
  it('runs the same bundle to the same unit, files, OOM, update, pause, stats and delete', async () => {
    const runc = await lifeOf('runc');
    const ts = await lifeOf('tsrun');
    // What the test relies on, spelled out once for runc:
    expect(runc.unit).toMatchObject({
      Slice: 'system.slice',
      ControlGroup: '/system.slice/<rt>-probe.scope',
      Delegate: 'yes',
      DefaultDependencies: 'no',
      MemoryLimit: String(64 * MiB),
      CPUShares: '512',
      CPUQuotaPerSecUSec: '500ms',
      TasksMax: '50',
      DevicePolicy: 'strict',
    });
    expect(runc.ownCgroup).toContain('4:memory:/system.slice/<rt>-probe.scope');
    expect(runc.hogCode).toBe(137);
    expect(runc.afterDelete).toBe('LoadState=not-found\nActiveState=inactive');
    expect(runc.dirsLeft).toBe('');
    // ...and tsrun must show all of it the same.
    expect(ts).toEqual(runc);
  });
});

describe('--systemd-cgroup when systemd says no', () => {
  it('reports a failed start job with the unit, as runc, and leaves no unit or state', async () => {
    // A slice whose start job fails: the scope's job then ends with "dependency".
    node.writeFile('/etc/systemd/system/tsrunbad.slice', '[Unit]\nAssertPathExists=/no/such/path\n');
    await node.sh('systemctl daemon-reload');
    const outcome: Record<string, unknown> = {};
    for (const rt of ['runc', 'tsrun'] as const) {
      const id = `bad-${rt}`;
      const r = await runtime(rt, ['run', '--detach', '--bundle', makeBundle(rt, 'tsrunbad.slice'), id]);
      const left = await runtime(rt, ['state', id]);
      const unit = (await node.sh(`systemctl show ${rt}-probe.scope -p LoadState`)).trim();
      outcome[rt] = { code: r.code, says: r.out.includes(`error creating systemd unit \`${rt}-probe.scope\`: got \`dependency\``), stateLeft: left.code === 0, unit };
    }
    expect(outcome.runc).toEqual({ code: 1, says: true, stateLeft: false, unit: 'LoadState=not-found' });
    expect(outcome.tsrun).toEqual(outcome.runc);
  });
});

describe('--systemd-cgroup without a bus daemon', () => {
  it('talks to /run/systemd/private as root, and reconnects once when systemd re-executes', async () => {
    await node.sh('systemctl stop dbus.socket dbus.service');
    // One connection across a re-exec of systemd, which closes every private connection.
    const script = `
      import { spawnSync } from 'node:child_process';
      const { SystemdConnection } = await import('${repoRoot}/dist/cgroups/systemd/connection.js');
      const c = new SystemdConnection();
      const before = c.managerProperty('Version');
      spawnSync('systemctl', ['daemon-reexec']);
      const after = c.managerProperty('Version');
      c.close();
      console.log(JSON.stringify({ same: before === after }));`;
    const r = await node.exec([process.execPath, '--input-type=module', '-e', script]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ same: true });

    // And a whole container's life over the private socket.
    const bundle = makeBundle('tsrun');
    await ok('tsrun', ['run', '--detach', '--bundle', bundle, 'private']);
    expect((await node.sh('systemctl show tsrun-probe.scope -p ActiveState -p Delegate')).trim()).toBe('Delegate=yes\nActiveState=active');
    await ok('tsrun', ['delete', '--force', 'private']);
    expect((await node.sh('systemctl show tsrun-probe.scope -p LoadState')).trim()).toBe('LoadState=not-found');
  });
});

describe('--systemd-cgroup naming', () => {
  it('keeps the dash of an empty prefix, as runc does (slice::name is -name.scope)', async () => {
    const seen: Record<string, string> = {};
    for (const rt of ['runc', 'tsrun'] as const) {
      const bundle = makeBundle(rt, 'system.slice');
      const config = JSON.parse(readFileSync(node.path(`${bundle}/config.json`), 'utf8')) as AnyConfig;
      config.linux.cgroupsPath = `system.slice::noprefix-${rt}`;
      writeFileSync(node.path(`${bundle}/config.json`), JSON.stringify(config));
      await ok(rt, ['run', '--detach', '--bundle', bundle, `np-${rt}`]);
      const line = (await ok(rt, ['exec', `np-${rt}`, 'cat', '/proc/self/cgroup'])).split('\n').find((l) => l.includes(':memory:'));
      seen[rt] = (line ?? '').replace(rt, '<rt>');
      await ok(rt, ['delete', '--force', `np-${rt}`]);
    }
    expect(seen.runc).toBe('4:memory:/system.slice/-noprefix-<rt>.scope');
    expect(seen.tsrun).toBe(seen.runc);
  });
});

describe('--systemd-cgroup when create fails after the unit is made', () => {
  it('stops the unit and leaves no state, as runc', async () => {
    const outcome: Record<string, unknown> = {};
    for (const rt of ['runc', 'tsrun'] as const) {
      const bundle = makeBundle(rt, 'system.slice');
      const config = JSON.parse(readFileSync(node.path(`${bundle}/config.json`), 'utf8')) as AnyConfig;
      config.process.args = ['/no/such/program'];
      config.linux.cgroupsPath = `system.slice:${rt}:fails`;
      writeFileSync(node.path(`${bundle}/config.json`), JSON.stringify(config));
      const r = await runtime(rt, ['run', '--detach', '--bundle', bundle, `fail-${rt}`]);
      outcome[rt] = {
        failed: r.code !== 0,
        stateLeft: (await runtime(rt, ['state', `fail-${rt}`])).code === 0,
        unit: (await node.sh(`systemctl show ${rt}-fails.scope -p LoadState`)).trim(),
        dirs: (await node.sh(`ls -d /sys/fs/cgroup/*/system.slice/${rt}-fails.scope 2>/dev/null || true`)).trim(),
      };
    }
    expect(outcome.runc).toEqual({ failed: true, stateLeft: false, unit: 'LoadState=not-found', dirs: '' });
    expect(outcome.tsrun).toEqual(outcome.runc);
  });
});
