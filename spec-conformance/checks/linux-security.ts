// config-linux.md#sysctl, #seccomp, #personality, #intelrdt, #mount-label and
// config.md#linux-process's apparmorProfile and selinuxLabel.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { probeArgs, withoutNamespace, type Config } from '../lib/config.js';
import type { Facts } from '../lib/facts.js';
import type { Bundle } from '../lib/bundle.js';
import { describeCall } from '../lib/runtime.js';
import { scenario, until, type Scenario } from '../lib/scenario.js';

/** The probe's report, or undefined once the check has failed with the reason. */
async function facts(s: Scenario, key: string, edit: (c: Config) => void): Promise<Facts | undefined> {
  let f: Facts | undefined;
  await s.part(key, async () => void (f = await s.runProbe(edit)));
  return f;
}

export const linux_sysctl = scenario({
  section: 'config-linux.md#sysctl',
  name: 'linux_sysctl',
  checks: {
    applied: 'sysctl values are set in the container (network and ipc namespaced keys)',
    'host-unchanged': "the host's values of those keys are unchanged",
    unknown: 'a sysctl key the kernel does not have generates an error',
    'host-namespace': "a net.* sysctl for a container sharing the host's network namespace is refused (it would change the host; runc's rule)",
  },
  async run(s) {
    const keys = { 'net.ipv4.ip_forward': '1', 'net.core.somaxconn': '511', 'kernel.shmmni': '2048' };
    const hostBefore = Object.keys(keys).map(hostSysctl);
    const f = await facts(s, 'applied', (c) => {
      c.linux.sysctl = keys;
      c.process.args = probeArgs(['sysctl', ...Object.keys(keys)]);
    });
    if (f) for (const [k, v] of Object.entries(keys)) s.equal('applied', f.get(`sysctl ${k}`), v, k);
    s.equal('host-unchanged', Object.keys(keys).map(hostSysctl), hostBefore);

    // The host's own value: a runtime that wrongly applies it to the host changes nothing.
    const current = hostSysctl('net.ipv4.ip_forward');
    const valid = (): Promise<Bundle> => s.bundle((c) => (c.linux.sysctl = { 'net.ipv4.ip_forward': current }));
    const bad = await s.bundle((c) => (c.linux.sysctl = { 'net.oci.no_such_key': '1' }));
    await s.expectError('unknown', bad, 'sysctl net.oci.no_such_key', undefined, await valid());
    const host = await s.bundle((c) => {
      withoutNamespace(c, 'network');
      c.linux.sysctl = { 'net.ipv4.ip_forward': current };
    });
    await s.expectError('host-namespace', host, 'net.ipv4.ip_forward without a network namespace', undefined, await valid());
  },
});

function hostSysctl(key: string): string {
  return readFileSync(path.join('/proc/sys', key.replace(/\./g, '/')), 'utf8').trim();
}

export const linux_seccomp = scenario({
  section: 'config-linux.md#seccomp',
  name: 'linux_seccomp',
  checks: {
    errno: 'SCMP_ACT_ERRNO makes a listed syscall fail with EPERM, the filter is in place (Seccomp: 2)',
    errnoRet: 'errnoRet is the errno of SCMP_ACT_ERRNO',
    args: 'an args condition (SCMP_CMP_EQ) limits a rule to the matching calls',
    kill: 'SCMP_ACT_KILL kills the process at the call',
    trap: 'SCMP_ACT_TRAP sends SIGSYS at the call',
    log: 'SCMP_ACT_LOG lets the call through',
    architectures: 'a filter with architectures listed applies',
    'invalid-action': 'an unknown action generates an error',
    'names-empty': 'a rule with no names generates an error (names MUST have an entry)',
    'errno-unsupported': 'errnoRet on an action without an errno generates an error',
    listener:
      'with SCMP_ACT_NOTIFY the container process state (ociVersion, fds ["seccompFd"], pid, metadata, state) is sent to listenerPath',
  },
  async run(s) {
    const filter = (rules: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: rules, ...extra });
    const valid = (): Promise<Bundle> => s.bundle((c) => (c.linux.seccomp = filter([{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO' }])));
    await Promise.all([
      facts(s, 'errno', (c) => {
        c.linux.seccomp = filter([{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO' }]);
        c.process.args = probeArgs(['call', 'getcwd'], ['report']);
      }).then((f) => {
        if (!f) return;
        s.equal('errno', f.get('call getcwd'), 'error EPERM');
        s.equal('errno', f.get('Seccomp'), '2', 'Seccomp in /proc/self/status');
      }),
      facts(s, 'errnoRet', (c) => {
        c.linux.seccomp = filter([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 }]);
        c.process.args = probeArgs(['call', 'mkdir', '/tmp/oci-x']);
      }).then((f) => f && s.equal('errnoRet', f.get('call mkdir'), 'error EXDEV')),
      facts(s, 'args', (c) => {
        c.linux.seccomp = filter([{ names: ['umask'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0o77, op: 'SCMP_CMP_EQ' }] }]);
        c.process.args = probeArgs(['call', 'umask', '077'], ['call', 'umask', '022']);
      }).then((f) => {
        if (!f) return;
        const lines = f.all('call umask');
        s.equal('args', lines, ['error EPERM', 'ok'], 'umask(077) then umask(022)');
      }),
      ...(['kill', 'trap'] as const).map((k) =>
        facts(s, k, (c) => {
          c.linux.seccomp = filter([{ names: ['getcwd'], action: k === 'kill' ? 'SCMP_ACT_KILL' : 'SCMP_ACT_TRAP' }]);
          c.process.args = probeArgs(['echo', 'before'], ['call', 'getcwd'], ['echo', 'after']);
        }).then((f) => f && s.ok(k, f.has('echo before') && !f.has('echo after') && f.get('call getcwd') === undefined, `output: ${f.text}`)),
      ),
      facts(s, 'log', (c) => {
        c.linux.seccomp = filter([{ names: ['getcwd'], action: 'SCMP_ACT_LOG' }]);
        c.process.args = probeArgs(['call', 'getcwd']);
      }).then((f) => f && s.equal('log', f.get('call getcwd'), 'ok')),
      facts(s, 'architectures', (c) => {
        c.linux.seccomp = filter([{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO' }], { architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] });
        c.process.args = probeArgs(['call', 'getcwd']);
      }).then((f) => f && s.equal('architectures', f.get('call getcwd'), 'error EPERM')),
      s.bundle((c) => (c.linux.seccomp = filter([{ names: ['getcwd'], action: 'SCMP_ACT_OCI_BOGUS' }]))).then(async (b) => s.expectError('invalid-action', b, 'action SCMP_ACT_OCI_BOGUS', undefined, await valid())),
      s.bundle((c) => (c.linux.seccomp = filter([{ names: [], action: 'SCMP_ACT_ERRNO' }]))).then(async (b) => s.expectError('names-empty', b, 'names []', undefined, await valid())),
      s
        .bundle((c) => (c.linux.seccomp = filter([{ names: ['getcwd'], action: 'SCMP_ACT_KILL', errnoRet: 1 }])))
        .then(async (b) => s.expectError('errno-unsupported', b, 'SCMP_ACT_KILL with errnoRet', undefined, await valid())),
      listener(s),
    ]);
  },
});

async function listener(s: Scenario): Promise<void> {
  const sock = path.join(s.work, 'seccomp.sock');
  const received: Buffer[] = [];
  const server = net.createServer((conn) => {
    // Node reads no ancillary data: the seccomp fd the runtime sends is closed by the
    // kernel, which makes the notified call fail in the container instead of hanging.
    conn.on('data', (d: Buffer) => received.push(d));
  });
  await new Promise<void>((r) => server.listen(sock, r));
  s.defer(() => new Promise<void>((r) => server.close(() => r())));
  const b = await s.bundle((c) => {
    c.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: sock,
      listenerMetadata: 'oci-conformance-metadata',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    };
    c.process.args = probeArgs(['call', 'mkdir', '/tmp/oci-notify'], ['echo', 'after']);
  });
  const c = s.container(b);
  const made = await c.create();
  if (made.code !== 0) {
    s.ok('listener', false, describeCall(made));
    return;
  }
  const pid = await c.pid();
  await until(() => received.length > 0, 3000);
  let msg: Record<string, unknown> = {};
  const text = Buffer.concat(received).toString();
  try {
    msg = JSON.parse(text) as Record<string, unknown>;
  } catch {
    s.ok('listener', false, `the listener got no JSON: ${JSON.stringify(text)}`);
    return;
  }
  s.ok('listener', typeof msg.ociVersion === 'string', `ociVersion ${JSON.stringify(msg.ociVersion)}`);
  s.equal('listener', msg.fds, ['seccompFd'], 'fds');
  s.equal('listener', msg.pid, pid, 'pid');
  s.equal('listener', msg.metadata, 'oci-conformance-metadata', 'metadata');
  const st = (msg.state ?? {}) as Record<string, unknown>;
  s.equal('listener', [st.id, st.bundle], [c.id, b.dir], 'state id and bundle');
}

export const lsm = scenario({
  section: 'config.md#linux-process',
  name: 'linux_process_apparmor_profile',
  checks: {
    apparmorProfile: 'apparmorProfile is applied where AppArmor is enabled; on a host without it, create fails naming AppArmor',
    selinuxLabel: 'selinuxLabel is applied where SELinux is enabled; on a host without it, create fails naming SELinux',
  },
  async run(s) {
    if (s.host.apparmor) {
      const f = await facts(s, 'apparmorProfile', (c) => {
        c.process.apparmorProfile = 'unconfined';
        c.process.args = probeArgs(['cat', '/proc/self/attr/current']);
      });
      if (f) s.equal('apparmorProfile', f.get('cat /proc/self/attr/current'), 'unconfined');
    } else {
      const b = await s.bundle((c) => (c.process.apparmorProfile = 'oci-conformance-profile'));
      await s.expectError('apparmorProfile', b, 'apparmorProfile on a host without AppArmor', /apparmor/i);
    }
    const label = 'system_u:system_r:container_t:s0:c1,c2';
    if (s.host.selinux) {
      const f = await facts(s, 'selinuxLabel', (c) => {
        c.process.selinuxLabel = label;
        c.process.args = probeArgs(['cat', '/proc/self/attr/current']);
      });
      if (f) s.ok('selinuxLabel', (f.get('cat /proc/self/attr/current') ?? '').startsWith(label), `label: ${f.get('cat /proc/self/attr/current')}`);
    } else {
      const b = await s.bundle((c) => (c.process.selinuxLabel = label));
      await s.expectError('selinuxLabel', b, 'selinuxLabel on a host without SELinux', /selinux/i);
    }
  },
});

export const linux_mount_label = scenario({
  section: 'config-linux.md#mount-label',
  name: 'linux_mount_label',
  checks: {
    mountLabel: 'mountLabel labels the mounts where SELinux is enabled; on a host without it, create fails naming SELinux',
  },
  async run(s) {
    const label = 'system_u:object_r:container_file_t:s0:c1,c2';
    if (s.host.selinux) {
      const f = await facts(s, 'mountLabel', (c) => {
        c.linux.mountLabel = label;
        c.mounts.push({ destination: '/mnt/labelled', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
        c.process.args = probeArgs(['mounts']);
      });
      if (f) s.ok('mountLabel', (f.mountAt('/mnt/labelled')?.superOptions ?? []).some((o) => o.includes('container_file_t')), `options: ${f.mountAt('/mnt/labelled')?.superOptions.join(',')}`);
    } else {
      const b = await s.bundle((c) => (c.linux.mountLabel = label));
      await s.expectError('mountLabel', b, 'mountLabel on a host without SELinux', /selinux|label/i);
    }
  },
});

export const personality = scenario({
  section: 'config-linux.md#personality',
  name: 'linux_personality',
  checks: {
    LINUX32: 'personality LINUX32 makes uname report a 32-bit machine',
    'invalid-domain': 'an unknown personality domain generates an error',
  },
  async run(s) {
    const f = await facts(s, 'LINUX32', (c) => {
      c.linux.personality = { domain: 'LINUX32' };
      c.process.args = probeArgs(['report']);
    });
    if (f) s.ok('LINUX32', /^i[3-6]86$|^armv[78]l$/.test(f.get('machine') ?? ''), `uname machine ${f.get('machine')}`);
    const b = await s.bundle((c) => (c.linux.personality = { domain: 'OCI_BOGUS' }));
    const valid = await s.bundle((c) => (c.linux.personality = { domain: 'LINUX' }));
    await s.expectError('invalid-domain', b, 'personality domain OCI_BOGUS', undefined, valid);
  },
});

export const intel_rdt = scenario({
  section: 'config-linux.md#intelrdt',
  name: 'linux_intel_rdt',
  checks: {
    intelRdt: 'intelRdt puts the container in its resctrl group; with no resctrl mounted, create fails naming it',
  },
  async run(s) {
    if (!s.host.resctrl) {
      const b = await s.bundle((c) => (c.linux.intelRdt = { closID: 'oci-conformance', l3CacheSchema: 'L3:0=f' }));
      await s.expectError('intelRdt', b, 'intelRdt with no resctrl mounted', /rdt|resctrl/i);
      return;
    }
    // No closID: the runtime makes a group named after the container.
    const b = await s.bundle((c) => {
      c.linux.intelRdt = {};
      c.process.args = probeArgs(['sleep', '5']);
    });
    const c = s.container(b);
    await c.createOk();
    const pid = await c.pid();
    const tasks = readFileSync(path.join(s.host.resctrl, c.id, 'tasks'), 'utf8');
    s.ok('intelRdt', tasks.split('\n').includes(String(pid)), `pid ${pid} not in the group's tasks`);
  },
});
