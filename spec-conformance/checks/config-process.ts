// config.md#process, #posix-process, #linux-process, #user and #hostname: what the
// container's process is given, as the probe inside reports it.
import { capNames } from '../lib/host.js';
import { PATH_ENV, PROBE } from '../lib/config.js';
import { scenario } from '../lib/scenario.js';


export const process_basics = scenario({
  section: 'config.md#process',
  name: 'process',
  checks: {
    cwd: 'the process starts in process.cwd',
    env: 'process.env is the environment, values containing "=" intact',
    args: 'process.args is argv, byte for byte (spaces, empty strings)',
    'terminal-false': 'with terminal false the process has the stdio create was given (no tty), consoleSize ignored',
  },
  async run(s) {
    const f = await s.runProbe((c) => {
      c.process.cwd = '/tmp';
      c.process.env = [PATH_ENV, 'OCI_A=one', 'OCI_B=with=equals', 'OCI_EMPTY='];
      c.process.args = [PROBE, 'report', '--', 'echo', 'two words', '--', 'echo', ''];
      c.process.consoleSize = { height: 10, width: 40 };
    });
    s.equal('cwd', f.get('cwd'), '/tmp');
    const env = f.env();
    for (const [k, v] of [
      ['OCI_A', 'one'],
      ['OCI_B', 'with=equals'],
      ['OCI_EMPTY', ''],
      ['PATH', PATH_ENV.slice(5)],
    ]) {
      s.equal('env', env.get(k as string), v, k);
    }
    const argv = f.all('argv').map((l) => l.slice(l.indexOf(' ') + 1));
    s.equal('args', argv, [PROBE, 'report', '--', 'echo', 'two words', '--', 'echo', '']);
    s.equal('terminal-false', f.get('isatty'), '0 0 0');
    s.ok('terminal-false', f.has('echo two words'), 'the output did not reach create\'s stdout');
  },
});

export const process_args_path = scenario({
  section: 'config.md#process',
  name: 'process',
  checks: {
    'args-path': 'args[0] without a slash is found through the PATH of process.env, as execvp does',
  },
  async run(s) {
    const f = await s.runProbe((c) => {
      c.process.env = ['PATH=/bin:/usr/local/bin'];
      c.process.args = ['oci-probe', 'echo', 'found'];
    });
    s.ok('args-path', f.has('echo found'), `output: ${f.text}`);
  },
});

export const process_invalid = scenario({
  section: 'config.md#process',
  name: 'process',
  checks: {
    'args-empty': 'empty process.args generates an error (at least one entry is REQUIRED)',
    'args-missing': 'a program that does not exist in the rootfs generates an error',
    'cwd-relative': 'a relative process.cwd generates an error (it MUST be absolute)',
  },
  async run(s) {
    await Promise.all([
      s.bundle((c) => (c.process.args = [])).then((b) => s.expectError('args-empty', b, 'args []')),
      s.bundle((c) => (c.process.args = ['/no/such/program'])).then((b) => s.expectError('args-missing', b, 'args ["/no/such/program"]')),
      s.bundle((c) => (c.process.cwd = 'tmp')).then((b) => s.expectError('cwd-relative', b, 'cwd "tmp"')),
    ]);
  },
});

export const process_rlimits = scenario({
  section: 'config.md#posix-process',
  name: 'process_rlimits',
  checks: {
    soft: 'rlim_cur of every rlimits entry is its soft value',
    hard: 'rlim_max of every rlimits entry is its hard value',
  },
  async run(s) {
    // Lowering only: this host's bounding set lacks CAP_SYS_RESOURCE.
    const want = [
      { type: 'RLIMIT_NOFILE', soft: 512, hard: 1000 },
      { type: 'RLIMIT_CORE', soft: 1024, hard: 4096 },
      { type: 'RLIMIT_NPROC', soft: 300, hard: 400 },
      { type: 'RLIMIT_MSGQUEUE', soft: 8192, hard: 16384 },
    ];
    const f = await s.runProbe((c) => (c.process.rlimits = want));
    for (const r of want) {
      const got = f.rlimit(r.type);
      s.equal('soft', got?.soft, String(r.soft), r.type);
      s.equal('hard', got?.hard, String(r.hard), r.type);
    }
  },
});

export const process_rlimits_fail = scenario({
  section: 'config.md#posix-process',
  name: 'process_rlimits_fail',
  checks: {
    'unknown-type': 'an rlimit type with no kernel resource (RLIMIT_TEST) generates an error',
    duplicate: 'two rlimits entries of the same type generate an error',
  },
  async run(s) {
    await Promise.all([
      s.bundle((c) => c.process.rlimits.push({ type: 'RLIMIT_TEST', soft: 1, hard: 1 })).then((b) => s.expectError('unknown-type', b, 'RLIMIT_TEST')),
      s
        .bundle((c) => c.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 512, hard: 512 }))
        .then((b) => s.expectError('duplicate', b, 'RLIMIT_NOFILE twice')),
    ]);
  },
});

export const process_capabilities = scenario({
  section: 'config.md#linux-process',
  name: 'process_capabilities',
  checks: {
    bounding: 'the bounding set is exactly capabilities.bounding',
    effective: 'the effective set is exactly capabilities.effective',
    permitted: 'the permitted set is exactly capabilities.permitted',
    inheritable: 'the inheritable set is exactly capabilities.inheritable',
    ambient: 'the ambient set is exactly capabilities.ambient',
  },
  async run(s) {
    // For uid 0 the kernel makes the effective set the permitted one at execve, whatever
    // the runtime set before: the two are given equal.
    const sets = {
      bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SYS_CHROOT', 'CAP_AUDIT_WRITE'],
      effective: ['CAP_CHOWN', 'CAP_KILL', 'CAP_SETUID', 'CAP_NET_RAW'],
      permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_SETUID', 'CAP_NET_RAW'],
      inheritable: ['CAP_KILL', 'CAP_NET_RAW'],
      ambient: ['CAP_KILL'],
    };
    const f = await s.runProbe((c) => (c.process.capabilities = sets));
    const keys = { bounding: 'CapBnd', effective: 'CapEff', permitted: 'CapPrm', inheritable: 'CapInh', ambient: 'CapAmb' } as const;
    for (const [set, key] of Object.entries(keys) as Array<[keyof typeof keys, string]>) {
      const hex = f.get(key);
      s.equal(set, hex === undefined ? undefined : capNames(hex), [...sets[set]].sort());
    }
  },
});

export const process_capabilities_fail = scenario({
  section: 'config.md#linux-process',
  name: 'process_capabilities_fail',
  checks: {
    unknown: 'a capability with no kernel value (CAP_TEST) generates an error',
  },
  async run(s) {
    const b = await s.bundle((c) => c.process.capabilities.bounding.push('CAP_TEST'));
    await s.expectError('unknown', b, 'CAP_TEST in bounding');
  },
});

export const no_new_privileges = scenario({
  section: 'config.md#linux-process',
  name: 'process',
  checks: {
    'noNewPrivileges-true': 'noNewPrivileges true sets no_new_privs',
    'noNewPrivileges-false': 'noNewPrivileges false leaves no_new_privs unset',
  },
  async run(s) {
    await Promise.all([
      s.probe('noNewPrivileges-true', (c) => (c.process.noNewPrivileges = true), (f) => s.equal('noNewPrivileges-true', f.get('NoNewPrivs'), '1')),
      s.probe('noNewPrivileges-false', (c) => (c.process.noNewPrivileges = false), (f) => s.equal('noNewPrivileges-false', f.get('NoNewPrivs'), '0')),
    ]);
  },
});

export const process_oom_score_adj = scenario({
  section: 'config.md#linux-process',
  name: 'process_oom_score_adj',
  checks: {
    set: 'oomScoreAdj sets /proc/<pid>/oom_score_adj',
    unset: "without oomScoreAdj the container keeps the value of the runtime's caller",
  },
  async run(s) {
    await s.probe('set', (c) => (c.process.oomScoreAdj = 200), (f) => s.equal('set', f.get('oom_score_adj'), '200'));
    // The runtime is started with oom_score_adj 123: unchanged, the container has it too.
    const b = await s.bundle();
    const c = s.container(b);
    await c.createOk({ prefix: ['sh', '-c', 'echo 123 > /proc/self/oom_score_adj && exec "$@"', 'sh'] });
    await c.startOk();
    await c.waitStopped();
    s.equal('unset', c.output().get('oom_score_adj'), '123');
  },
});

export const process_user = scenario({
  section: 'config.md#user',
  name: 'process_user',
  checks: {
    uid: 'the process runs as user.uid',
    gid: 'the process runs as user.gid',
    additionalGids: 'the supplementary groups hold every user.additionalGids entry',
    umask: 'user.umask is the umask',
  },
  async run(s) {
    const f = await s.runProbe((c) => {
      c.process.user = { uid: 1000, gid: 1000, additionalGids: [100, 5], umask: 0o027 };
    });
    s.equal('uid', [f.get('uid'), f.get('euid')], ['1000', '1000']);
    s.equal('gid', [f.get('gid'), f.get('egid')], ['1000', '1000']);
    const groups = (f.get('groups') ?? '').split(',');
    s.ok('additionalGids', ['100', '5'].every((g) => groups.includes(g)), `groups: ${f.get('groups')}`);
    s.equal('umask', f.get('umask'), '0027');
  },
});

export const hostname = scenario({
  section: 'config.md#hostname',
  name: 'hostname',
  checks: {
    hostname: 'hostname is the hostname of the container UTS namespace',
    domainname: 'domainname is its domain name (runtime-spec 1.2)',
  },
  async run(s) {
    await Promise.all([
      s.probe('hostname', (c) => (c.hostname = 'oci-host-check'), (f) => s.equal('hostname', f.get('hostname'), 'oci-host-check')),
      s.probe('domainname', (c) => (c.domainname = 'oci-domain.example'), (f) => s.equal('domainname', f.get('domainname'), 'oci-domain.example')),
    ]);
  },
});

export const process_scheduling = scenario({
  section: 'config.md#linux-process',
  name: 'process',
  checks: {
    scheduler: 'scheduler sets the policy and nice value (runtime-spec 1.2)',
    ioPriority: 'ioPriority sets the I/O class and level (runtime-spec 1.2)',
    execCPUAffinity: 'execCPUAffinity.final is the CPU affinity of the program (runtime-spec 1.2)',
  },
  async run(s) {
    await Promise.all([
      s.probe(
        'scheduler',
        (c) => (c.process.scheduler = { policy: 'SCHED_BATCH', nice: 5 }),
        (f) => {
          s.equal('scheduler', f.get('sched_policy'), '3', 'policy (SCHED_BATCH)');
          s.equal('scheduler', f.get('nice'), '5', 'nice');
        },
      ),
      s.probe('ioPriority', (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 }), (f) => s.equal('ioPriority', f.get('ioprio'), '2 6', 'class level')),
      s.probe('execCPUAffinity', (c) => (c.process.execCPUAffinity = { initial: '0', final: '1' }), (f) => s.equal('execCPUAffinity', f.get('cpus'), '1')),
    ]);
  },
});
