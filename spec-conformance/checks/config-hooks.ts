// config.md#posix-platform-hooks and runtime.md#lifecycle: each hook kind runs at its
// moment, in its namespaces, in the listed order, with the state on its stdin; a failing
// hook fails its step (or, after start, only warns). Hooks are shell scripts writing into a
// directory bound into the container at /hooklog, so that hooks on either side of
// pivot_root write to the same files.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TEST_PARENT } from '../lib/cgroups.js';
import { probeArgs, type Config } from '../lib/config.js';
import { Facts } from '../lib/facts.js';
import { describeCall } from '../lib/runtime.js';
import type { Bundle } from '../lib/bundle.js';
import { sleep, until } from '../lib/poll.js';
import { scenario, type Scenario } from '../lib/scenario.js';

const KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
type Kind = (typeof KINDS)[number];
/** Kinds whose path resolves, and which run, in the container namespace */
const IN_CONTAINER: Kind[] = ['startContainer'];
const HOOK_PATH = 'PATH=/usr/sbin:/usr/bin:/sbin:/bin';

const SCRIPT = `# written by the OCI conformance suite: records what a hook sees
kind=$1; n=$2; dir=$(dirname "$0")
echo "$kind-$n" >> "$dir/order"
[ "$n" = 1 ] || exit 0
cat > "$dir/$kind.state"
out="$dir/$kind.facts.tmp"
: > "$out"
for t in cgroup ipc mnt net pid uts; do echo "ns $t $(readlink /proc/self/ns/$t)" >> "$out"; done
echo "hostname $(cat /proc/sys/kernel/hostname)" >> "$out"
echo "cwd $(pwd)" >> "$out"
if [ -e /usr/local/bin/oci-probe ]; then echo "rootfs-visible yes" >> "$out"; else echo "rootfs-visible no" >> "$out"; fi
pid=$(sed -n 's/.*"pid": *\\([0-9][0-9]*\\).*/\\1/p' "$dir/$kind.state")
if [ -n "$pid" ] && [ -e "/proc/$pid/ns" ]; then
  echo "pidroot $(readlink /proc/$pid/root)" >> "$out"
  for t in mnt net uts; do echo "pidns $t $(readlink /proc/$pid/ns/$t)" >> "$out"; done
  echo "pidcmdline $(tr '\\0' ' ' < /proc/$pid/cmdline)" >> "$out"
  echo "pidmarks $(grep -c hookmark /proc/$pid/mountinfo)" >> "$out"
fi
if [ -d "$CGDIR" ]; then echo "cgroup present" >> "$out"; else echo "cgroup absent" >> "$out"; fi
mv "$out" "$dir/$kind.facts"
`;

function hookDir(s: Scenario): string {
  const dir = path.join(s.work, 'hooks');
  mkdirSync(dir, { mode: 0o777 });
  chmodSync(dir, 0o777);
  writeFileSync(path.join(dir, 'hook.sh'), SCRIPT, { mode: 0o755 });
  return dir;
}

function cgroupDirFor(s: Scenario, id: string): string {
  const root = s.host.controllerRoot('pids') ?? s.host.hierarchies.find((h) => h.version === 2) ?? s.host.hierarchies[0];
  return path.join(root?.mountpoint ?? '/sys/fs/cgroup', TEST_PARENT, id);
}

/** A shell only the container has (busybox under a name the host lacks): a startContainer
 * hook using it proves that its path was resolved in the container. */
const CONTAINER_SH = '/oci-hook-sh';

function hook(dir: string, kind: Kind, n: number, env: string[]): Record<string, unknown> {
  const inside = IN_CONTAINER.includes(kind);
  return { path: inside ? CONTAINER_SH : '/bin/sh', args: ['sh', inside ? '/hooklog/hook.sh' : path.join(dir, 'hook.sh'), kind, String(n)], env };
}

function addContainerShell(rootfs: string): void {
  copyFileSync(path.join(rootfs, 'bin', 'busybox'), path.join(rootfs, CONTAINER_SH));
  chmodSync(path.join(rootfs, CONTAINER_SH), 0o755);
}

function addHookDir(c: Config, dir: string): void {
  c.mounts.push({ destination: '/hooklog', type: 'bind', source: dir, options: ['rbind', 'rw'] });
}

function read(dir: string, file: string): string {
  const p = path.join(dir, file);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

export const hooks = scenario({
  section: 'config.md#posix-platform-hooks',
  name: 'hooks',
  checks: {
    'order-listed': 'the hooks of each kind run in the listed order',
    'order-lifecycle': 'the kinds run in lifecycle order: prestart, createRuntime, createContainer, startContainer, poststart, poststop',
    'prestart-namespace': 'prestart hooks run in the runtime namespace',
    'createRuntime-namespace': 'createRuntime hooks run in the runtime namespace',
    'createRuntime-moment': 'createRuntime hooks run after the namespaces and mounts are made, before pivot_root',
    'createContainer-namespace': 'createContainer hooks run in the container namespace',
    'createContainer-moment': 'createContainer hooks run before pivot_root (the runtime root is still visible)',
    'startContainer-namespace': 'startContainer hooks run in the container namespace, their path resolved there (a shell only the container has)',
    'startContainer-moment': 'startContainer hooks run as part of start, not create',
    'poststart-namespace': 'poststart hooks run in the runtime namespace',
    'poststart-moment': 'poststart hooks run after the program is executed and before start returns',
    'poststop-namespace': 'poststop hooks run in the runtime namespace',
    'poststop-moment': 'poststop hooks run after the container is deleted (its cgroup is gone) and before delete returns',
    // Not in the spec; what runc does and hooks written for it rely on (a relative path).
    'runtime-cwd': 'prestart, createRuntime and poststart hooks run in the bundle directory, as runc\'s create and run work from it',
    'createContainer-cwd': 'createContainer hooks run in the container\'s rootfs (as runc: `touch ./etc/x` writes into it)',
    'startContainer-cwd': 'startContainer hooks run in process.cwd inside the container, as runc',
  },
  async run(s) {
    const dir = hookDir(s);
    const b = await s.bundle((c, bd) => {
      const env = [HOOK_PATH, `CGDIR=${cgroupDirFor(s, bd.id)}`];
      addHookDir(c, dir);
      addContainerShell(bd.rootfs);
      c.mounts.push({ destination: '/hookmark', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
      c.hooks = Object.fromEntries(KINDS.map((k) => [k, [hook(dir, k, 1, env), hook(dir, k, 2, env)]]));
      c.process.args = probeArgs(['echo', 'program'], ['sleep', '30']);
    });
    const c = s.container(b);
    await c.createOk();
    const pid = await c.pid();
    const containerNs = Object.fromEntries(['mnt', 'net', 'uts'].map((t) => [t, readlinkSync(`/proc/${pid}/ns/${t}`)]));
    const afterCreate = read(dir, 'order');
    s.ok('startContainer-moment', !afterCreate.includes('startContainer'), `startContainer ran during create: ${afterCreate}`);
    await c.startOk();
    s.ok('poststart-moment', existsSync(path.join(dir, 'poststart.facts')), 'no poststart hook had finished when start returned');
    await c.kill('KILL');
    await c.waitStopped();
    await c.deleteOk();
    s.ok('poststop-moment', existsSync(path.join(dir, 'poststop.facts')), 'no poststop hook had finished when delete returned');

    const order = read(dir, 'order').split('\n').filter(Boolean);
    for (const k of KINDS) {
      const i1 = order.indexOf(`${k}-1`);
      const i2 = order.indexOf(`${k}-2`);
      s.ok('order-listed', i1 >= 0 && i2 > i1, `${k}: ${i1 < 0 ? 'first hook did not run' : i2 < 0 ? 'second hook did not run' : 'second ran before first'}`);
    }
    const firsts = KINDS.map((k) => order.indexOf(`${k}-1`));
    s.ok('order-lifecycle', firsts.every((x, i) => x >= 0 && (i === 0 || x > (firsts[i - 1] as number))), `hooks ran in this order: ${order.join(', ')}`);

    // Runtime namespace: the host's network, uts, ipc and pid namespaces, and not the
    // container's mount namespace (a runtime may run in a mount namespace of its own).
    const host = s.host.selfNs;
    const facts = (k: Kind): Facts => new Facts(read(dir, `${k}.facts`));
    for (const k of ['prestart', 'createRuntime', 'poststart', 'poststop'] as const) {
      const f = facts(k);
      if (!f.lines.length) {
        s.ok(`${k}-namespace`, false, `no ${k} hook ran`);
        continue;
      }
      for (const t of ['net', 'uts', 'ipc', 'pid'] as const) s.equal(`${k}-namespace`, f.ns(t), host.get(t), `${t} namespace`);
      // (by poststop the container's mount namespace is gone and its number may be reused)
      if (k !== 'poststop') s.ok(`${k}-namespace`, f.ns('mnt') !== containerNs.mnt, `the hook ran in the container's mount namespace ${containerNs.mnt}`);
    }
    for (const k of ['createContainer', 'startContainer'] as const) {
      const f = facts(k);
      if (!f.lines.length) {
        s.ok(`${k}-namespace`, false, `no ${k} hook ran`);
        continue;
      }
      for (const t of ['mnt', 'net', 'uts'] as const) s.equal(`${k}-namespace`, f.ns(t), containerNs[t], `${t} namespace`);
    }
    const cr = facts('createRuntime');
    s.equal('createRuntime-moment', cr.get('pidroot'), '/', 'root of the container process (pivot_root not done yet)');
    s.equal('createRuntime-moment', cr.get('pidns mnt'), containerNs.mnt, 'mount namespace of the container process (not made yet?)');
    s.ok('createRuntime-moment', Number(cr.get('pidmarks') ?? 0) >= 1, 'the /hookmark tmpfs was not mounted yet');
    s.equal('createContainer-moment', facts('createContainer').get('rootfs-visible'), 'no', 'the container rootfs is already /');
    s.equal('startContainer-namespace', facts('startContainer').get('rootfs-visible'), 'yes', 'the container rootfs is /');
    const ps = facts('poststart');
    s.ok('poststart-moment', (ps.get('pidcmdline') ?? '').includes('oci-probe echo program'), `the container process was running ${JSON.stringify(ps.get('pidcmdline'))}`);
    s.equal('poststop-moment', facts('poststop').get('cgroup'), 'absent', "the container's cgroup");
    for (const k of ['prestart', 'createRuntime', 'poststart'] as const) s.equal('runtime-cwd', facts(k).get('cwd'), b.dir, `${k} hook's cwd`);
    s.equal('createContainer-cwd', facts('createContainer').get('cwd'), b.rootfs, "createContainer hook's cwd");
    s.equal('startContainer-cwd', facts('startContainer').get('cwd'), b.config.process.cwd, "startContainer hook's cwd");
  },
});

export const hooks_stdin = scenario({
  section: 'config.md#posix-platform-hooks',
  name: 'hooks_stdin',
  checks: {
    prestart: 'prestart hooks get the state on stdin: id, bundle, pid, annotations, status "created"',
    createRuntime: 'createRuntime hooks get the state: status "created", the pid as the runtime sees it',
    // runtime.md defines the state's pid as seen by the host, for every state document; runc
    // passes the pid from inside the container's pid namespace here (listed in the README).
    createContainer: 'createContainer hooks get the state: status "created", the pid as the host sees it',
    startContainer: 'startContainer hooks get the state: status "created", the pid as the host sees it',
    poststart: 'poststart hooks get the state: status "running"',
    poststop: 'poststop hooks get the state: status "stopped"',
  },
  async run(s) {
    const dir = hookDir(s);
    const annotations = { 'org.example.oci-conformance.hooks': 'hook stdin test' };
    const b = await s.bundle((c, bd) => {
      const env = [HOOK_PATH, `CGDIR=${cgroupDirFor(s, bd.id)}`];
      addHookDir(c, dir);
      addContainerShell(bd.rootfs);
      c.annotations = annotations;
      c.hooks = Object.fromEntries(KINDS.map((k) => [k, [{ ...hook(dir, k, 1, env), timeout: 10 }]]));
      c.process.args = probeArgs(['sleep', '30']);
    });
    const c = s.container(b);
    await c.createOk();
    const pid = await c.pid();
    await c.startOk();
    await c.kill('KILL');
    await c.waitStopped();
    await c.deleteOk();
    const expect: Record<Kind, { status: string; pid?: number }> = {
      prestart: { status: 'created', pid },
      createRuntime: { status: 'created', pid },
      createContainer: { status: 'created', pid },
      startContainer: { status: 'created', pid },
      poststart: { status: 'running', pid },
      poststop: { status: 'stopped' },
    };
    for (const k of KINDS) {
      const text = read(dir, `${k}.state`);
      let st: Record<string, unknown>;
      try {
        st = JSON.parse(text) as Record<string, unknown>;
      } catch {
        s.ok(k, false, text ? `stdin was not JSON: ${text}` : `no ${k} hook ran, or its stdin was empty`);
        continue;
      }
      s.equal(k, st.id, c.id, 'id');
      s.equal(k, st.bundle, b.dir, 'bundle');
      s.equal(k, st.annotations, annotations, 'annotations');
      s.equal(k, st.status, expect[k].status, 'status');
      if (expect[k].pid !== undefined) s.equal(k, st.pid, expect[k].pid, 'pid');
    }
  },
});

export const hooks_env = scenario({
  section: 'config.md#posix-platform-hooks',
  name: 'hooks',
  checks: {
    'args-env': "a hook's argv is its args and its environment exactly its env",
    timeout: 'a hook still running after its timeout is stopped and fails its step',
    'timeout-zero': 'timeout 0 generates an error (it MUST be greater than zero)',
    'path-relative': 'a relative hook path generates an error (path MUST be absolute)',
  },
  async run(s) {
    const out = path.join(s.work, 'hook-report');
    const b = await s.bundle((c) => {
      c.hooks = { createRuntime: [{ path: s.env.probe, args: ['oci-hook-argv0', 'out', out, '--', 'report'], env: ['OCI_HOOK=yes', 'PATH=/oci/nowhere'] }] };
      c.process.args = probeArgs(['exit', '0']);
    });
    const c = s.container(b);
    const made = await c.create();
    if (made.code !== 0) s.ok('args-env', false, describeCall(made));
    else {
      const f = new Facts(existsSync(out) ? readFileSync(out, 'utf8') : '');
      const argv = f.all('argv').map((l) => l.slice(l.indexOf(' ') + 1));
      s.equal('args-env', argv, ['oci-hook-argv0', 'out', out, '--', 'report'], 'argv');
      s.equal('args-env', [...f.env().entries()].sort(), [
        ['OCI_HOOK', 'yes'],
        ['PATH', '/oci/nowhere'],
      ]);
    }

    const valid = (): Promise<Bundle> => s.bundle((cfg) => (cfg.hooks = { createRuntime: [{ path: '/bin/true', timeout: 5 }] }));
    const slow = await s.bundle((cfg) => (cfg.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'exec sleep 30'], timeout: 1 }] }));
    const started = Date.now();
    const r = await s.expectError('timeout', slow, 'createRuntime hook "exec sleep 30" with timeout 1', undefined, await valid());
    const took = Date.now() - started;
    // A runtime that waits for the hook fails only once its 30 s sleep ends; anything well
    // before that stopped the hook, however slow a loaded machine makes create.
    s.ok('timeout', r === undefined || took < 25_000, `the failure came after ${took} ms`);

    await Promise.all([
      s.bundle((cfg) => (cfg.hooks = { createRuntime: [{ path: '/bin/true', timeout: 0 }] })).then(async (x) => s.expectError('timeout-zero', x, 'timeout 0', undefined, await valid())),
      s.bundle((cfg) => (cfg.hooks = { createRuntime: [{ path: 'bin/true' }] })).then(async (x) => s.expectError('path-relative', x, 'path "bin/true"', undefined, await valid())),
    ]);
  },
});

/** A failing hook of one kind before the program runs: the step fails and the container is destroyed. */
function failBefore(kind: 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer'): ReturnType<typeof scenario> {
  return scenario({
    section: 'runtime.md#lifecycle',
    name: `${kind}_fail`,
    checks: {
      error: `a failing ${kind} hook makes ${kind === 'startContainer' ? 'start' : 'create (or start)'} generate an error (after the ${kind} hook listed before it ran)`,
      'not-run': 'the program is not run',
      destroyed: 'the container is destroyed (state then generates an error)',
      poststop: 'the poststop hooks run (the lifecycle continues at delete)',
    },
    async run(s) {
      const dir = hookDir(s);
      const b = await s.bundle((c, bd) => {
        addHookDir(c, dir);
        addContainerShell(bd.rootfs);
        const fail = kind === 'startContainer' ? { path: '/bin/false' } : { path: '/bin/false', args: ['false'] };
        // A hook that succeeds first: proves the runtime runs this kind at all, so that the
        // error seen is the failing hook's and not a refusal of hooks.
        const first =
          kind === 'startContainer'
            ? { path: CONTAINER_SH, args: ['sh', '-c', 'echo ran >> /hooklog/first-ran'] }
            : { path: '/bin/sh', args: ['sh', '-c', `echo ran >> ${path.join(dir, 'first-ran')}`] };
        c.hooks = {
          [kind]: [first, fail],
          poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo ran >> ${path.join(dir, 'poststop-ran')}`] }],
        };
        c.process.args = probeArgs(['touch', '/program-ran']);
      });
      const c = s.container(b);
      const created = await c.create();
      let failedAt = created.code !== 0 ? created : undefined;
      if (!failedAt) {
        const started = await c.start();
        if (started.code !== 0) failedAt = started;
      }
      s.ok('error', failedAt !== undefined, 'create and start both succeeded');
      s.ok('error', existsSync(path.join(dir, 'first-ran')), `the ${kind} hook before the failing one did not run${failedAt ? `: ${describeCall(failedAt)}` : ''}`);
      await sleep(300);
      s.ok('not-run', !existsSync(b.inRootfs('program-ran')), 'the program ran');
      const gone = await until(async () => (await c.state()) === undefined, 3000);
      s.ok('destroyed', gone, `state still reports ${JSON.stringify(await c.state())}`);
      s.ok('poststop', existsSync(path.join(dir, 'poststop-ran')), 'no poststop hook ran');
    },
  });
}

export const prestart_fail = failBefore('prestart');
export const createRuntime_fail = failBefore('createRuntime');
export const createContainer_fail = failBefore('createContainer');
export const startContainer_fail = failBefore('startContainer');

export const poststart_fail = scenario({
  section: 'runtime.md#lifecycle',
  name: 'poststart_fail',
  checks: {
    warn: 'a failing poststart hook does not fail start (it only warns)',
    remaining: 'the remaining poststart hooks run',
    lifecycle: 'the container goes on as if the hook had succeeded',
  },
  async run(s) {
    const dir = hookDir(s);
    const b = await s.bundle((c) => {
      c.hooks = { poststart: [{ path: '/bin/false', args: ['false'] }, { path: '/bin/sh', args: ['sh', '-c', `echo ran >> ${path.join(dir, 'second')}`] }] };
      c.process.args = probeArgs(['sleep', '1'], ['echo', 'finished']);
    });
    const c = s.container(b);
    await c.createOk();
    s.succeeded('warn', await c.start(), 'start with a failing poststart hook');
    s.ok('remaining', existsSync(path.join(dir, 'second')), 'the second poststart hook did not run');
    await c.waitFor(['stopped'], 10_000);
    s.ok('lifecycle', c.output().has('echo finished'), `the program did not run to its end: ${c.output().text}`);
  },
});

export const poststop_fail = scenario({
  section: 'runtime.md#lifecycle',
  name: 'poststop_fail',
  checks: {
    warn: 'a failing poststop hook does not fail delete (it only warns)',
    remaining: 'the remaining poststop hooks run',
    deleted: 'the container is deleted',
  },
  async run(s) {
    const dir = hookDir(s);
    const b = await s.bundle((c) => {
      c.hooks = { poststop: [{ path: '/bin/false', args: ['false'] }, { path: '/bin/sh', args: ['sh', '-c', `echo ran >> ${path.join(dir, 'second')}`] }] };
      c.process.args = probeArgs(['exit', '0']);
    });
    const c = s.container(b);
    await c.createOk();
    await c.startOk();
    await c.waitStopped();
    s.succeeded('warn', await c.delete(), 'delete with a failing poststop hook');
    s.ok('remaining', existsSync(path.join(dir, 'second')), 'the second poststop hook did not run');
    s.ok('deleted', (await c.state()) === undefined, 'state still reports the container');
  },
});
