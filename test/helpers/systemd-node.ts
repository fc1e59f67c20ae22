// A "kind-like node": systemd as PID 1 of a privileged container that runc starts, because
// this machine has no systemd running and the systemd cgroup driver needs one.
//
// Its rootfs is an overlay whose lower layer is the host's `/` and whose upper layer is a
// tmpfs, both mounted by `unshare -m` in a private mount namespace that only runc and the
// node ever see: when the node dies the overlay dies with its namespace, and the host's
// mount table never shows it. The node has its own pid, mount, network, ipc, uts and cgroup
// namespaces, runc's `cgroup` mount for /sys/fs/cgroup (hybrid like the host's), all the
// capabilities this machine allows and `container=docker`, which tells systemd it runs in a
// container. Host services that make no sense in it are masked in the upper layer.
//
// Its cgroup is /tsrun-test/<id> in every hierarchy; everything systemd makes lives below.
// stop() (or process exit) kills the node by pid through runc, deletes it, removes what is
// left of its cgroups and its temp dir. Files are reached from the host through
// /proc/<pid>/root, commands run inside with `runc exec` (in the node's root cgroup, as
// `docker exec` into a kind node does).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CAPABILITIES } from '../../src/oci/capabilities.js';
import { defaultSpec } from '../../src/oci/defaults.js';
import { runCommand, type Result, type RunOptions } from './cli.js';
import { repoRoot, TEST_CGROUP_PARENT } from './paths.js';
import { sleep, until } from './runtimes.js';

/** Enabled on this host (or on a usual Debian one), pointless or harmful inside a node. */
const MASKED_UNITS = [
  'containerd.service',
  'docker.service',
  'docker.socket',
  'podman.service',
  'podman.socket',
  'podman-restart.service',
  'podman-auto-update.service',
  'podman-auto-update.timer',
  'postgresql.service',
  'cron.service',
  'ssh.service',
  'getty@tty1.service',
  'getty.target',
  'console-getty.service',
  'serial-getty@.service',
  'systemd-udevd.service',
  'systemd-udevd-control.socket',
  'systemd-udevd-kernel.socket',
  'systemd-udev-trigger.service',
  'systemd-logind.service',
  'systemd-timesyncd.service',
  'systemd-pstore.service',
  'systemd-remount-fs.service',
  'remote-fs.target',
  'e2scrub_reap.service',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'dpkg-db-backup.timer',
  'e2scrub_all.timer',
  'fstrim.timer',
  'man-db.timer',
];

export interface SystemdNode {
  readonly id: string;
  /** the node's PID 1 (systemd) as the host sees it */
  readonly pid: number;
  /** the node's cgroup from each hierarchy's root, e.g. /tsrun-test/node-1-2 */
  readonly cgroup: string;
  /** the node's temp dir on the host (runc's state, the bundle, the overlay's mount points) */
  readonly dir: string;
  /** Runs a command inside the node (runc exec); never throws for a non-zero exit. */
  exec(args: string[], opts?: RunOptions): Promise<Result>;
  /** Like exec, but throws with the command's stderr when it fails, and returns stdout. */
  sh(script: string, opts?: RunOptions): Promise<string>;
  /** The host's path to a path inside the node. */
  path(inNode: string): string;
  writeFile(inNode: string, content: string): void;
  stop(): Promise<void>;
}

let counter = 0;

function boundingCaps(): string[] {
  const hex = /^CapBnd:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  const mask = BigInt(`0x${hex}`);
  return CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

function nodeConfig(rootfs: string, cgroup: string): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const c = defaultSpec() as Record<string, any>;
  const caps = boundingCaps();
  c.process.terminal = false;
  c.process.args = ['/lib/systemd/systemd'];
  c.process.env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'container=docker'];
  c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
  c.process.noNewPrivileges = false;
  // systemd raises its own NOFILE limit up to the hard limit it inherits.
  delete c.process.rlimits;
  c.root = { path: rootfs, readonly: false };
  c.hostname = 'tsrun-node';
  c.mounts = [
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    ...(c.mounts as any[]).filter((m) => m.destination !== '/sys' && m.destination !== '/sys/fs/cgroup'),
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime'] },
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755'] },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
    // The tests run this checkout's tsrun inside the node, at the host's path: a clone under
    // /tmp (or on a mount of its own, which the overlay of / does not show) is bound in.
    { destination: repoRoot, type: 'bind', source: repoRoot, options: ['rbind'] },
  ];
  c.linux.namespaces = ['pid', 'mount', 'network', 'ipc', 'uts', 'cgroup'].map((type) => ({ type }));
  c.linux.maskedPaths = [];
  c.linux.readonlyPaths = [];
  c.linux.resources = { devices: [{ allow: true, access: 'rwm' }] };
  c.linux.cgroupsPath = cgroup;
  return c;
}

/** Removes a cgroup directory and its sub-cgroups, deepest first; true when it is gone. */
function removeCgroupTree(dir: string): boolean {
  if (!existsSync(dir)) return true;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) removeCgroupTree(path.join(dir, e.name));
  }
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

function cgroupDirs(cgroup: string): string[] {
  return readdirSync('/sys/fs/cgroup').map((h) => path.join('/sys/fs/cgroup', h, cgroup));
}

/** What a node leaves on the host after stop(): its cgroups, its dir, processes of its own. */
export function nodeLeftovers(node: SystemdNode): string[] {
  const left = cgroupDirs(node.cgroup).filter((d) => existsSync(d));
  if (existsSync(node.dir)) left.push(node.dir);
  if (existsSync(`/proc/${node.pid}`)) left.push(`pid ${node.pid}`);
  return left;
}

/** Ends the node (synchronously, so that it also runs in an exit handler). */
function destroy(dir: string, id: string, cgroup: string): void {
  const state = path.join(dir, 'state');
  const runc = (args: string[]): void => {
    spawnSync('runc', ['--root', state, ...args], { stdio: 'ignore', timeout: 20_000 });
  };
  if (existsSync(path.join(state, id))) {
    runc(['kill', id, 'KILL']);
    runc(['delete', '--force', id]);
  }
  // The kernel empties a dead pid namespace's cgroups a moment after its init dies.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = cgroupDirs(cgroup).filter((d) => !removeCgroupTree(d));
    if (left.length === 0 || Date.now() > deadline) break;
    spawnSync('sleep', ['0.05']);
  }
  // The rootfs dir on the host was only ever a mount point in the private namespace: empty.
  rmSync(dir, { recursive: true, force: true });
}

/** The unshare'd shell: lays the tmpfs upper, masks units, mounts the overlay, starts runc. */
function launchScript(dir: string, id: string): string {
  const layer = path.join(dir, 'layer');
  const upper = path.join(layer, 'upper');
  const units = path.join(upper, 'etc', 'systemd', 'system');
  return [
    'set -e',
    `mount -t tmpfs -o mode=755 tsrun-node ${layer}`,
    `mkdir -p ${upper} ${layer}/work ${units}`,
    ...MASKED_UNITS.map((u) => `ln -s /dev/null ${units}/${u}`),
    `mount -t overlay tsrun-node -o lowerdir=/,upperdir=${upper},workdir=${layer}/work ${dir}/rootfs`,
    `exec runc --root ${dir}/state run --detach --pid-file ${dir}/pid --bundle ${dir} ${id} </dev/null >${dir}/runc.log 2>&1`,
  ].join('\n');
}

export async function startSystemdNode(): Promise<SystemdNode> {
  if (!existsSync('/lib/systemd/systemd')) throw new Error('the node needs systemd installed (scripts/setup.sh)');
  const id = `node-${process.pid}-${++counter}`;
  const cgroup = `/${TEST_CGROUP_PARENT}/${id}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-node-'));
  const onExit = (): void => destroy(dir, id, cgroup);
  process.once('exit', onExit);
  try {
    mkdirSync(path.join(dir, 'rootfs'));
    mkdirSync(path.join(dir, 'layer'));
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(nodeConfig(path.join(dir, 'rootfs'), cgroup)));
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', launchScript(dir, id)], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) {
      const log = existsSync(path.join(dir, 'runc.log')) ? readFileSync(path.join(dir, 'runc.log'), 'utf8') : '';
      throw new Error(`the node did not start: ${r.stderr}${log}`);
    }
  } catch (err) {
    process.off('exit', onExit);
    destroy(dir, id, cgroup);
    throw err;
  }
  const pid = Number(readFileSync(path.join(dir, 'pid'), 'utf8'));
  const state = path.join(dir, 'state');
  const exec = (args: string[], opts: RunOptions = {}): Promise<Result> => runCommand('runc', ['--root', state, 'exec', id, ...args], opts);
  const node: SystemdNode = {
    id,
    pid,
    cgroup,
    dir,
    exec,
    sh: async (script, opts = {}) => {
      const r = await exec(['sh', '-c', script], opts);
      if (r.code !== 0) throw new Error(`in the node, \`${script}\` exited ${r.code}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    path: (inNode) => path.join(`/proc/${pid}/root`, inNode),
    writeFile: (inNode, content) => writeFileSync(node.path(inNode), content),
    stop: async () => {
      process.off('exit', onExit);
      destroy(dir, id, cgroup);
      // destroy() is synchronous so that the exit handler can run it; stop() yields once after.
      await sleep(0);
    },
  };
  try {
    // systemctl talks to systemd's private socket, which exists a moment after PID 1 starts.
    await until('systemd in the node to listen', () => existsSync(node.path('/run/systemd/private')), 30_000);
    // is-system-running --wait returns once boot is over: "running", or "degraded" when a unit
    // failed. A host service this list does not mask may fail in the node without touching
    // what the tests use: degraded is taken (the node's own test insists on running).
    const r = await exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: 60_000 });
    if (!['running', 'degraded'].includes(r.stdout.trim())) {
      const failed = await exec(['systemctl', '--failed', '--no-legend', '--no-pager']);
      throw new Error(`systemd in the node is ${r.stdout.trim() || r.stderr.trim()}; failed units: ${failed.stdout.trim()}`);
    }
  } catch (err) {
    await node.stop();
    throw err;
  }
  return node;
}

