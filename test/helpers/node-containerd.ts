// containerd 1.6 inside a systemd node (./systemd-node.ts), as a kubelet node runs it: a
// delegated service (systemd-run -p Delegate=yes) with the CRI plugin, our shim on its PATH,
// a `ts` handler (io.containerd.ts.v2) whose ConfigPath file says SystemdCgroup = true, the
// pause and busybox images imported. Its root and state are in the node's /tmp (a tmpfs that
// dies with the node); the test reaches its sockets from the host through /proc/<pid>/root.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { PAUSE_IMAGE } from './cri/env.js';
import { repoRoot } from './paths.js';
import { until } from './runtimes.js';
import type { SystemdNode } from './systemd-node.js';

export const NODE_CTD = '/tmp/ctd';
export const TS_OPTIONS_FILE = `${NODE_CTD}/ts-options.toml`;
const SOCKET = `${NODE_CTD}/containerd.sock`;

export interface NodeContainerd {
  /** the gRPC socket as the host reaches it (for the CRI client) */
  readonly hostSocket: string;
  /** Runs ctr in the node against this containerd; stdout, throws on failure. */
  ctr(args: string[], namespace?: string): Promise<string>;
  /** journal of the containerd service, for failure messages */
  log(): Promise<string>;
}

function config(): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${NODE_CTD}/root"
state = "${NODE_CTD}/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${SOCKET}"
[ttrpc]
  address = "${SOCKET}.ttrpc"
[${cri}]
  sandbox_image = ${JSON.stringify(PAUSE_IMAGE)}
  disable_apparmor = true
  restrict_oom_score_adj = true
  enable_selinux = false
  stats_collect_period = 1
[${cri}.cni]
  bin_dir = "${NODE_CTD}/cni-bin"
  conf_dir = "${NODE_CTD}/net.d"
[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "ts"
[${cri}.containerd.runtimes.ts]
  runtime_type = "io.containerd.ts.v2"
[${cri}.containerd.runtimes.ts.options]
  ConfigPath = "${TS_OPTIONS_FILE}"
`;
}

export async function startNodeContainerd(node: SystemdNode): Promise<NodeContainerd> {
  for (const d of ['root', 'state', 'net.d', 'cni-bin']) mkdirSync(node.path(`${NODE_CTD}/${d}`), { recursive: true });
  node.writeFile(`${NODE_CTD}/config.toml`, config());
  node.writeFile(TS_OPTIONS_FILE, 'SystemdCgroup = true\n');
  const fixtures = path.join(repoRoot, '.cache', 'fixtures');
  for (const f of ['pause-image.tar', 'busybox-image.tar']) copyFileSync(path.join(fixtures, f), node.path(`${NODE_CTD}/${f}`));
  const PATH = [path.join(repoRoot, 'build', 'Release'), path.dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');
  // KillMode=process as containerd's own unit: its shims outlive a restart of it.
  await node.sh(`systemd-run --unit tsrun-containerd.service -p Delegate=yes -p KillMode=process --setenv PATH=${PATH} containerd --config ${NODE_CTD}/config.toml`);
  const ctr = async (args: string[], namespace = 'k8s.io'): Promise<string> => {
    const r = await node.exec(['ctr', '--address', SOCKET, '--namespace', namespace, ...args], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`ctr ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  await until('containerd in the node to serve', async () => existsSync(node.path(SOCKET)) && (await node.exec(['ctr', '--address', SOCKET, 'version'])).code === 0, 30_000);
  for (const ns of ['k8s.io', 'ctrtest']) {
    await ctr(['images', 'import', `${NODE_CTD}/pause-image.tar`], ns);
    await ctr(['images', 'import', `${NODE_CTD}/busybox-image.tar`], ns);
  }
  return {
    hostSocket: node.path(SOCKET),
    ctr,
    log: async () => (await node.exec(['journalctl', '-u', 'tsrun-containerd', '--no-pager', '-n', '50'])).stdout,
  };
}
