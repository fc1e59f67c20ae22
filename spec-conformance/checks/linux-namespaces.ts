// config-linux.md#namespaces: new namespaces, inherited ones, joined ones, and the errors
// for a path of the wrong type, a relative path and a duplicate. The container's
// namespaces are read from the host through /proc/<pid>/ns, as runtime-tools does.
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { probeArgs, setNamespace, type Config } from '../lib/config.js';
import { CONFIG_NS, NS_TYPES, type NsProcName } from '../lib/host.js';
import { describeCall } from '../lib/runtime.js';
import type { Holder } from '../lib/holder.js';
import { scenario, type Scenario } from '../lib/scenario.js';

export const linux_ns_nopath = scenario({
  section: 'config-linux.md#namespaces',
  name: 'linux_ns_nopath',
  checks: {
    pid: 'a pid namespace without path is a new one',
    network: 'a network namespace without path is a new one',
    ipc: 'an ipc namespace without path is a new one',
    uts: 'a uts namespace without path is a new one',
    mount: 'a mount namespace without path is a new one',
    cgroup: 'a cgroup namespace without path is a new one',
    'cgroup-root': "in a new cgroup namespace the container's own cgroups are its root (made after joining them)",
  },
  async run(s) {
    const b = await s.bundle((c) => {
      c.linux.namespaces.push({ type: 'cgroup' });
      c.process.args = probeArgs(['report']);
    });
    const c = s.container(b);
    await c.createOk();
    const pid = await c.pid();
    for (const t of ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup'] as const) {
      const link = readlinkSync(`/proc/${pid}/ns/${t}`);
      s.ok(CONFIG_NS[t], link !== s.host.selfNs.get(t), `the container has the runtime's ${t} namespace ${link}`);
    }
    await c.startOk();
    await c.waitStopped();
    const paths = c.output().all('cgroup').map((l) => l.slice(l.lastIndexOf(':') + 1));
    s.ok('cgroup-root', paths.length > 0 && paths.every((p) => p === '/'), `/proc/self/cgroup in the container: ${c.output().all('cgroup').join(' | ')}`);
  },
});

export const linux_ns_itype = scenario({
  section: 'config-linux.md#namespaces',
  name: 'linux_ns_itype',
  checks: Object.fromEntries(NS_TYPES.map((t) => [CONFIG_NS[t], `without a ${CONFIG_NS[t]} entry the container has the runtime's ${CONFIG_NS[t]} namespace`])),
  async run(s) {
    // No mount namespace means the runtime mounts in its own: it runs in a private one
    // (made here by unshare), which also tells which namespaces the runtime had.
    const record = path.join(s.work, 'runtime-ns');
    const b = await s.bundle((c) => {
      c.linux.namespaces = [];
      delete c.hostname;
      c.linux.maskedPaths = [];
      c.linux.readonlyPaths = [];
      c.process.args = probeArgs(['sleep', '10']);
    });
    const c = s.container(b);
    const script = `for t in ${NS_TYPES.join(' ')}; do echo "$t $(readlink /proc/self/ns/$t)"; done > ${record}; exec "$@"`;
    await c.createOk({ prefix: ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh'] });
    const pid = await c.pid();
    const runtimeNs = new Map(readFileSync(record, 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string]));
    for (const t of NS_TYPES) {
      if (!s.host.selfNs.has(t)) {
        s.ok(CONFIG_NS[t], false, `this kernel has no ${t} namespace`);
        continue;
      }
      s.equal(CONFIG_NS[t], readlinkSync(`/proc/${pid}/ns/${t}`), runtimeNs.get(t), `${t} namespace`);
    }
  },
});

const UNSHARE_FLAG: Record<NsProcName, string[]> = {
  cgroup: ['--cgroup'],
  ipc: ['--ipc'],
  mnt: ['--mount', '--propagation', 'private'],
  net: ['--net'],
  pid: ['--pid'],
  time: ['--time'],
  user: ['--user', '--map-root-user'],
  uts: ['--uts'],
};

/** Makes the config join the holder's namespace of type t. */
function joinHolder(c: Config, h: Holder, t: NsProcName, withMaps: boolean): void {
  setNamespace(c, CONFIG_NS[t], h.nsPath(t));
  if (t === 'user') {
    // only id 0 is mapped in the joined namespace: no devpts gid=5
    for (const m of c.mounts) if (m.type === 'devpts') m.options = m.options.filter((o: string) => o !== 'gid=5');
  }
  if (withMaps) {
    // the maps the joined namespace has (unshare --map-root-user: 0 -> 0, one id)
    c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
  }
}

async function joinByPath(s: Scenario, t: NsProcName, key: string = CONFIG_NS[t], withMaps = false): Promise<void> {
  try {
    const h = await s.holder(UNSHARE_FLAG[t]);
    const b = await s.bundle((c) => {
      joinHolder(c, h, t, withMaps);
      c.process.args = probeArgs(['sleep', '10']);
    });
    const c = s.container(b);
    const r = await c.create();
    if (r.code !== 0) {
      s.ok(key, false, describeCall(r));
      return;
    }
    const pid = await c.pid();
    s.equal(key, readlinkSync(`/proc/${pid}/ns/${t}`), h.nsLink(t), `${t} namespace of the container`);
  } catch (e) {
    s.ok(key, false, (e as Error).message);
  }
}

export const linux_ns_path = scenario({
  section: 'config-linux.md#namespaces',
  name: 'linux_ns_path',
  checks: {
    ...Object.fromEntries(NS_TYPES.map((t) => [CONFIG_NS[t], `a ${CONFIG_NS[t]} namespace with a path is joined (${t === 'pid' || t === 'time' ? `/proc/<pid>/ns/${t}_for_children` : `/proc/<pid>/ns/${t}`})`])),
    user: 'a user namespace with a path is joined, its own uid/gid maps repeated in the config (as containerd sends them)',
    'user-without-mappings': 'a user namespace with a path is joined with no uidMappings/gidMappings in the config',
  },
  async run(s) {
    await Promise.all(NS_TYPES.filter((t) => existsSync(`/proc/self/ns/${t}`)).map((t) => joinByPath(s, t, CONFIG_NS[t], t === 'user')));
    if (existsSync('/proc/self/ns/user')) await joinByPath(s, 'user', 'user-without-mappings');
    for (const t of NS_TYPES) if (!existsSync(`/proc/self/ns/${t}`)) s.ok(CONFIG_NS[t], false, `this kernel has no ${t} namespace`);
  },
});

const WRONG: Record<NsProcName, NsProcName> = { cgroup: 'ipc', ipc: 'mnt', mnt: 'net', net: 'pid', pid: 'user', user: 'uts', uts: 'cgroup', time: 'uts' };

export const linux_ns_path_type = scenario({
  section: 'config-linux.md#namespaces',
  name: 'linux_ns_path_type',
  checks: Object.fromEntries(NS_TYPES.map((t) => [CONFIG_NS[t], `a ${CONFIG_NS[t]} namespace whose path is a ${WRONG[t]} namespace generates an error`])),
  async run(s) {
    await Promise.all(
      NS_TYPES.map(async (t) => {
        try {
          // the valid counterpart: the same type joined at a path of that type
          const h = await s.holder(UNSHARE_FLAG[t]);
          const control = await s.bundle((c) => joinHolder(c, h, t, t === 'user'));
          const b = await s.bundle((c) => setNamespace(c, CONFIG_NS[t], `/proc/self/ns/${WRONG[t]}`));
          await s.expectError(CONFIG_NS[t], b, `type ${CONFIG_NS[t]}, path /proc/self/ns/${WRONG[t]}`, undefined, control);
        } catch (e) {
          s.ok(CONFIG_NS[t], false, (e as Error).message);
        }
      }),
    );
  },
});

export const linux_ns_invalid = scenario({
  section: 'config-linux.md#namespaces',
  name: 'linux_ns_path',
  checks: {
    'path-relative': 'a namespace path that is not absolute generates an error',
    duplicate: 'the same namespace type listed twice generates an error',
  },
  async run(s) {
    await Promise.all([
      s.bundle((c) => setNamespace(c, 'network', 'proc/self/ns/net')).then((b) => s.expectError('path-relative', b, 'network path "proc/self/ns/net"')),
      s.bundle((c) => c.linux.namespaces.push({ type: 'ipc' })).then((b) => s.expectError('duplicate', b, 'ipc twice')),
    ]);
  },
});
