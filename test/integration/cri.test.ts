// Kubernetes' path: containerd 1.6's CRI plugin driven over gRPC the way kubelet drives it,
// with runtime handler `ts` (io.containerd.ts.v2, our shim) and `runc` (io.containerd.runc.v2)
// in the same run. Each pod flow runs through both handlers; the results must be equal, and
// they are also checked against what they must be (so that both cannot be wrong alike).
// containerd runs in a network namespace of the test's own (see helpers/cri/env.ts): the
// host-network pods share that namespace, and the pod network's bridge lives in it.
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CriError } from '../helpers/cri/client.js';
import { BRIDGE, BUSYBOX_IMAGE, cgroupsUnder, CRI_NAMESPACE, criEnvForFile, HANDLERS, STREAM_PORT, type Handler } from '../helpers/cri/env.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  ContainerState,
  NamespaceMode,
  PodSandboxState,
  SecurityProfile_ProfileType,
  type ContainerConfigSchema,
  type PodSandboxConfigSchema,
} from '../helpers/cri/gen/runtime/v1/api_pb.js';
import { cgroupFile, cmdline, getInNetns, ppid, sleep, streamInNetns, verbose, waitState, type Streamed } from '../helpers/cri/inspect.js';
import { isAlive } from '../helpers/leaks.js';
import { tsrunBin } from '../helpers/paths.js';

const env = criEnvForFile();
const GRACE_SECONDS = 2;
const MiB = 1 << 20;

type Network = 'host' | 'pod';

/** What one pod flow observed; equal for both handlers when the shim behaves like runc's. */
interface FlowResult {
  sandboxReady: boolean;
  podIpInSubnet: boolean | null;
  hostname: string;
  /** Each container's view of its network namespace is the sandbox's. */
  sharedNetns: boolean;
  /** The sandbox and its containers have one parent process, a shim of this handler (ours:
   *  the pod's keeper). */
  oneShim: boolean;
  containerIps: string;
  /** whether `tsrun list` (or `runc list`) on the shim's root shows the sandbox and each running container */
  listedByCli: boolean[];
  /** argv[0] of pid 1 in a container with its own pid namespace and in one sharing the pod's. */
  pid1: { own: string; pod: string };
  execSync: { stdout: string; stderr: string; exitCode: number };
  execSyncFailing: number;
  execUrl: { prefix: string; status: number; unknownToken: number };
  streamed: Streamed;
  ttyOut: string;
  seccomp: string;
  /** CapEff, host devices and a writable /sys of container e (privileged in the host-network pod) */
  privileged: string;
  stats: { cpu: boolean; memory: boolean };
  listStats: string[];
  update: { before: string; after: string; quota: string };
  exited: { state: string; exitCode: number; reason: string };
  log: string[];
  stubborn: { exitCode: number; reason: string; waitedGrace: boolean };
  polite: { exitCode: number; reason: string };
  execTimeout: string;
  /** `sleep 30` processes left in the container after the timed-out exec */
  afterTimeout: string;
  oom: { exitCode: number; reason: string };
  /** containers of the pod after the others were removed */
  removed: string[];
  sandboxAfterStop: string;
  /** the container StopPodSandbox had to stop */
  lingering: { state: string; exitCode: number };
  leftovers: string[];
}

function sandboxConfig(handler: Handler, network: Network, tag: string = network): MessageInitShape<typeof PodSandboxConfigSchema> {
  const name = `${tag}-${handler}`;
  return {
    metadata: { name, uid: `uid-${name}-${process.pid}`, namespace: 'tsrun-test' },
    hostname: network === 'pod' ? `pod-${handler}` : '',
    logDirectory: path.join(env().logDir, name),
    linux: {
      cgroupParent: env().cgroupParent(name),
      securityContext: {
        namespaceOptions: { network: network === 'host' ? NamespaceMode.NODE : NamespaceMode.POD, pid: NamespaceMode.CONTAINER },
        // The host-network pod may run a privileged container (CRI refuses one in an unprivileged sandbox).
        privileged: network === 'host',
      },
    },
  };
}

interface ContainerOptions {
  memoryLimit?: number;
  pid?: NamespaceMode;
  seccomp?: SecurityProfile_ProfileType;
  privileged?: boolean;
}

function containerConfig(name: string, script: string, o: ContainerOptions = {}): MessageInitShape<typeof ContainerConfigSchema> {
  return {
    metadata: { name },
    image: { image: BUSYBOX_IMAGE },
    command: ['sh', '-c', script],
    logPath: `${name}.log`,
    linux: {
      resources: o.memoryLimit === undefined ? undefined : { memoryLimitInBytes: BigInt(o.memoryLimit) },
      securityContext: {
        namespaceOptions: { pid: o.pid ?? NamespaceMode.CONTAINER },
        seccomp: o.seccomp === undefined ? undefined : { profileType: o.seccomp },
        privileged: o.privileged ?? false,
      },
    },
  };
}

async function podFlow(handler: Handler, network: Network): Promise<FlowResult> {
  const { cri } = env();
  const config = sandboxConfig(handler, network);
  const cgroupParent = config.linux?.cgroupParent ?? '';
  const { podSandboxId } = await cri.runtime.runPodSandbox({ config, runtimeHandler: handler });
  const create = async (c: MessageInitShape<typeof ContainerConfigSchema>): Promise<string> => {
    const { containerId } = await cri.runtime.createContainer({ podSandboxId, config: c, sandboxConfig: config });
    await cri.runtime.startContainer({ containerId });
    return containerId;
  };
  const sandboxStatus = await cri.runtime.podSandboxStatus({ podSandboxId, verbose: true });
  const sandbox = verbose(sandboxStatus.info);
  const podIp = sandboxStatus.status?.network?.ip ?? '';

  // a: answers SIGTERM, has a memory limit to update and containerd's default seccomp profile;
  // b: ignores SIGTERM, shares the pod's pid namespace (pause is its pid 1); c: exits 3.
  const a = await create(
    containerConfig('polite', 'echo hello-from-a; trap "exit 0" TERM; while :; do sleep 0.1; done', {
      memoryLimit: 64 * MiB,
      seccomp: SecurityProfile_ProfileType.RuntimeDefault,
    }),
  );
  const b = await create(containerConfig('stubborn', 'trap "" TERM; while :; do sleep 0.1; done', { pid: NamespaceMode.POD }));
  const c = await create(containerConfig('exits', 'echo bye >&2; exit 3'));
  // d: needs more memory than its limit.
  const d = await create(containerConfig('hungry', 'x=$(head -c 67108864 /dev/zero | tr "\\0" a); echo survived', { memoryLimit: 16 * MiB }));
  // e: still running when the pod is stopped; privileged in the host-network pod.
  const e = await create(containerConfig('lingering', 'while :; do sleep 0.1; done', { privileged: network === 'host' }));
  await waitState(cri, a, ContainerState.CONTAINER_RUNNING);
  await waitState(cri, b, ContainerState.CONTAINER_RUNNING);

  const statusA = verbose((await cri.runtime.containerStatus({ containerId: a, verbose: true })).info);
  const statusB = verbose((await cri.runtime.containerStatus({ containerId: b, verbose: true })).info);
  const sandboxNet = readlinkSync(`/proc/${sandbox.pid}/ns/net`);
  const netOf = async (id: string): Promise<string> => new TextDecoder().decode((await cri.runtime.execSync({ containerId: id, cmd: ['readlink', '/proc/self/ns/net'], timeout: 20n })).stdout).trim();
  const sharedNetns = (await netOf(a)) === sandboxNet && (await netOf(b)) === sandboxNet && readlinkSync(`/proc/${statusA.pid}/ns/net`) === sandboxNet;
  if (network === 'host') expect(sandboxNet).toBe(readlinkSync(`/proc/${env().shim.ctd.pid}/ns/net`));
  else expect(sandboxNet).not.toBe(readlinkSync(`/proc/${env().shim.ctd.pid}/ns/net`));

  const parents = new Set([ppid(sandbox.pid), ppid(statusA.pid), ppid(statusB.pid)]);
  const shimPid = [...parents][0] ?? -1;
  const shimCmd = cmdline(shimPid);
  const oneShim = parents.size === 1 && (handler === 'ts' ? /containerd-shim-ts-v2 .* keep$/.test(shimCmd.trim()) : shimCmd.includes('containerd-shim-runc-v2'));

  const text = (b: Uint8Array): string => new TextDecoder().decode(b);
  const ips = text((await cri.runtime.execSync({ containerId: a, cmd: ['sh', '-c', 'ip -4 -o addr show | sed "s/ \\+/ /g" | cut -d" " -f2,4'], timeout: 20n })).stdout);
  // Operators list a handler's containers with its runtime CLI on the shim's state root (the
  // running ones: CRI deletes an exited container's task at once).
  // runc 1.1.5's list fails when a container's directory goes while it reads them (CRI
  // deleting an exited task meanwhile): such a list is taken again.
  const cliList = (attempts = 5): string[] => {
    try {
      return (
        handler === 'ts'
          ? execFileSync(tsrunBin, ['--root', path.join(env().shim.stateRoot, CRI_NAMESPACE), 'list', '-q'], { encoding: 'utf8' })
          : execFileSync('runc', ['--root', path.join(env().dir, 'runc', CRI_NAMESPACE), 'list', '-q'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      ).split('\n');
    } catch (err) {
      if (attempts <= 1 || !String((err as { stderr?: unknown }).stderr).includes('no such file or directory')) throw err;
      return cliList(attempts - 1);
    }
  };
  const listed = cliList();
  const listedByCli = [podSandboxId, a, b, e].map((id) => listed.includes(id));

  const pid1 = {
    own: text((await cri.runtime.execSync({ containerId: a, cmd: ['cat', '/proc/1/cmdline'], timeout: 20n })).stdout).split('\0')[0] ?? '',
    pod: text((await cri.runtime.execSync({ containerId: b, cmd: ['cat', '/proc/1/cmdline'], timeout: 20n })).stdout).split('\0')[0] ?? '',
  };
  const seccomp = text((await cri.runtime.execSync({ containerId: a, cmd: ['grep', '^Seccomp:', '/proc/1/status', '/proc/self/status'], timeout: 20n })).stdout);
  await waitState(cri, e, ContainerState.CONTAINER_RUNNING);
  const privileged = text(
    (await cri.runtime.execSync({ containerId: e, cmd: ['sh', '-c', 'grep ^CapEff: /proc/self/status; test -c /dev/kmsg && echo host-devices; grep -c " /sys rw," /proc/self/mountinfo'], timeout: 20n })).stdout,
  );
  const hostname = text((await cri.runtime.execSync({ containerId: a, cmd: ['hostname'], timeout: 20n })).stdout).trim();
  const sync = await cri.runtime.execSync({ containerId: a, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 7'], timeout: 20n });
  const failing = await cri.runtime.execSync({ containerId: b, cmd: ['sh', '-c', 'kill -9 $$'], timeout: 20n });

  // A probe that runs past its timeout: CRI kills the exec and fails the call; the container lives on.
  const execTimeout = await cri.runtime.execSync({ containerId: a, cmd: ['sleep', '30'], timeout: 1n }).then(
    (r) => `no error (exit ${r.exitCode})`,
    (err: unknown) => (err instanceof CriError ? `${err.code}: ${err.message}` : String(err)),
  );
  const afterTimeout = text((await cri.runtime.execSync({ containerId: a, cmd: ['sh', '-c', 'ps -o args | grep -c "^sleep 30$" || true'], timeout: 20n })).stdout).trim();

  // A terminal exec (kubectl exec -it): the pty takes the size the client sends on channel 4,
  // which may land after the program starts (stty then reads 0 0 or fails, with runc too).
  const ttyUrl = (
    await cri.runtime.exec({
      containerId: a,
      cmd: ['sh', '-c', 'for i in $(seq 100); do s=$(stty size 2>/dev/null); [ "$s" = "30 100" ] && break; sleep 0.1; done; echo "size $s"; tty'],
      tty: true,
      stdin: true,
      stdout: true,
    })
  ).url;
  const tty = streamInNetns(env(), ttyUrl, '100x30');
  const ttyOut = tty.stdout.replace(/\r\n/g, '\n').replace(/\/dev\/pts\/\d+/, '/dev/pts/N');

  const { url } = await cri.runtime.exec({ containerId: a, cmd: ['echo', 'streamed'], stdout: true, stderr: true });
  // A plain GET without the SPDY upgrade: the streaming server knows the token (an unknown
  // one is 404) and refuses the protocol.
  const prefix = url.replace(/[^/]+$/, '');
  const execUrl = { prefix, status: getInNetns(env(), url), unknownToken: getInNetns(env(), `${prefix}no-such-token`) };
  // The same server streams an exec to its end (v4.channel.k8s.io over WebSocket).
  const streamUrl = (await cri.runtime.exec({ containerId: a, cmd: ['sh', '-c', 'echo streamed; echo to-stderr >&2; exit 5'], stdout: true, stderr: true })).url;
  const streamed = streamInNetns(env(), streamUrl);

  // Stats: containerd turns the shim's cgroup Metrics into CRI's cpu and memory usage.
  const stats = (await cri.runtime.containerStats({ containerId: a })).stats;
  const statsListed = await cri.runtime.listContainerStats({ filter: { podSandboxId } });

  const cgroupsPath = statusA.runtimeSpec.linux?.cgroupsPath ?? '';
  expect(cgroupsPath.startsWith(`${cgroupParent}/`)).toBe(true);
  const before = cgroupFile('memory', cgroupsPath, 'memory.limit_in_bytes');
  await cri.runtime.updateContainerResources({ containerId: a, linux: { memoryLimitInBytes: BigInt(96 * MiB), cpuPeriod: 100_000n, cpuQuota: 50_000n } });
  const update = { before, after: cgroupFile('memory', cgroupsPath, 'memory.limit_in_bytes'), quota: cgroupFile('cpu', cgroupsPath, 'cpu.cfs_quota_us') };

  await waitState(cri, c, ContainerState.CONTAINER_EXITED);
  await waitState(cri, d, ContainerState.CONTAINER_EXITED);
  const statusD = (await cri.runtime.containerStatus({ containerId: d })).status;
  const oom = { exitCode: statusD?.exitCode ?? -1, reason: statusD?.reason ?? '' };
  const statusC = (await cri.runtime.containerStatus({ containerId: c })).status;
  const exited = { state: ContainerState[statusC?.state ?? ContainerState.CONTAINER_UNKNOWN], exitCode: statusC?.exitCode ?? -1, reason: statusC?.reason ?? '' };
  // CRI's log format: "<time> <stream> <F|P> <line>"; the time is dropped.
  const logLines = (file: string): string[] =>
    readFileSync(path.join(config.logDirectory ?? '', file), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => `${file}: ${l.split(' ').slice(1).join(' ')}`);
  const log = [...logLines('polite.log'), ...logLines('exits.log')];

  const stopStart = Date.now();
  await cri.runtime.stopContainer({ containerId: b, timeout: BigInt(GRACE_SECONDS) });
  const waited = Date.now() - stopStart;
  const statusB2 = (await cri.runtime.containerStatus({ containerId: b })).status;
  await cri.runtime.stopContainer({ containerId: a, timeout: 30n });
  const statusA2 = (await cri.runtime.containerStatus({ containerId: a })).status;

  for (const id of [a, b, c, d]) await cri.runtime.removeContainer({ containerId: id });
  const remaining = (await cri.runtime.listContainers({ filter: { podSandboxId } })).containers.map((x) => x.metadata?.name ?? x.id);
  const statusE = verbose((await cri.runtime.containerStatus({ containerId: e, verbose: true })).info);

  await cri.runtime.stopPodSandbox({ podSandboxId });
  const afterStop = (await cri.runtime.podSandboxStatus({ podSandboxId })).status?.state;
  const lingering = (await cri.runtime.containerStatus({ containerId: e })).status;
  await cri.runtime.removePodSandbox({ podSandboxId });
  const gone = await cri.runtime.podSandboxStatus({ podSandboxId }).then(
    () => 'still there',
    (err: unknown) => (err instanceof CriError ? `gone (${err.code})` : String(err)),
  );

  // Nothing of the pod may stay: processes, the shim, cgroups, mounts, its netns file.
  const deadline = Date.now() + 15_000;
  while ([sandbox.pid, statusA.pid, statusB.pid, statusE.pid, shimPid].some(isAlive) && Date.now() < deadline) await sleep(50);
  // The pod's veth went with its sandbox: containerd's namespace keeps lo and the bridge only.
  const veths = env()
    .inNetns(['ip', '-o', 'link', 'show'])
    .split('\n')
    .filter((l) => /^\d+: /.test(l) && !new RegExp(`^\\d+: (lo|${BRIDGE}):`).test(l));
  const netnsPath = sandbox.runtimeSpec.linux?.namespaces?.find((n) => n.type === 'network')?.path;
  const leftovers = [
    ...[sandbox.pid, statusA.pid, statusB.pid, statusE.pid].filter(isAlive).map((p) => `process ${p}`),
    ...(isAlive(shimPid) ? [`shim ${shimPid}: ${cmdline(shimPid)}`] : []),
    ...cgroupsUnder(cgroupParent),
    ...veths.map((l) => `interface ${l}`),
    ...cliList()
      .filter((id) => [podSandboxId, a, b, c, d, e].includes(id))
      .map((id) => `runtime state of ${id}`),
    ...readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(podSandboxId) || (netnsPath !== undefined && l.includes(netnsPath))),
    gone.startsWith('gone') ? '' : `sandbox ${gone}`,
  ].filter(Boolean);

  return {
    sandboxReady: sandboxStatus.status?.state === PodSandboxState.SANDBOX_READY,
    podIpInSubnet: network === 'pod' ? /^10\.88\.77\.\d+$/.test(podIp) : null,
    hostname: hostname === config.hostname ? '<pod hostname>' : hostname === readFileSync('/proc/sys/kernel/hostname', 'utf8').trim() ? '<node>' : hostname,
    sharedNetns,
    oneShim,
    listedByCli,
    pid1,
    containerIps: ips.replace(podIp === '' ? /^$/ : new RegExp(podIp.replace(/\./g, '\\.'), 'g'), '<pod-ip>'),
    execSync: { stdout: text(sync.stdout), stderr: text(sync.stderr), exitCode: sync.exitCode },
    execSyncFailing: failing.exitCode,
    execUrl,
    streamed,
    ttyOut,
    seccomp,
    privileged,
    stats: {
      cpu: (stats?.cpu?.usageCoreNanoSeconds?.value ?? 0n) > 0n,
      memory: (stats?.memory?.workingSetBytes?.value ?? 0n) > 0n || (stats?.memory?.usageBytes?.value ?? 0n) > 0n,
    },
    listStats: statsListed.stats.map((s) => s.attributes?.metadata?.name ?? '?').sort(),
    update,
    exited,
    log,
    stubborn: { exitCode: statusB2?.exitCode ?? -1, reason: statusB2?.reason ?? '', waitedGrace: waited >= GRACE_SECONDS * 1000 },
    polite: { exitCode: statusA2?.exitCode ?? -1, reason: statusA2?.reason ?? '' },
    execTimeout,
    afterTimeout,
    oom,
    removed: remaining,
    sandboxAfterStop: PodSandboxState[afterStop ?? PodSandboxState.SANDBOX_READY],
    lingering: { state: ContainerState[lingering?.state ?? ContainerState.CONTAINER_UNKNOWN], exitCode: lingering?.exitCode ?? -1 },
    leftovers,
  };
}

/** What both handlers must show, on top of showing the same. */
function expectRight(r: FlowResult, network: Network): void {
  expect(r.sandboxReady).toBe(true);
  expect(r.sharedNetns).toBe(true);
  expect(r.oneShim).toBe(true);
  expect(r.listedByCli).toEqual([true, true, true, true]);
  expect(r.execSync).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 7 });
  expect(r.execSyncFailing).toBe(137);
  expect(r.execUrl).toEqual({ prefix: `http://127.0.0.1:${STREAM_PORT}/exec/`, status: 400, unknownToken: 404 });
  expect(r.streamed).toEqual({
    stdout: 'streamed\n',
    stderr: 'to-stderr\n',
    status: expect.objectContaining({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '5' }] } }),
  });
  expect(r.ttyOut).toBe('size 30 100\n/dev/pts/N\n');
  expect(r.seccomp).toBe('/proc/1/status:Seccomp:\t2\n/proc/self/status:Seccomp:\t2\n');
  // Privileged: every capability containerd holds (its bounding set), the host's devices, /sys rw.
  const capBnd = /^CapBnd:\t(\w+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  if (network === 'host') expect(r.privileged).toBe(`CapEff:\t${capBnd}\nhost-devices\n1\n`);
  else expect(r.privileged).toBe('CapEff:\t00000000a80425fb\n0\n');
  expect(r.stats).toEqual({ cpu: true, memory: true });
  // CRI lists stats of every container of the pod, the exited one too.
  expect(r.listStats).toEqual(['exits', 'hungry', 'lingering', 'polite', 'stubborn']);
  expect(r.hostname).toBe(network === 'pod' ? '<pod hostname>' : '<node>');
  expect(r.update).toEqual({ before: String(64 * MiB), after: String(96 * MiB), quota: '50000' });
  expect(r.exited).toEqual({ state: 'CONTAINER_EXITED', exitCode: 3, reason: 'Error' });
  expect(r.log).toEqual(['polite.log: stdout F hello-from-a', 'exits.log: stderr F bye']);
  expect(r.stubborn).toEqual({ exitCode: 137, reason: 'Error', waitedGrace: true });
  expect(r.polite).toEqual({ exitCode: 0, reason: 'Completed' });
  expect(r.pid1).toEqual({ own: 'sh', pod: '/pause' });
  expect(r.removed).toEqual(['lingering']);
  expect(r.sandboxAfterStop).toBe('SANDBOX_NOTREADY');
  expect(r.lingering).toEqual({ state: 'CONTAINER_EXITED', exitCode: 137 });
  expect(r.oom).toEqual({ exitCode: 137, reason: 'OOMKilled' });
  expect(r.afterTimeout).toBe('0');
  expect(r.execTimeout).toMatch(/timeout 1s exceeded/);
  expect(r.leftovers).toEqual([]);
  if (network === 'pod') {
    expect(r.podIpInSubnet).toBe(true);
    expect(r.containerIps).toContain('eth0 <pod-ip>/24');
    expect(r.containerIps).toContain('lo 127.0.0.1/8');
  } else {
    expect(r.containerIps).not.toContain('eth0');
  }
}

describe('CRI pod flows through the ts handler, compared with runc', () => {
  for (const network of ['host', 'pod'] as const) {
    it(`${network} network: sandbox, containers, exec, stats, update, stop with grace, removal`, { timeout: 180_000 }, async () => {
      const results = new Map<Handler, FlowResult>();
      for (const handler of HANDLERS) results.set(handler, await podFlow(handler, network));
      const ts = results.get('ts');
      const runc = results.get('runc');
      expect(ts).toEqual(runc);
      if (ts) expectRight(ts, network);
      if (runc) expectRight(runc, network);
    });
  }

  it('pods keep running across a containerd restart and are still served and removed', { timeout: 180_000 }, async () => {
    const { cri } = env();
    const pods = new Map<Handler, { podSandboxId: string; containerId: string; pids: number[]; cgroupParent: string }>();
    for (const handler of HANDLERS) {
      const config = sandboxConfig(handler, 'pod', 'restart');
      const { podSandboxId } = await cri.runtime.runPodSandbox({ config, runtimeHandler: handler });
      const { containerId } = await cri.runtime.createContainer({ podSandboxId, config: containerConfig('survivor', 'while :; do sleep 0.1; done'), sandboxConfig: config });
      await cri.runtime.startContainer({ containerId });
      const pids = [
        verbose((await cri.runtime.podSandboxStatus({ podSandboxId, verbose: true })).info).pid,
        verbose((await cri.runtime.containerStatus({ containerId, verbose: true })).info).pid,
      ];
      pods.set(handler, { podSandboxId, containerId, pids, cgroupParent: config.linux?.cgroupParent ?? '' });
    }
    const before = env().shim.ctd.pid;
    await env().restart();
    expect(env().shim.ctd.pid).not.toBe(before);
    expect(isAlive(before)).toBe(false);
    const seen = new Map<Handler, unknown>();
    for (const [handler, { podSandboxId, containerId, pids, cgroupParent }] of pods) {
      const sandbox = (await cri.runtime.podSandboxStatus({ podSandboxId, verbose: true })).status;
      const status = (await cri.runtime.containerStatus({ containerId })).status;
      const exec = await cri.runtime.execSync({ containerId, cmd: ['sh', '-c', 'echo still here; exit 4'], timeout: 20n });
      const stats = (await cri.runtime.containerStats({ containerId })).stats;
      await cri.runtime.stopContainer({ containerId, timeout: 1n });
      const stopped = (await cri.runtime.containerStatus({ containerId })).status;
      await cri.runtime.stopPodSandbox({ podSandboxId });
      await cri.runtime.removePodSandbox({ podSandboxId });
      const deadline = Date.now() + 15_000;
      while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
      seen.set(handler, {
        sandbox: PodSandboxState[sandbox?.state ?? PodSandboxState.SANDBOX_NOTREADY],
        container: ContainerState[status?.state ?? ContainerState.CONTAINER_UNKNOWN],
        exec: [new TextDecoder().decode(exec.stdout), exec.exitCode],
        cpu: (stats?.cpu?.usageCoreNanoSeconds?.value ?? 0n) > 0n,
        stopped: [ContainerState[stopped?.state ?? ContainerState.CONTAINER_UNKNOWN], stopped?.exitCode],
        alive: pids.filter(isAlive),
        cgroups: cgroupsUnder(cgroupParent),
      });
    }
    expect(seen.get('ts')).toEqual(seen.get('runc'));
    expect(seen.get('ts')).toEqual({
      sandbox: 'SANDBOX_READY',
      container: 'CONTAINER_RUNNING',
      exec: ['still here\n', 4],
      cpu: true,
      stopped: ['CONTAINER_EXITED', 137],
      alive: [],
      cgroups: [],
    });
  });

  it('ts pods keep running across the SIGKILL of every shim brain, and ExecSync, stats and stop work after it', { timeout: 120_000 }, async () => {
    const { cri } = env();
    const config = sandboxConfig('ts', 'pod', 'brain-killed');
    const { podSandboxId } = await cri.runtime.runPodSandbox({ config, runtimeHandler: 'ts' });
    const { containerId } = await cri.runtime.createContainer({ podSandboxId, config: containerConfig('survivor', 'while :; do sleep 0.1; done'), sandboxConfig: config });
    await cri.runtime.startContainer({ containerId });
    const pids = [
      verbose((await cri.runtime.podSandboxStatus({ podSandboxId, verbose: true })).info).pid,
      verbose((await cri.runtime.containerStatus({ containerId, verbose: true })).info).pid,
    ];
    const logFrom = env().shim.ctd.log().length;
    const brains = env().shim.servers();
    expect(brains.length).toBeGreaterThan(0);
    for (const pid of brains) process.kill(pid, 'SIGKILL');
    const sandbox = (await cri.runtime.podSandboxStatus({ podSandboxId })).status;
    const status = (await cri.runtime.containerStatus({ containerId })).status;
    const exec = await cri.runtime.execSync({ containerId, cmd: ['sh', '-c', 'echo still here; exit 4'], timeout: 20n });
    const stats = (await cri.runtime.containerStats({ containerId })).stats;
    expect({
      sandbox: PodSandboxState[sandbox?.state ?? PodSandboxState.SANDBOX_NOTREADY],
      container: ContainerState[status?.state ?? ContainerState.CONTAINER_UNKNOWN],
      exec: [new TextDecoder().decode(exec.stdout), exec.exitCode],
      cpu: (stats?.cpu?.usageCoreNanoSeconds?.value ?? 0n) > 0n,
      alive: pids.every(isAlive),
    }).toEqual({ sandbox: 'SANDBOX_READY', container: 'CONTAINER_RUNNING', exec: ['still here\n', 4], cpu: true, alive: true });
    expect(env().shim.ctd.log().slice(logFrom)).not.toMatch(/shim disconnected/);
    await cri.runtime.stopContainer({ containerId, timeout: 1n });
    expect((await cri.runtime.containerStatus({ containerId })).status).toMatchObject({ state: ContainerState.CONTAINER_EXITED, exitCode: 137 });
    await cri.runtime.stopPodSandbox({ podSandboxId });
    await cri.runtime.removePodSandbox({ podSandboxId });
    const deadline = Date.now() + 15_000;
    while (pids.some(isAlive) && Date.now() < deadline) await sleep(50);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(cgroupsUnder(config.linux?.cgroupParent ?? '')).toEqual([]);
  });

  it('leaves nothing behind in the machine: no pod left, the CNI bridge only in containerd\'s namespace', async () => {
    const { cri } = env();
    expect((await cri.runtime.listPodSandbox({})).items).toEqual([]);
    expect((await cri.runtime.listContainers({})).containers).toEqual([]);
    expect(env().inNetns(['ip', '-o', 'link', 'show', BRIDGE])).toContain(BRIDGE);
    expect(() => readFileSync(`/sys/class/net/${BRIDGE}/ifindex`)).toThrow();
  });
});
