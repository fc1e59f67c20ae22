// A private containerd with its CRI plugin on, for Kubernetes-path tests: runtime handlers
// `ts` (io.containerd.ts.v2, our shim first on PATH as in ../shim.ts) and `runc`
// (io.containerd.runc.v2, runc's state in the temp dir), the locally built pause image as
// sandbox_image, the busybox image, CNI config and plugin dirs of its own (Debian's bridge,
// host-local with its IPAM store in the temp dir, loopback), and pod network namespaces under
// its state dir.
//
// containerd runs in a network namespace made for it (ip netns add), so neither host-network
// pods, nor the CNI bridge and veths, nor the streaming server touch the machine's network.
// stop() removes every pod through CRI (and kills whatever still runs in the pods' cgroups,
// should containerd have died), then stops containerd (which removes its temp dir), deletes
// the network namespace and the pods' cgroups.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forFile } from '../for-file.js';
import { repoRoot, TEST_CGROUP_PARENT } from '../paths.js';
import { ctrIds, processesMatching, startShimContainerd, type ShimContainerd } from '../shim.js';
import { criClient, type CriClient } from './client.js';

export const CRI_NAMESPACE = 'k8s.io';
export const PAUSE_IMAGE = 'tsrun.test/pause:latest';
export const BUSYBOX_IMAGE = 'tsrun.test/busybox:latest';
export const HANDLERS = ['ts', 'runc'] as const;
export type Handler = (typeof HANDLERS)[number];
/** containerd's streaming server inside the namespace (nothing else listens there). */
export const STREAM_PORT = 10010;
/** The pod subnet host-local hands addresses from, on the bridge cni-tsrun0. */
export const POD_SUBNET = '10.88.77.0/24';
export const BRIDGE = 'cni-tsrun0';
const CNI_PLUGINS = ['bridge', 'host-local', 'loopback'];
const CNI_BIN_DIR = '/usr/lib/cni';
const pauseArchive = path.join(repoRoot, '.cache', 'fixtures', 'pause-image.tar');
const busyboxArchive = path.join(repoRoot, '.cache', 'fixtures', 'busybox-image.tar');

export interface CriEnv {
  readonly shim: ShimContainerd;
  readonly cri: CriClient;
  /** The network namespace containerd runs in (a name under /run/netns). */
  readonly netns: string;
  readonly dir: string;
  /** Where pods' container logs go (PodSandboxConfig.log_directory). */
  readonly logDir: string;
  /** A cgroup parent of this env's own under tsrun-test/, for one pod: /tsrun-test/<unique>. */
  cgroupParent(name: string): string;
  /** Runs a command inside containerd's network namespace; stdout. */
  inNetns(argv: string[]): string;
  /** Restarts containerd (same config, root and state) and waits for its CRI plugin. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function criConfig(dir: string, cniConf: string, cniBin: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `
[${cri}]
  sandbox_image = ${JSON.stringify(PAUSE_IMAGE)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "${STREAM_PORT}"
  systemd_cgroup = false
  disable_apparmor = true
  # The capability bounding set here lacks CAP_SYS_RESOURCE, so no process may lower its
  # oom_score_adj (the sandbox asks for -998): keep every value at or above containerd's own.
  restrict_oom_score_adj = true
  enable_selinux = false
  netns_mounts_under_state_dir = true
  stats_collect_period = 1
[${cri}.cni]
  bin_dir = ${JSON.stringify(cniBin)}
  conf_dir = ${JSON.stringify(cniConf)}
  max_conf_num = 1
[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = ${JSON.stringify(path.join(dir, 'runc'))}
[${cri}.containerd.runtimes.ts]
  runtime_type = "io.containerd.ts.v2"
`;
}

function cniConflist(ipamDir: string): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: 'tsrun-test',
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET }]], dataDir: ipamDir },
      },
    ],
  });
}

export async function startCriEnv(): Promise<CriEnv> {
  const netns = `tsrun-cri-${process.pid}-${++counter}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-cri-'));
  const cniConf = path.join(dir, 'net.d');
  const cniBin = path.join(dir, 'cni-bin');
  const logDir = path.join(dir, 'logs');
  for (const d of [cniConf, cniBin, logDir, path.join(dir, 'runc')]) mkdirSync(d, { recursive: true });
  // Only the three plugins the pod network needs are on the CNI path.
  for (const p of CNI_PLUGINS) symlinkSync(path.join(CNI_BIN_DIR, p), path.join(cniBin, p));
  writeFileSync(path.join(cniConf, '10-tsrun.conflist'), cniConflist(path.join(dir, 'ipam')));
  for (const archive of [pauseArchive, busyboxArchive]) {
    if (!existsSync(archive)) throw new Error(`${archive} is missing: run scripts/setup.sh (the fixtures step)`);
  }

  const parents = new Set<string>();
  let shim: ShimContainerd | undefined;
  let cri: CriClient | undefined;
  const inNetns = (argv: string[]): string =>
    execFileSync('nsenter', [`--net=/run/netns/${netns}`, '--', ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });

  // A runner killed before stop() still removes the namespace (containerd's own helper
  // kills containerd and removes its dir at exit).
  const deleteNetns = (): void => {
    try {
      execFileSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
    } catch {
      // never made, or gone
    }
  };
  process.once('exit', deleteNetns);

  const stop = async (): Promise<void> => {
    if (cri && shim) {
      try {
        await removeAllPods(cri);
      } catch {
        // CRI failed us: take down what is left with ctr below
      }
      forceRemoveTasks(shim);
    }
    // Were containerd gone (a crash), its pods' processes would outlive every shim: end them
    // through the cgroups of this env's pods, which hold nothing else.
    for (const parent of parents) await killUnder(parent);
    cri?.close();
    const address = shim?.ctd.address;
    await shim?.stop();
    if (address !== undefined) for (const pid of processesMatching('containerd-shim-runc-v2', `-address ${address} `)) signal(pid, 'SIGKILL');
    process.off('exit', deleteNetns);
    deleteNetns();
    for (const parent of parents) removeCgroupParent(parent);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    execFileSync('ip', ['netns', 'add', netns], { stdio: 'ignore' });
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up'], { stdio: 'ignore' });
    shim = await startShimContainerd({ cri: true, netns, extraConfig: criConfig(dir, cniConf, cniBin), startTimeoutMs: 30_000 });
    const ctd = shim.ctd;
    for (const archive of [pauseArchive, busyboxArchive]) ctd.ctr(['images', 'import', archive], { namespace: CRI_NAMESPACE, timeoutMs: 60_000 });
    cri = criClient(ctd.address);
    await criReady(cri, ctd.log);
  } catch (err) {
    await stop();
    throw err;
  }
  const started = shim;
  const client = cri;
  return {
    shim: started,
    cri: client,
    netns,
    dir,
    logDir,
    cgroupParent: (name) => {
      const parent = `/${TEST_CGROUP_PARENT}/cri-${process.pid}-${++counter}-${name}`;
      parents.add(parent);
      return parent;
    },
    inNetns,
    restart: async () => {
      await started.restart();
      await criReady(client, started.ctd.log);
    },
    stop,
  };
}

/** Waits until the CRI plugin answers, sees both images and has its CNI network ready. */
async function criReady(cri: CriClient, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const status = await cri.runtime.status({}, { timeoutMs: 5000 });
      const notReady = (status.status?.conditions ?? []).filter((c) => !c.status);
      const images = await Promise.all([PAUSE_IMAGE, BUSYBOX_IMAGE].map((image) => cri.image.imageStatus({ image: { image } }, { timeoutMs: 5000 })));
      if (notReady.length === 0 && images.every((i) => i.image !== undefined)) return;
      last = `not ready: ${JSON.stringify(notReady)}; images seen: ${images.map((i) => i.image?.repoTags.join(',') ?? '-').join(' ')}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`the CRI plugin did not become ready: ${last}\n${log()}`);
}

/** Stops and removes every pod sandbox CRI knows (which removes their containers). */
export async function removeAllPods(cri: CriClient): Promise<void> {
  const { items } = await cri.runtime.listPodSandbox({});
  for (const pod of items) {
    await cri.runtime.stopPodSandbox({ podSandboxId: pod.id });
    await cri.runtime.removePodSandbox({ podSandboxId: pod.id });
  }
}

/** Kills and deletes every task and container of the CRI namespace through ctr. */
function forceRemoveTasks(shim: ShimContainerd): void {
  const ctr = (args: string[]): string => {
    try {
      return shim.ctd.ctr(args, { namespace: CRI_NAMESPACE });
    } catch {
      return '';
    }
  };
  for (const id of ctrIds(ctr(['task', 'ls']))) {
    ctr(['task', 'kill', '-s', 'SIGKILL', id]);
    ctr(['task', 'delete', '-f', id]);
  }
  for (const id of ctrIds(ctr(['container', 'ls']))) ctr(['container', 'rm', id]);
}

/** Cgroup directories left under a pod's parent, in every hierarchy (empty: nothing leaked). */
export function cgroupsUnder(parent: string): string[] {
  const found: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', h, parent);
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) found.push(path.join(dir, entry.name));
  }
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone
  }
}

/** Every cgroup directory at or under dir, deepest first. */
function cgroupDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const below = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => cgroupDirs(path.join(dir, e.name)));
  return [...below, dir];
}

function procsUnder(parent: string): number[] {
  const pids = new Set<number>();
  for (const h of readdirSync('/sys/fs/cgroup')) {
    for (const dir of cgroupDirs(path.join('/sys/fs/cgroup', h, parent))) {
      try {
        for (const line of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.add(Number(line));
      } catch {
        // removed meanwhile
      }
    }
  }
  return [...pids];
}

/** SIGKILLs whatever still runs in a pod's cgroups and waits (10 s at most) until they are empty. */
async function killUnder(parent: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let pids = procsUnder(parent); pids.length > 0 && Date.now() < deadline; pids = procsUnder(parent)) {
    for (const pid of pids) signal(pid, 'SIGKILL');
    await sleep(50);
  }
}

/** The pod's parent is made by the runtimes and left to its owner (kubelet): rmdir it, and
 * anything a runtime that was killed left under it. */
function removeCgroupParent(parent: string): void {
  for (const h of readdirSync('/sys/fs/cgroup')) {
    for (const dir of cgroupDirs(path.join('/sys/fs/cgroup', h, parent))) {
      try {
        rmdirSync(dir);
      } catch {
        // still populated: a leak
      }
    }
  }
}

/** One CRI env for the calling test file; call the returned function inside tests. */
export function criEnvForFile(): () => CriEnv {
  return forFile('the CRI containerd', startCriEnv, 120_000);
}
