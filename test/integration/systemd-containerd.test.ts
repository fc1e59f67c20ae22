// The shim with SystemdCgroup = true, in a systemd node running containerd 1.6 as a delegated
// service: ctr (io.containerd.ts.v2 with --runtime-config-path, since ctr sends runc's own
// options only to io.containerd.runc.v2; and --runc-systemd-cgroup with containerd's runc
// shim running tsrun as its runc binary) and a CRI pod whose cgroup_parent is a slice (the
// `ts` handler's ConfigPath file says SystemdCgroup = true: containerd 1.6 hands any runtime
// but runc's only that path). Containers and sandbox land in scopes under the slice, with
// their limits as unit properties; stats, update, pause and delete work on them.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { criClient, type CriClient } from '../helpers/cri/client.js';
import { BUSYBOX_IMAGE } from '../helpers/cri/env.js';
import { ContainerState, NamespaceMode } from '../helpers/cri/gen/runtime/v1/api_pb.js';
import { waitState } from '../helpers/cri/inspect.js';
import { startNodeContainerd, TS_OPTIONS_FILE, type NodeContainerd } from '../helpers/node-containerd.js';
import { tsrunBin } from '../helpers/paths.js';
import { until } from '../helpers/runtimes.js';
import { startSystemdNode, type SystemdNode } from '../helpers/systemd-node.js';

const MiB = 1024 * 1024;

let node: SystemdNode;
let ctd: NodeContainerd;
let cri: CriClient;

beforeAll(async () => {
  node = await startSystemdNode();
  ctd = await startNodeContainerd(node);
  cri = criClient(ctd.hostSocket);
}, 120_000);

afterAll(async () => {
  cri?.close();
  await node?.stop();
});

async function unit(name: string, props: string[]): Promise<Record<string, string>> {
  const out = await node.sh(`systemctl show ${name} ${props.map((p) => `-p ${p}`).join(' ')}`);
  return Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

const file = (controller: string, cgroup: string, name: string): string => readFileSync(node.path(`/sys/fs/cgroup/${controller}${cgroup}/${name}`), 'utf8').trim();

describe('the shim with SystemdCgroup = true, under containerd in a systemd node', () => {
  // ctr 1.6 has no task update: the CRI pod below updates through containerd.
  it('ctr run --cgroup system.slice:x:y makes a delegated scope with the limits; metrics, pause and delete work', async () => {
    const ns = 'ctrtest';
    await ctd.ctr(['run', '-d', '--runtime', 'io.containerd.ts.v2', '--runtime-config-path', TS_OPTIONS_FILE, '--cgroup', 'system.slice:ctr:c1', '--memory-limit', String(64 * MiB), BUSYBOX_IMAGE, 'c1', 'sleep', '1000'], ns);
    expect(await unit('ctr-c1.scope', ['Slice', 'Delegate', 'MemoryLimit', 'ActiveState'])).toEqual({ Slice: 'system.slice', Delegate: 'yes', MemoryLimit: String(64 * MiB), ActiveState: 'active' });
    expect(file('memory', '/system.slice/ctr-c1.scope', 'memory.limit_in_bytes')).toBe(String(64 * MiB));
    // The task's own view of its cgroup names the scope.
    expect(await ctd.ctr(['task', 'exec', '--exec-id', 'e1', 'c1', 'cat', '/proc/self/cgroup'], ns)).toMatch(/^\d+:memory:\/system\.slice\/ctr-c1\.scope$/m);

    expect(await ctd.ctr(['task', 'metrics', 'c1'], ns)).toMatch(new RegExp(`memory\\.limit_in_bytes\\s+${64 * MiB}`));

    await ctd.ctr(['task', 'pause', 'c1'], ns);
    expect(await ctd.ctr(['task', 'ls'], ns)).toMatch(/c1\s+\d+\s+PAUSED/);
    expect(file('freezer', '/system.slice/ctr-c1.scope', 'freezer.state')).toBe('FROZEN');
    await ctd.ctr(['task', 'resume', 'c1'], ns);
    expect(await ctd.ctr(['task', 'ls'], ns)).toMatch(/c1\s+\d+\s+RUNNING/);

    await ctd.ctr(['task', 'kill', '-s', 'KILL', 'c1'], ns);
    await until('c1 to stop', async () => /c1\s+\d+\s+STOPPED/.test(await ctd.ctr(['task', 'ls'], ns)));
    await ctd.ctr(['task', 'delete', 'c1'], ns);
    await ctd.ctr(['container', 'delete', 'c1'], ns);
    expect((await unit('ctr-c1.scope', ['LoadState'])).LoadState).toBe('not-found');
    expect(await node.sh('ls -d /sys/fs/cgroup/*/system.slice/ctr-c1.scope 2>/dev/null || true')).toBe('');
  });

  it('ctr run --runc-systemd-cgroup under containerd\'s runc shim drives tsrun --systemd-cgroup to the same scope', async () => {
    const ns = 'ctrtest';
    await ctd.ctr(['run', '-d', '--runtime', 'io.containerd.runc.v2', '--runc-binary', tsrunBin, '--runc-systemd-cgroup', '--cgroup', 'system.slice:ctr:c2', '--memory-limit', String(64 * MiB), BUSYBOX_IMAGE, 'c2', 'sleep', '1000'], ns);
    expect(await unit('ctr-c2.scope', ['Slice', 'Delegate', 'MemoryLimit', 'ActiveState'])).toEqual({ Slice: 'system.slice', Delegate: 'yes', MemoryLimit: String(64 * MiB), ActiveState: 'active' });
    expect(await ctd.ctr(['task', 'metrics', 'c2'], ns)).toMatch(new RegExp(`memory\\.limit_in_bytes\\s+${64 * MiB}`));
    await ctd.ctr(['task', 'pause', 'c2'], ns);
    expect(file('freezer', '/system.slice/ctr-c2.scope', 'freezer.state')).toBe('FROZEN');
    await ctd.ctr(['task', 'resume', 'c2'], ns);
    await ctd.ctr(['task', 'kill', '-s', 'KILL', 'c2'], ns);
    await until('c2 to stop', async () => /c2\s+\d+\s+STOPPED/.test(await ctd.ctr(['task', 'ls'], ns)));
    await ctd.ctr(['task', 'delete', 'c2'], ns);
    await ctd.ctr(['container', 'delete', 'c2'], ns);
    expect((await unit('ctr-c2.scope', ['LoadState'])).LoadState).toBe('not-found');
  });

  it('a CRI pod whose cgroup_parent is a slice: sandbox and containers in scopes under it; stats, update, OOM, delete', async () => {
    const slice = 'kubepods-besteffort-podtsrun.slice';
    const config = {
      metadata: { name: 'sd-pod', uid: `uid-sd-${process.pid}`, namespace: 'tsrun-test' },
      linux: { cgroupParent: slice, securityContext: { namespaceOptions: { network: NamespaceMode.NODE, pid: NamespaceMode.CONTAINER } } },
    };
    const { podSandboxId } = await cri.runtime.runPodSandbox({ config, runtimeHandler: 'ts' });
    const sandboxScope = `cri-containerd-${podSandboxId}.scope`;
    const slicePath = '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podtsrun.slice';
    expect(await unit(sandboxScope, ['Slice', 'Delegate', 'ActiveState', 'ControlGroup'])).toEqual({
      Slice: slice,
      Delegate: 'yes',
      ActiveState: 'active',
      ControlGroup: `${slicePath}/${sandboxScope}`,
    });

    const { containerId } = await cri.runtime.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name: 'sleeper' },
        image: { image: BUSYBOX_IMAGE },
        command: ['sleep', '1000'],
        linux: { resources: { memoryLimitInBytes: BigInt(64 * MiB), cpuPeriod: 100_000n, cpuQuota: 50_000n } },
      },
    });
    await cri.runtime.startContainer({ containerId });
    const scope = `cri-containerd-${containerId}.scope`;
    expect(await unit(scope, ['Slice', 'Delegate', 'MemoryLimit', 'CPUQuotaPerSecUSec'])).toEqual({ Slice: slice, Delegate: 'yes', MemoryLimit: String(64 * MiB), CPUQuotaPerSecUSec: '500ms' });
    expect(file('memory', `${slicePath}/${scope}`, 'memory.limit_in_bytes')).toBe(String(64 * MiB));

    const stats = (await cri.runtime.containerStats({ containerId })).stats;
    expect(Number(stats?.memory?.workingSetBytes?.value ?? 0n)).toBeGreaterThan(0);

    await cri.runtime.updateContainerResources({ containerId, linux: { memoryLimitInBytes: BigInt(96 * MiB), cpuPeriod: 100_000n, cpuQuota: 20_000n } });
    expect(await unit(scope, ['MemoryLimit', 'CPUQuotaPerSecUSec'])).toEqual({ MemoryLimit: String(96 * MiB), CPUQuotaPerSecUSec: '200ms' });
    expect(file('memory', `${slicePath}/${scope}`, 'memory.limit_in_bytes')).toBe(String(96 * MiB));
    expect(file('cpu', `${slicePath}/${scope}`, 'cpu.cfs_quota_us')).toBe('20000');

    // An allocation past the limit: the shim's OOM watch on the scope reaches containerd.
    const { containerId: hog } = await cri.runtime.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name: 'hog' },
        image: { image: BUSYBOX_IMAGE },
        command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1'],
        linux: { resources: { memoryLimitInBytes: BigInt(32 * MiB) } },
      },
    });
    await cri.runtime.startContainer({ containerId: hog });
    await waitState(cri, hog, ContainerState.CONTAINER_EXITED);
    const { status } = await cri.runtime.containerStatus({ containerId: hog });
    expect({ exitCode: status?.exitCode, reason: status?.reason }).toEqual({ exitCode: 137, reason: 'OOMKilled' });

    await cri.runtime.stopContainer({ containerId, timeout: 1n });
    await cri.runtime.removeContainer({ containerId });
    await cri.runtime.removeContainer({ containerId: hog });
    await cri.runtime.stopPodSandbox({ podSandboxId });
    await cri.runtime.removePodSandbox({ podSandboxId });
    for (const u of [scope, `cri-containerd-${hog}.scope`, sandboxScope]) expect((await unit(u, ['LoadState'])).LoadState).toBe('not-found');
    expect(await node.sh(`ls -d /sys/fs/cgroup/*${slicePath}/cri-containerd-* 2>/dev/null || true`)).toBe('');
  });
});
