// config-linux.md#seccomp: actions, errno values, argument conditions, architectures, the
// errors for invalid rules, and the container process state sent to a listener.
import net from 'node:net';
import path from 'node:path';
import type { Bundle } from '../lib/bundle.js';
import { probeArgs } from '../lib/config.js';
import { until } from '../lib/poll.js';
import { describeCall } from '../lib/runtime.js';
import { scenario, type Scenario } from '../lib/scenario.js';
import { olderAllowlist } from '../lib/seccomp-allowlist.js';

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
    'allowlist-nnp':
      'an allow-list profile (defaultAction SCMP_ACT_ERRNO, ~300 syscalls, none newer than runc 1.1 makes: no close_range, faccessat2, openat2, clone3, pidfd_*) with noNewPrivileges true: the process runs under it',
    'allowlist-no-nnp': 'the same allow-list with noNewPrivileges false (the filter is loaded before the runtime\'s last steps): the process runs under it',
    listener:
      'with SCMP_ACT_NOTIFY the container process state (ociVersion, fds ["seccompFd"], pid, metadata, state) is sent to listenerPath',
  },
  async run(s) {
    const filter = (rules: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: rules, ...extra });
    const valid = (): Promise<Bundle> => s.bundle((c) => (c.linux.seccomp = filter([{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO' }])));
    await Promise.all([
      s.report('errno', (c) => {
        c.linux.seccomp = filter([{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO' }]);
        c.process.args = probeArgs(['call', 'getcwd'], ['report']);
      }).then((f) => {
        if (!f) return;
        s.equal('errno', f.get('call getcwd'), 'error EPERM');
        s.equal('errno', f.get('Seccomp'), '2', 'Seccomp in /proc/self/status');
      }),
      s.report('errnoRet', (c) => {
        c.linux.seccomp = filter([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 }]);
        c.process.args = probeArgs(['call', 'mkdir', '/tmp/oci-x']);
      }).then((f) => f && s.equal('errnoRet', f.get('call mkdir'), 'error EXDEV')),
      s.report('args', (c) => {
        c.linux.seccomp = filter([{ names: ['umask'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0o77, op: 'SCMP_CMP_EQ' }] }]);
        c.process.args = probeArgs(['call', 'umask', '077'], ['call', 'umask', '022']);
      }).then((f) => {
        if (!f) return;
        const lines = f.all('call umask');
        s.equal('args', lines, ['error EPERM', 'ok'], 'umask(077) then umask(022)');
      }),
      ...(['kill', 'trap'] as const).map((k) =>
        s.report(k, (c) => {
          c.linux.seccomp = filter([{ names: ['getcwd'], action: k === 'kill' ? 'SCMP_ACT_KILL' : 'SCMP_ACT_TRAP' }]);
          c.process.args = probeArgs(['echo', 'before'], ['call', 'getcwd'], ['echo', 'after']);
        }).then((f) => f && s.ok(k, f.has('echo before') && !f.has('echo after') && f.get('call getcwd') === undefined, `output: ${f.text}`)),
      ),
      s.report('log', (c) => {
        c.linux.seccomp = filter([{ names: ['getcwd'], action: 'SCMP_ACT_LOG' }]);
        c.process.args = probeArgs(['call', 'getcwd']);
      }).then((f) => f && s.equal('log', f.get('call getcwd'), 'ok')),
      s.report('architectures', (c) => {
        c.linux.seccomp = filter([{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO' }], { architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] });
        c.process.args = probeArgs(['call', 'getcwd']);
      }).then((f) => f && s.equal('architectures', f.get('call getcwd'), 'error EPERM')),
      s.bundle((c) => (c.linux.seccomp = filter([{ names: ['getcwd'], action: 'SCMP_ACT_OCI_BOGUS' }]))).then(async (b) => s.expectError('invalid-action', b, 'action SCMP_ACT_OCI_BOGUS', undefined, await valid())),
      s.bundle((c) => (c.linux.seccomp = filter([{ names: [], action: 'SCMP_ACT_ERRNO' }]))).then(async (b) => s.expectError('names-empty', b, 'names []', undefined, await valid())),
      s
        .bundle((c) => (c.linux.seccomp = filter([{ names: ['getcwd'], action: 'SCMP_ACT_KILL', errnoRet: 1 }])))
        .then(async (b) => s.expectError('errno-unsupported', b, 'SCMP_ACT_KILL with errnoRet', undefined, await valid())),
      ...([true, false] as const).map((nnp) => {
        const key = nnp ? 'allowlist-nnp' : 'allowlist-no-nnp';
        return s.report(key, (c) => {
          c.linux.seccomp = olderAllowlist();
          c.process.noNewPrivileges = nnp;
          c.process.args = probeArgs(['call', 'getcwd'], ['report']);
        }).then((f) => {
          if (!f) return;
          s.equal(key, [f.get('call getcwd'), f.get('Seccomp'), f.get('NoNewPrivs')], ['ok', '2', nnp ? '1' : '0'], 'getcwd, Seccomp and NoNewPrivs');
        });
      }),
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
