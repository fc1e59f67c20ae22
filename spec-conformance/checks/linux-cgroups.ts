// config-linux.md#cgroups-path and #control-groups: where the container's cgroups are and
// what the resources write there, read back from the host (runtime-tools'
// linux_cgroups_*). A controller this host lacks must make create fail with an error naming
// it, never be ignored.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cgroupDir, procCgroups, type ProcCgroup, readCgroupFile, removeCgroupDirs, allCgroupDirs, isTestParent, TEST_PARENT } from '../lib/cgroups.js';
import { probeArgs, type Config } from '../lib/config.js';
import { describeCall } from '../lib/runtime.js';
import { scenario, type Scenario } from '../lib/scenario.js';

const RESOURCE_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'];

/** Creates a container with the resources and returns a reader of its cgroup files. */
async function withResources(s: Scenario, edit: (c: Config) => void, seen?: (pid: number) => void): Promise<(controller: string, file: string) => string | undefined> {
  const b = await s.bundle((c) => {
    c.process.args = probeArgs(['sleep', '10']);
    edit(c);
  });
  const c = s.container(b);
  await c.createOk();
  const pid = await c.pid();
  seen?.(pid);
  return (controller, file) => {
    const dir = cgroupDir(s.host, pid, controller === 'unified' ? '' : controller);
    if (!dir || !existsSync(path.join(dir, file))) return undefined;
    return readCgroupFile(dir, file);
  };
}

export const cgroups_path = scenario({
  section: 'config-linux.md#cgroups-path',
  name: 'linux_cgroups_path',
  checks: {
    absolute: 'an absolute cgroupsPath is the path of the container in every hierarchy, relative to its mount point',
    relative: 'a relative cgroupsPath ends the path the runtime chose',
    consistent: 'the same cgroupsPath attaches the next container to the same place',
    frozen: 'a cgroupsPath whose freezer is already frozen makes create fail within 20 s (runc: "container\'s cgroup unexpectedly frozen") and leaves no container',
  },
  async run(s) {
    await frozen(s);
    const b = await s.bundle((c) => (c.process.args = probeArgs(['sleep', '10'])));
    const c = s.container(b);
    await c.createOk();
    const pid = await c.pid();
    const want = b.config.linux.cgroupsPath as string;
    const entries = procCgroups(pid).filter(resourceEntry(s));
    for (const e of entries) s.equal('absolute', e.path, want, e.version === 2 ? 'cgroup2' : e.controllers.join(','));

    const rel = `${TEST_PARENT}/${s.newId('relative')}`;
    const seen: string[][] = [];
    for (let i = 0; i < 2; i++) {
      const rb = await s.bundle((cfg) => {
        cfg.linux.cgroupsPath = rel;
        cfg.process.args = probeArgs(['sleep', '10']);
      });
      const rc = s.container(rb);
      const made = await rc.create();
      if (made.code !== 0) {
        s.ok('relative', false, describeCall(made));
        s.ok('consistent', false, describeCall(made));
        return;
      }
      const rpid = await rc.pid();
      const dirs = allCgroupDirs(s.host, rpid);
      s.defer(() => {
        removeCgroupDirs(dirs);
        // the runtime-chosen parent of "tsrun-test/<id>": remove it too once empty
        removeCgroupDirs(dirs.map((d) => path.dirname(d)).filter((d) => isTestParent(d) && !isTopParent(s, d)));
      });
      const paths = procCgroups(rpid)
        .filter(resourceEntry(s))
        .map((e) => `${e.controllers.join(',') || 'cgroup2'}:${e.path}`);
      seen.push(paths);
      if (i === 0) for (const p of paths) s.ok('relative', p.endsWith(`/${rel}`), `${p} does not end with /${rel}`);
      await rc.kill('KILL');
      await rc.waitFor(['stopped'], 5000);
      await rc.delete();
    }
    s.equal('consistent', seen[1], seen[0]);
  },
});

/** Create into a cgroup made and frozen beforehand: an error, not a create that hangs. */
async function frozen(s: Scenario): Promise<void> {
  const v1 = s.host.hierarchies.find((h) => h.version === 1 && h.controllers.includes('freezer'));
  const v2 = s.host.hierarchies.find((h) => h.version === 2);
  const [mountpoint, file, on, off] = v1 ? [v1.mountpoint, 'freezer.state', 'FROZEN', 'THAWED'] : [v2?.mountpoint ?? '', 'cgroup.freeze', '1', '0'];
  const b = await s.bundle((c) => (c.process.args = probeArgs(['sleep', '10'])));
  const dir = path.join(mountpoint, b.config.linux.cgroupsPath as string);
  mkdirSync(dir, { recursive: true });
  const thaw = (): void => {
    if (existsSync(path.join(dir, file))) writeFileSync(path.join(dir, file), off);
  };
  s.defer(() => {
    thaw();
    removeCgroupDirs([dir]);
  });
  writeFileSync(path.join(dir, file), on);
  const c = s.container(b);
  const r = await c.create({ timeoutMs: 20_000 });
  // a runtime that hung or made the container must be able to clean up
  thaw();
  s.ok('frozen', !r.timedOut && r.code !== 0, `create into a frozen cgroup: ${describeCall(r)}`);
  if (r.code !== 0) s.ok('frozen', (await c.state()) === undefined, 'the failed create left a container');
}

/** The hierarchies holding resources: v1 controllers, or the v2 tree on a pure v2 host. */
function resourceEntry(s: Scenario): (e: ProcCgroup) => boolean {
  return (e) => (e.version === 2 ? s.host.layout === 'v2' : e.controllers.some((x) => RESOURCE_CONTROLLERS.includes(x)));
}

function isTopParent(s: Scenario, dir: string): boolean {
  return s.host.hierarchies.some((h) => path.join(h.mountpoint, TEST_PARENT) === dir);
}

/** A resource the host has no controller for: create must fail naming it. */
async function missing(s: Scenario, key: string, edit: (c: Config) => void, name: RegExp, what: string): Promise<void> {
  const b = await s.bundle(edit);
  await s.expectError(key, b, `${what} on a host without the controller`, name);
}

export const linux_cgroups_memory = scenario({
  section: 'config-linux.md#memory',
  name: 'linux_cgroups_memory',
  checks: {
    limit: 'memory.limit is the memory limit',
    reservation: 'memory.reservation is the soft limit',
    swap: 'memory.swap is the memory+swap limit',
    swappiness: 'memory.swappiness is the swappiness (cgroup v1)',
    disableOOMKiller: 'memory.disableOOMKiller disables the OOM killer (cgroup v1)',
  },
  async run(s) {
    const root = s.need(s.host.controllerRoot('memory'), 'a memory controller');
    const limit = 64 << 20;
    const reservation = 32 << 20;
    const swap = 128 << 20;
    const v1 = root.version === 1;
    const read = await withResources(s, (c) => {
      c.linux.resources.memory = { limit, reservation, swap, ...(v1 ? { swappiness: 20, disableOOMKiller: true } : {}) };
    });
    if (v1) {
      s.equal('limit', read('memory', 'memory.limit_in_bytes'), String(limit));
      s.equal('reservation', read('memory', 'memory.soft_limit_in_bytes'), String(reservation));
      const memsw = read('memory', 'memory.memsw.limit_in_bytes');
      s.ok('swap', memsw === undefined ? true : memsw === String(swap), `memory.memsw.limit_in_bytes ${memsw}`);
      if (memsw === undefined) s.note('swap accounting is off on this host: memory.swap not checked');
      s.equal('swappiness', read('memory', 'memory.swappiness'), '20');
      s.ok('disableOOMKiller', /oom_kill_disable 1/.test(read('memory', 'memory.oom_control') ?? ''), `memory.oom_control: ${read('memory', 'memory.oom_control')}`);
    } else {
      s.equal('limit', read('memory', 'memory.max'), String(limit));
      s.equal('reservation', read('memory', 'memory.low'), String(reservation));
      s.equal('swap', read('memory', 'memory.swap.max'), String(swap - limit));
      s.ok('swappiness', true);
      s.ok('disableOOMKiller', true);
      s.note('swappiness and disableOOMKiller have no cgroup v2 file: not checked');
    }
  },
});

export const linux_cgroups_cpus = scenario({
  section: 'config-linux.md#cpu',
  name: 'linux_cgroups_cpus',
  checks: {
    shares: 'cpu.shares is the CPU weight',
    quota: 'cpu.quota and cpu.period are the CFS bandwidth',
    cpus: 'cpu.cpus is the cpuset',
    mems: 'cpu.mems is the memory nodes',
  },
  async run(s) {
    const root = s.need(s.host.controllerRoot('cpu'), 'a cpu controller');
    const read = await withResources(s, (c) => {
      c.linux.resources.cpu = { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' };
    });
    if (root.version === 1) {
      s.equal('shares', read('cpu', 'cpu.shares'), '512');
      s.equal('quota', [read('cpu', 'cpu.cfs_quota_us'), read('cpu', 'cpu.cfs_period_us')], ['50000', '100000']);
    } else {
      // runc's conversion of shares to weight: 1 + ((shares - 2) * 9999) / 262142
      s.equal('shares', read('cpu', 'cpu.weight'), String(1 + Math.floor(((512 - 2) * 9999) / 262142)));
      s.equal('quota', read('cpu', 'cpu.max'), '50000 100000');
    }
    s.equal('cpus', read('cpuset', 'cpuset.cpus'), '0');
    s.equal('mems', read('cpuset', 'cpuset.mems'), '0');
  },
});

export const linux_cgroups_pids = scenario({
  section: 'config-linux.md#pids',
  name: 'linux_cgroups_pids',
  checks: {
    limit: 'pids.limit is the task limit',
    'relative-path': 'it is applied with a relative cgroupsPath too (runtime-tools\' linux_cgroups_relative_*)',
  },
  async run(s) {
    s.need(s.host.controllerRoot('pids'), 'a pids controller');
    try {
      const read = await withResources(s, (c) => (c.linux.resources.pids = { limit: 100 }));
      s.equal('limit', read('pids', 'pids.max'), '100');
    } catch (e) {
      s.ok('limit', false, (e as Error).message);
    }
    try {
      let dirs: string[] = [];
      const read = await withResources(s, (c) => {
        c.linux.cgroupsPath = `${TEST_PARENT}/${s.newId('relative')}`;
        c.linux.resources.pids = { limit: 101 };
      }, (pid) => (dirs = allCgroupDirs(s.host, pid)));
      s.defer(() => void removeCgroupDirs([...dirs, ...dirs.map((d) => path.dirname(d)).filter((d) => isTestParent(d) && !isTopParent(s, d))]));
      s.equal('relative-path', read('pids', 'pids.max'), '101');
    } catch (e) {
      s.ok('relative-path', false, (e as Error).message);
    }
  },
});

/** The block device of the root file system (a whole disk, for blkio rules). */
function workDisk(): { major: number; minor: number } {
  const dev = statSync('/').dev;
  let major = Math.floor(dev / 256) & 0xfff;
  let minor = (dev & 0xff) | ((Math.floor(dev / 4096) & 0xfff00) >>> 0);
  const sys = `/sys/dev/block/${major}:${minor}`;
  if (existsSync(`${sys}/partition`)) {
    const parent = readFileSync(path.join(sys, '..', 'dev'), 'utf8').trim().split(':');
    major = Number(parent[0]);
    minor = Number(parent[1]);
  }
  return { major, minor };
}

export const linux_cgroups_blkio = scenario({
  section: 'config-linux.md#block-io',
  name: 'linux_cgroups_blkio',
  checks: {
    weight: 'blockIO.weight is the I/O weight (where the host has weight files; otherwise create fails naming it)',
    throttle: 'blockIO.throttleReadBpsDevice is the read bandwidth limit of the device',
  },
  async run(s) {
    const root = s.host.controllerRoot(s.host.layout === 'v2' ? 'io' : 'blkio');
    if (!root) {
      await missing(s, 'weight', (c) => (c.linux.resources.blockIO = { weight: 500 }), /blkio|block|io/i, 'blockIO.weight');
      await missing(s, 'throttle', (c) => (c.linux.resources.blockIO = { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] }), /blkio|block|io/i, 'blockIO.throttleReadBpsDevice');
      return;
    }
    const disk = workDisk();
    const rule = `${disk.major}:${disk.minor}`;
    const v1 = root.version === 1;
    // weight files exist in child cgroups only, never in the root: look in the test parent
    const parent = path.join(root.mountpoint, TEST_PARENT);
    mkdirSync(parent, { recursive: true });
    const weightFile = v1 ? ['blkio.weight', 'blkio.bfq.weight'].find((f) => existsSync(path.join(parent, f))) : 'io.weight';
    if (weightFile) {
      try {
        const read = await withResources(s, (c) => (c.linux.resources.blockIO = { weight: 500 }));
        const got = read(v1 ? 'blkio' : 'io', weightFile);
        s.ok('weight', got !== undefined && /\b500\b/.test(got), `${weightFile}: ${got}`);
      } catch (e) {
        s.ok('weight', false, (e as Error).message);
      }
    } else {
      await missing(s, 'weight', (c) => (c.linux.resources.blockIO = { weight: 500 }), /weight|blkio/i, 'blockIO.weight');
    }
    try {
      const read = await withResources(s, (c) => (c.linux.resources.blockIO = { throttleReadBpsDevice: [{ major: disk.major, minor: disk.minor, rate: 1048576 }] }));
      const got = v1 ? read('blkio', 'blkio.throttle.read_bps_device') : read('io', 'io.max');
      s.ok('throttle', got !== undefined && (got.includes(`${rule} 1048576`) || got.includes(`${rule} rbps=1048576`)), `${v1 ? 'blkio.throttle.read_bps_device' : 'io.max'}: ${got}`);
    } catch (e) {
      s.ok('throttle', false, (e as Error).message);
    }
  },
});

export const linux_cgroups_hugetlb = scenario({
  section: 'config-linux.md#huge-page-limits',
  name: 'linux_cgroups_hugetlb',
  checks: {
    limit: 'hugepageLimits set the hugetlb limit (where the host has the controller; otherwise create fails naming hugetlb)',
  },
  async run(s) {
    const sizes = existsSync('/sys/kernel/mm/hugepages') ? readdirSync('/sys/kernel/mm/hugepages') : [];
    const kb = sizes.map((d) => Number(/hugepages-(\d+)kB/.exec(d)?.[1])).find((n) => n === 2048) ?? 2048;
    const pageSize = kb >= 1024 * 1024 ? `${kb / 1024 / 1024}GB` : `${kb / 1024}MB`;
    const limit = kb * 1024 * 4;
    const root = s.host.controllerRoot('hugetlb');
    if (!root) {
      await missing(s, 'limit', (c) => (c.linux.resources.hugepageLimits = [{ pageSize, limit }]), /hugetlb|huge/i, 'hugepageLimits');
      return;
    }
    const read = await withResources(s, (c) => (c.linux.resources.hugepageLimits = [{ pageSize, limit }]));
    const file = root.version === 1 ? `hugetlb.${pageSize}.limit_in_bytes` : `hugetlb.${pageSize}.max`;
    s.equal('limit', read('hugetlb', file), String(limit), file);
  },
});

export const linux_cgroups_network = scenario({
  section: 'config-linux.md#network',
  name: 'linux_cgroups_network',
  checks: {
    classID: 'network.classID is the net_cls class id (where the host has net_cls; otherwise create fails naming it)',
    priorities: 'network.priorities are the net_prio priorities (where the host has net_prio; otherwise create fails naming it)',
  },
  async run(s) {
    const classID = 0x100001;
    if (s.host.controllerRoot('net_cls')) {
      const read = await withResources(s, (c) => (c.linux.resources.network = { classID }));
      s.equal('classID', read('net_cls', 'net_cls.classid'), String(classID));
    } else {
      await missing(s, 'classID', (c) => (c.linux.resources.network = { classID }), /net_cls|network|classid/i, 'network.classID');
    }
    if (s.host.controllerRoot('net_prio')) {
      const read = await withResources(s, (c) => (c.linux.resources.network = { priorities: [{ name: 'lo', priority: 5 }] }));
      s.ok('priorities', /\blo 5\b/.test(read('net_prio', 'net_prio.ifpriomap') ?? ''), `net_prio.ifpriomap: ${read('net_prio', 'net_prio.ifpriomap')}`);
    } else {
      await missing(s, 'priorities', (c) => (c.linux.resources.network = { priorities: [{ name: 'lo', priority: 5 }] }), /net_cls|net_prio|network|prio/i, 'network.priorities');
    }
  },
});

export const linux_cgroups_rdma = scenario({
  section: 'config-linux.md#rdma',
  name: 'linux_cgroups_rdma',
  checks: {
    limit: 'rdma limits apply (where the host has the rdma controller; otherwise create fails naming it)',
  },
  async run(s) {
    const rdma = { mlx5_oci: { hcaHandles: 3, hcaObjects: 100 } };
    if (!s.host.controllerRoot('rdma')) {
      await missing(s, 'limit', (c) => (c.linux.resources.rdma = rdma), /rdma/i, 'rdma');
      return;
    }
    // The device must exist for the kernel to take a limit: an unknown one must be refused.
    const b = await s.bundle((c) => (c.linux.resources.rdma = rdma));
    await s.expectError('limit', b, 'an rdma limit for a device this host does not have');
  },
});

export const linux_cgroups_unified = scenario({
  section: 'config-linux.md#unified',
  name: 'linux_cgroups_unified',
  checks: {
    'missing-controller': 'unified naming a controller the cgroup v2 tree does not have generates an error',
    written: 'unified values are written to their files (on a cgroup v2 host with the controller)',
  },
  async run(s) {
    const v2 = s.host.hierarchies.find((h) => h.version === 2);
    const controllers = v2 ? readFileSync(path.join(v2.mountpoint, 'cgroup.controllers'), 'utf8').trim().split(/\s+/) : [];
    const absent = ['pids', 'memory', 'cpu', 'io', 'rdma', 'misc'].find((c) => !controllers.includes(c) || s.host.layout !== 'v2');
    if (absent) {
      const file = absent === 'rdma' || absent === 'misc' ? `${absent}.max` : absent === 'io' ? 'io.weight' : absent === 'cpu' ? 'cpu.weight' : `${absent}.max`;
      const b = await s.bundle((c) => (c.linux.resources.unified = { [file]: absent === 'cpu' || absent === 'io' ? '100' : '10' }));
      await s.expectError('missing-controller', b, `unified ${file} (${absent} is not a cgroup v2 controller here)`);
    } else {
      s.ok('missing-controller', true);
      s.note('every usual controller is enabled in the v2 tree: missing-controller not checked');
    }
    if (s.host.layout === 'v2' && controllers.includes('pids')) {
      const read = await withResources(s, (c) => (c.linux.resources.unified = { 'pids.max': '42' }));
      s.equal('written', read('unified', 'pids.max'), '42');
    } else {
      // On a v1 or hybrid host unified cannot be written: the runtime must say so.
      const b = await s.bundle((c) => (c.linux.resources.unified = { 'pids.max': '42' }));
      await s.expectError('written', b, 'unified pids.max on a host whose resources are cgroup v1');
    }
  },
});
