// runtime.md#operations: create, start, kill and delete, each given what it must refuse
// and what it must do. Named after runtime-tools' validation programs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { allCgroupDirs, removeCgroupDirs, TEST_PARENT } from '../lib/cgroups.js';
import { probeArgs } from '../lib/config.js';
import { describeCall } from '../lib/runtime.js';
import { mountsUnder, processLives } from '../lib/host.js';
import { sleep, until } from '../lib/poll.js';
import { scenario } from '../lib/scenario.js';

export const create = scenario({
  section: 'runtime.md#create',
  name: 'create',
  checks: {
    'no-id': 'create without a container ID generates an error',
    'no-config': 'create of a directory that holds no config.json generates an error',
    new: 'create makes a new container that state reports',
    'not-run': 'the program is not run by create',
    unique: 'create with the ID of an existing container generates an error',
    'unique-no-effect': 'and leaves the existing container as it was',
    'invalid-id': 'create with an ID that is not valid ("a/b") generates an error',
  },
  async run(s) {
    const b = await s.bundle((c) => (c.process.args = probeArgs(['touch', '/ran'])));
    const noId = await s.rt.create(undefined, b.dir, { stdoutFile: b.file('noid.out'), stderrFile: b.file('noid.err') });
    s.failed('no-id', noId, 'create with no ID');

    const empty = path.join(s.work, 'empty-bundle');
    mkdirSync(empty);
    const e = s.container(b, s.newId('noconfig'));
    const noConfig = await s.rt.create(e.id, empty, { stdoutFile: b.file('nc.out'), stderrFile: b.file('nc.err') });
    e.created = true;
    s.failed('no-config', noConfig, 'create of a bundle without config.json');

    const c = s.container(b);
    const made = await c.create();
    s.succeeded('new', made, 'create');
    const st = await c.state();
    s.ok('new', st?.id === c.id && st?.status === 'created', `state after create: ${JSON.stringify(st)}`);
    await sleep(200);
    s.ok('not-run', !existsSync(b.inRootfs('ran')), 'the program ran (it created /ran) before start');

    const dup = s.container(b);
    const again = await s.rt.create(dup.id, b.dir, { stdoutFile: b.file('dup.out'), stderrFile: b.file('dup.err') });
    s.failed('unique', again, 'second create with the same ID');
    const after = await c.state();
    s.ok('unique-no-effect', after?.status === 'created' && after.pid === st?.pid, `before: ${JSON.stringify(st)}, after: ${JSON.stringify(after)}`);

    const bad = await s.rt.create(`${s.newId('bad')}/x`, b.dir, { stdoutFile: b.file('bad.out'), stderrFile: b.file('bad.err') });
    s.failed('invalid-id', bad, 'create with ID "a/b"');
  },
});

export const start = scenario({
  section: 'runtime.md#start',
  name: 'start',
  checks: {
    'no-id': 'start without a container ID generates an error',
    'not-exist': 'start of a container that does not exist generates an error',
    runs: 'start runs the program given in process',
    'status-running': 'status is "running" once start returned',
    'running-error': 'start of a running container generates an error',
    'running-no-effect': 'and has no effect on it',
    'stopped-error': 'start of a stopped container generates an error',
    'stopped-no-effect': 'and does not run the program again',
  },
  async run(s) {
    s.failed('no-id', await s.rt.start(undefined), 'start with no ID');
    s.failed('not-exist', await s.rt.start(s.newId('nope')), 'start of an unknown ID');

    const b = await s.bundle((c) => (c.process.args = probeArgs(['echo', 'ran'], ['sleep', '30'])));
    const c = s.container(b);
    await c.createOk();
    s.succeeded('runs', await c.start(), 'start');
    const st = await c.state();
    s.equal('status-running', st?.status, 'running');
    s.ok('runs', await until(() => c.output().has('echo ran'), 5000), 'the program printed nothing');

    const again = await c.start();
    s.failed('running-error', again, 'start of a running container');
    const st2 = await c.state();
    s.ok('running-no-effect', st2?.status === 'running' && st2.pid === st?.pid, `before: ${JSON.stringify(st)}, after: ${JSON.stringify(st2)}`);

    await c.kill('KILL');
    await c.waitStopped();
    s.failed('stopped-error', await c.start(), 'start of a stopped container');
    await sleep(300);
    const runs = c.output().lines.filter((l) => l === 'echo ran').length;
    s.equal('stopped-no-effect', runs, 1, 'times the program ran');
    s.equal('stopped-no-effect', (await c.state())?.status, 'stopped', 'status');
  },
});

export const process_unset = scenario({
  section: 'config.md#process',
  name: 'start',
  checks: {
    'no-process': 'a config without process generates an error at create or start (process is REQUIRED when start is called)',
  },
  async run(s) {
    const b = await s.bundle((c) => delete c.process);
    await s.expectError('no-process', b, 'config without process');
  },
});

export const kill = scenario({
  section: 'runtime.md#kill',
  name: 'kill',
  checks: {
    'no-id': 'kill without a container ID generates an error',
    'not-exist': 'kill of a container that does not exist generates an error',
    created: 'kill KILL of a created container succeeds and it stops',
    running: 'kill KILL of a running container succeeds and it stops',
    'stopped-error': 'kill of a stopped container generates an error',
  },
  async run(s) {
    s.failed('no-id', await s.rt.kill(undefined, 'KILL'), 'kill with no ID');
    s.failed('not-exist', await s.rt.kill(s.newId('nope'), 'KILL'), 'kill of an unknown ID');

    const b = await s.bundle((c) => (c.process.args = probeArgs(['sleep', '30'])));
    const created = s.container(b);
    await created.createOk();
    s.succeeded('created', await created.kill('KILL'), 'kill of a created container');
    s.equal('created', (await created.waitFor(['stopped'], 5000))?.status, 'stopped', 'status after kill');

    const running = s.container(b, s.newId('running'));
    await running.createOk();
    await running.startOk();
    s.succeeded('running', await running.kill('KILL'), 'kill of a running container');
    s.equal('running', (await running.waitFor(['stopped'], 5000))?.status, 'stopped', 'status after kill');

    s.failed('stopped-error', await running.kill('KILL'), 'kill of a stopped container');
  },
});

export const kill_no_effect = scenario({
  section: 'runtime.md#kill',
  name: 'kill_no_effect',
  checks: {
    'stopped-no-effect': 'kill of a stopped container leaves its state as it was',
  },
  async run(s) {
    const b = await s.bundle((c) => (c.process.args = probeArgs(['exit', '0'])));
    const c = s.container(b);
    await c.createOk();
    await c.startOk();
    await c.waitStopped();
    const before = await c.stateOk();
    await c.kill('KILL');
    const after = await c.state();
    s.equal('stopped-no-effect', after, before);
  },
});

export const killsig = scenario({
  section: 'runtime.md#kill',
  name: 'killsig',
  checks: {
    TERM: 'kill TERM delivers SIGTERM to the container process',
    USR1: 'kill USR1 delivers SIGUSR1',
    USR2: 'kill USR2 delivers SIGUSR2',
  },
  async run(s) {
    await Promise.all(
      (['TERM', 'USR1', 'USR2'] as const).map(async (sig) => {
        const b = await s.bundle((c) => {
          c.process.args = ['/bin/sh', '-c', `trap 'touch /got-${sig}; exit 0' ${sig}; touch /ready; while :; do sleep 0.1; done`];
        });
        const c = s.container(b);
        await c.createOk();
        await c.startOk();
        if (!(await until(() => existsSync(b.inRootfs('ready')), 5000))) {
          s.ok(sig, false, 'the shell never installed its trap');
          return;
        }
        s.succeeded(sig, await c.kill(sig), `kill ${sig}`);
        await c.waitFor(['stopped'], 5000);
        s.ok(sig, existsSync(b.inRootfs(`got-${sig}`)), `the trap for ${sig} did not run`);
      }),
    );
  },
});

export const del = scenario({
  section: 'runtime.md#delete',
  name: 'delete',
  checks: {
    'no-id': 'delete without a container ID generates an error',
    'not-exist': 'delete of a container that does not exist generates an error',
    'running-error': 'delete of a running container generates an error',
    'running-no-effect': 'and has no effect on it',
    stopped: 'delete of a stopped container removes it: state then generates an error',
    reuse: 'its ID may be used again by a new container',
    created:
      "delete of a created container removes it without --force (runc's behaviour, which containerd relies on, kept over the spec's \"not stopped\" error: see README)",
  },
  async run(s) {
    s.failed('no-id', await s.rt.delete(undefined), 'delete with no ID');
    s.failed('not-exist', await s.rt.delete(s.newId('nope')), 'delete of an unknown ID');

    const b = await s.bundle((c) => (c.process.args = probeArgs(['sleep', '30'])));
    const c = s.container(b);
    await c.createOk();
    await c.startOk();
    const before = await c.stateOk();
    s.failed('running-error', await c.delete(), 'delete of a running container');
    const after = await c.state();
    s.ok('running-no-effect', after?.status === 'running' && after.pid === before.pid, `before: ${JSON.stringify(before)}, after: ${JSON.stringify(after)}`);
    s.ok('running-no-effect', typeof before.pid === 'number' && existsSync(`/proc/${before.pid}`), 'the container process is gone');

    await c.kill('KILL');
    await c.waitStopped();
    s.succeeded('stopped', await c.delete(), 'delete of a stopped container');
    s.failed('stopped', (await s.rt.state(c.id)).result, 'state after delete');

    const again = s.container(b, c.id);
    s.succeeded('reuse', await again.create(), 'create with the ID of a deleted container');

    s.succeeded('created', await again.delete(), 'delete of a created container');
    s.ok('created', (await again.state()) === undefined, 'the container still exists');
  },
});

export const delete_resources = scenario({
  section: 'runtime.md#delete',
  name: 'delete_resources',
  checks: {
    cgroups: 'delete removes the cgroups create made, in every hierarchy',
    processes: 'no process of the container outlives delete',
    mounts: 'no mount of the container is left on the host',
  },
  async run(s) {
    const b = await s.bundle((c) => (c.process.args = probeArgs(['sleep', '30'])));
    const c = s.container(b);
    await c.createOk();
    const pid = await c.pid();
    const dirs = allCgroupDirs(s.host, pid).filter((d) => d.includes(c.id));
    s.ok('cgroups', dirs.length > 0, `no cgroup of the container found from /proc/${pid}/cgroup`);
    await c.startOk();
    await c.kill('KILL');
    await c.waitStopped();
    await c.deleteOk();
    const left = dirs.filter((d) => existsSync(d));
    s.ok('cgroups', left.length === 0, `left: ${left.join(' ')}`);
    s.ok('processes', !processLives(pid), `pid ${pid} still lives`);
    s.equal('mounts', mountsUnder(b.dir), []);
  },
});

export const delete_only_create_resources = scenario({
  section: 'runtime.md#delete',
  name: 'delete_only_create_resources',
  checks: {
    'foreign-cgroup': 'a cgroup the container was moved into, but did not create, survives delete',
  },
  async run(s) {
    const root = s.need(s.host.controllerRoot('pids') ?? s.host.hierarchies.find((h) => h.version === 2), 'a pids or cgroup2 hierarchy');
    const foreign = path.join(root.mountpoint, TEST_PARENT, s.newId('foreign'));
    mkdirSync(foreign, { recursive: true });
    s.defer(() => void removeCgroupDirs([foreign]));
    const b = await s.bundle((c) => (c.process.args = probeArgs(['exit', '0'])));
    const c = s.container(b);
    await c.createOk();
    writeFileSync(path.join(foreign, 'cgroup.procs'), String(await c.pid()));
    await c.startOk();
    await c.waitStopped();
    const del = await c.delete();
    s.ok('foreign-cgroup', existsSync(foreign), `the foreign cgroup ${foreign} was removed (${describeCall(del)})`);
  },
});

export const pidfile = scenario({
  section: 'runtime.md#create',
  name: 'pidfile',
  checks: {
    pidfile: "create --pid-file writes the container process's pid, the one state reports",
  },
  async run(s) {
    const b = await s.bundle((c) => (c.process.args = probeArgs(['exit', '0'])));
    const c = s.container(b);
    const file = b.file('pidfile');
    await c.createOk({ pidFile: file });
    const st = await c.stateOk();
    const written = existsSync(file) ? readFileSync(file, 'utf8').trim() : '(missing)';
    s.equal('pidfile', written, String(st.pid));
  },
});
