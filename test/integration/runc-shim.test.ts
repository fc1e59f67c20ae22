// tsrun as the runtime binary of containerd's own runc shim (io.containerd.runc.v2), which
// drives it through go-runc exactly as it drives runc: `ctr run --runc-binary <bin/tsrun>`.
// Every scenario runs once with tsrun and once with the real runc in the same containerd, and
// the answers (output, exit codes, events, ps, pause state, metrics, errors) are compared.
// Both runtimes keep their state in a directory of this test (--runc-root), not in
// /run/containerd/runc. One more case goes through containerd's config instead of ctr's flags:
// the v1 linux runtime's `runtime` option (containerd 1.6 reads no runc.v2 options from its
// config outside the CRI plugin).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Task } from '../../src/gen/containerd/task/v2/shim_pb.js';
import { Client } from '../../src/ttrpc/client.js';
import { TestBundle } from '../helpers/bundle.js';
import { tsrun } from '../helpers/cli.js';
import { leftoverCgroups } from '../helpers/leaks.js';
import { tsrunBin } from '../helpers/paths.js';
import { containerId, IMAGE, NAMESPACE, processesMatching, RUNC, shimContainerdForFile, type TaskEvent } from '../helpers/shim.js';

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-runcshim-'));
const V1_ROOT = path.join(stateDir, 'v1');
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

const shim = shimContainerdForFile({
  // bin/tsrun runs node (its server, or bin/tsrun.cjs cold) from PATH when not the one that built it.
  pathPrefix: [path.dirname(process.execPath)],
  extraConfig: ['[plugins."io.containerd.runtime.v1.linux"]', `  runtime = ${JSON.stringify(tsrunBin)}`, `  runtime_root = ${JSON.stringify(V1_ROOT)}`].join('\n'),
});

interface Runtime {
  name: 'tsrun' | 'runc';
  /** ctr run's flags that pick the binary and its --root */
  flags: string[];
  /** where the runtime's state for our namespace is */
  root: string;
}
const RUNTIMES: Runtime[] = (['tsrun', 'runc'] as const).map((name) => ({
  name,
  flags: ['--runc-binary', name === 'tsrun' ? tsrunBin : 'runc', '--runc-root', path.join(stateDir, name)],
  root: path.join(stateDir, name, NAMESPACE),
}));

/** Topics and the fields that must match between runtimes (pids differ). */
function shape(events: TaskEvent[]): string[] {
  return events.map((e) => {
    const p = e.payload;
    const extra = [p.exec_id ? `exec=${String(p.exec_id)}` : '', p.id && p.id !== p.container_id ? `id=${String(p.id)}` : '']
      .concat(e.topic === '/tasks/exit' || e.topic === '/tasks/delete' ? [`status=${String(p.exit_status ?? 0)}`] : [])
      .filter(Boolean);
    return [e.topic, ...extra].join(' ');
  });
}

function taskLine(id: string): string[] {
  return shim().ctr(['task', 'ls']).split('\n').find((l) => l.startsWith(`${id} `))?.trim().split(/\s+/) ?? [];
}

/** Nothing of the container is left: cgroups, the runtime's state. */
function expectGone(rt: Runtime, id: string): void {
  expect(leftoverCgroups(id)).toEqual([]);
  expect(readdirSync(rt.root).filter((n) => n === id)).toEqual([]);
}

async function removeTask(id: string, exits = 1): Promise<void> {
  await shim().waitEvent(id, '/tasks/exit', exits);
  shim().ctr(['task', 'delete', id]);
  shim().ctr(['container', 'rm', id]);
  await shim().waitEvent(id, '/tasks/delete');
}

describe('containerd 1.6 runc shim with tsrun as its runc binary, compared with runc', () => {
  it('runs a container: output, exit code and events', async () => {
    const results: { stdout: string; code: number | null; events: string[] }[] = [];
    for (const rt of RUNTIMES) {
      const id = containerId(`out-${rt.name}`);
      const r = await shim().run(RUNC, id, ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 3'], { flags: rt.flags });
      expect(r.stderr).toContain('to-stderr');
      await shim().waitEvent(id, '/tasks/delete');
      results.push({ stdout: r.stdout, code: r.code, events: shape(shim().events(id)) });
      expectGone(rt, id);
    }
    expect(results[0]).toEqual({ stdout: 'to-stdout\n', code: 3, events: ['/tasks/create', '/tasks/start', '/tasks/exit status=3', '/tasks/delete status=3'] });
    expect(results[0]).toEqual(results[1]);
  });

  it('gives ctr run -t a terminal through --console-socket', async () => {
    const outs: string[] = [];
    for (const rt of RUNTIMES) {
      const id = containerId(`tty-${rt.name}`);
      const r = await shim().run(RUNC, id, ['sh', '-c', 'tty; test -t 0 && test -t 1 && echo both-ttys; exit 4'], { flags: ['-t', ...rt.flags], tty: true });
      expect(r.code).toBe(4);
      outs.push(r.stdout.replace(/^\0/, ''));
      expectGone(rt, id);
    }
    expect(outs[0]).toContain('/dev/pts/0');
    expect(outs[0]).toContain('both-ttys');
    expect(outs[0]).toBe(outs[1]);
  });

  it('runs a detached task: exec, ps, pause and resume, update, metrics, kill --all, delete', async () => {
    const answers: Record<string, unknown>[] = [];
    for (const rt of RUNTIMES) {
      const a: Record<string, unknown> = {};
      const id = containerId(`det-${rt.name}`);
      expect((await shim().ctrRun(['run', '-d', ...rt.flags, '--runtime', RUNC, IMAGE, id, 'sleep', '1000'])).code).toBe(0);
      a.status = taskLine(id)[2];
      // The runtime's own state agrees with the shim: same pid, running.
      const pid = Number(taskLine(id)[1]);
      if (rt.name === 'tsrun') {
        const state = JSON.parse((await tsrun(rt.root, ['state', id])).stdout) as { status: string; pid: number };
        expect(state).toMatchObject({ status: 'running', pid });
      }

      const exec = await shim().ctrRun(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo from-exec; exit 5']);
      a.exec = [exec.stdout, exec.code];
      const killed = await shim().ctrRun(['task', 'exec', '--exec-id', 'e2', id, 'sh', '-c', 'kill -9 $$']);
      a.killed = killed.code;
      const tty = await shim().ctrRun(['task', 'exec', '-t', '--exec-id', 't1', id, 'sh', '-c', 'test -t 0 && echo tty; exit 6'], { tty: true });
      // (ctr may add a warning of its own when its resize comes after the exec has exited)
      a.tty = [/^\0?tty\r?$/m.test(tty.stdout), tty.code];

      const background = shim().ctrRun(['task', 'exec', '--exec-id', 'e3', id, 'sleep', '1000']);
      await shim().waitEvent(id, '/tasks/exec-started', 4);
      const ps = shim().ctr(['task', 'ps', id]).trim().split('\n').slice(1);
      a.ps = ps.map((row) => row.replace(/^\d+\s+/, '')).sort();
      expect(ps.map((row) => Number(row.split(/\s+/)[0]))).toContain(pid);

      shim().ctr(['task', 'pause', id]);
      a.paused = taskLine(id)[2];
      shim().ctr(['task', 'resume', id]);
      a.resumed = taskLine(id)[2];

      // ctr 1.6 has no task update: the call containerd's CRI makes, straight to the shim,
      // which hands the resources to `<runtime> update --resources -`.
      const address = readFileSync(path.join(shim().ctd.state, 'io.containerd.runtime.v2.task', NAMESPACE, id, 'address'), 'utf8');
      const client = new Client(address, { timeoutMs: 10_000 });
      try {
        const resources = { memory: { limit: 48 << 20 }, cpu: { shares: 512 }, pids: { limit: 40 } };
        await client.unary(Task.method.update, {
          id,
          resources: { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources', value: new TextEncoder().encode(JSON.stringify(resources)) },
        });
      } finally {
        client.destroy();
      }
      const cg = (ctrl: string, file: string): string => readFileSync(path.join('/sys/fs/cgroup', ctrl, NAMESPACE, id, file), 'utf8').trim();
      a.updated = [cg('memory', 'memory.limit_in_bytes'), cg('cpu', 'cpu.shares'), cg('pids', 'pids.max')];

      const metrics = shim().ctr(['task', 'metrics', id]);
      expect(metrics).toMatch(/^memory\.usage_in_bytes\s+[1-9]\d*\s*$/m);
      expect(metrics).toMatch(/^cpuacct\.usage\s+[1-9]\d*\s*$/m);
      a.metrics = metrics
        .split('\n')
        .slice(3)
        .filter(Boolean)
        .map((l) => (/^(pids\.|memory\.limit)/.test(l) ? l.trim().replace(/\s+/g, ' ') : l.split(/\s+/)[0]));

      shim().ctr(['task', 'kill', '--all', '-s', 'SIGKILL', id]);
      a.background = (await background).code;
      await shim().waitEvent(id, '/tasks/exit', 5);
      a.stopped = taskLine(id)[2];
      const again = await shim().ctrRun(['task', 'kill', '-s', 'SIGKILL', id]);
      a.killAgain = again.stderr.trim();
      await removeTask(id, 5);
      a.events = shape(shim().events(id));
      expectGone(rt, id);
      answers.push(a);
    }
    expect(answers[0]).toEqual({
      status: 'RUNNING',
      exec: ['from-exec\n', 5],
      killed: 137,
      tty: [true, 6],
      ps: [expect.stringContaining('ExecID:e3'), '-'],
      paused: 'PAUSED',
      resumed: 'RUNNING',
      updated: [String(48 << 20), '512', '40'],
      metrics: expect.arrayContaining(['memory.usage_in_bytes', `memory.limit_in_bytes ${48 << 20}`, 'cpuacct.usage', 'pids.current 2', 'pids.limit 40']),
      background: 137,
      stopped: 'STOPPED',
      killAgain: 'ctr: process already finished: not found',
      events: [
        '/tasks/create',
        '/tasks/start',
        '/tasks/exec-added exec=e1',
        '/tasks/exec-started exec=e1',
        '/tasks/exit id=e1 status=5',
        '/tasks/exec-added exec=e2',
        '/tasks/exec-started exec=e2',
        '/tasks/exit id=e2 status=137',
        '/tasks/exec-added exec=t1',
        '/tasks/exec-started exec=t1',
        '/tasks/exit id=t1 status=6',
        '/tasks/exec-added exec=e3',
        '/tasks/exec-started exec=e3',
        '/tasks/paused',
        '/tasks/resumed',
        '/tasks/exit id=e3 status=137',
        '/tasks/exit status=137',
        '/tasks/delete status=137',
      ],
    });
    expect(answers[0]).toEqual(answers[1]);
  });

  it("kills what is left of a container sharing another's pid namespace when its init exits (kill --all on a stopped container)", async () => {
    const answers: unknown[] = [];
    for (const rt of RUNTIMES) {
      const pod = containerId(`pidns-a-${rt.name}`);
      const member = containerId(`pidns-b-${rt.name}`);
      expect((await shim().ctrRun(['run', '-d', ...rt.flags, '--runtime', RUNC, IMAGE, pod, 'sleep', '1000'])).code).toBe(0);
      const podPid = taskLine(pod)[1] ?? '';
      // Not pid 1 of its namespace, so its child outlives it unless the shim kills the cgroup.
      const r = await shim().ctrRun(['run', ...rt.flags, '--runtime', RUNC, '--with-ns', `pid:/proc/${podPid}/ns/pid`, IMAGE, member, 'sh', '-c', 'sleep 1000 & echo started; exit 2']);
      // ctr run deletes the task it waited for; the container stays until removed.
      await shim().waitEvent(member, '/tasks/delete');
      shim().ctr(['container', 'rm', member]);
      const seen = shim().ctr(['task', 'exec', '--exec-id', 'ps', pod, 'ps', '-o', 'stat,args']).trim().split('\n').slice(1);
      // Dead children of the pod's sleep stay zombies (Z): only the pod's own sleep may live.
      answers.push([r.stdout, r.code, seen.filter((l) => !l.startsWith('Z') && l.includes('sleep 1000'))]);
      shim().ctr(['task', 'kill', '-s', 'SIGKILL', pod]);
      await removeTask(pod, 2);
      expectGone(rt, member);
      expectGone(rt, pod);
    }
    expect(answers[0]).toEqual(['started\n', 2, [expect.stringMatching(/^S\s+sleep 1000$/)]]);
    expect(answers[0]).toEqual(answers[1]);
  });

  it("shows tsrun's own error message (from its JSON log) when create or exec fails", async () => {
    const [ts, rc] = RUNTIMES as [Runtime, Runtime];
    // What tsrun itself says about the missing program, read from its --log as go-runc reads it.
    const bundle = new TestBundle('rs-missing', ['/no/such/prog']);
    const log = path.join(bundle.dir, 'log.json');
    let createMsg: string;
    try {
      const r = await tsrun(bundle.root, ['--log', log, '--log-format', 'json', 'create', '--bundle', bundle.dir, bundle.id]);
      expect(r.code).toBe(1);
      createMsg = (JSON.parse(readFileSync(log, 'utf8').trim().split('\n').at(-1) ?? '{}') as { msg: string }).msg;
    } finally {
      bundle.remove();
    }
    expect(createMsg).toContain('/no/such/prog');

    const failed = await shim().run(RUNC, containerId('missing-ts'), ['/no/such/prog'], { flags: ts.flags });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain(`OCI runtime create failed: ${createMsg}`);
    // runc fails it the same way, in its own words.
    const viaRunc = await shim().run(RUNC, containerId('missing-rc'), ['/no/such/prog'], { flags: rc.flags });
    expect(viaRunc.code).toBe(failed.code);
    expect(viaRunc.stderr).toContain('OCI runtime create failed: ');

    // --runc-systemd-cgroup makes go-runc pass --systemd-cgroup; the systemd driver is refused
    // by name (runc refuses it too on these hosts, which run no systemd).
    const sd = containerId('systemd-ts');
    const systemd = await shim().run(RUNC, sd, ['true'], { flags: [...ts.flags, '--runc-systemd-cgroup', '--cgroup', `tsrun-test.slice:tsrun:${sd}`] });
    expect(systemd.code).not.toBe(0);
    expect(systemd.stderr).toContain('OCI runtime create failed: --systemd-cgroup: ');

    const id = containerId('execfail-ts');
    expect((await shim().ctrRun(['run', '-d', ...ts.flags, '--runtime', RUNC, IMAGE, id, 'sleep', '1000'])).code).toBe(0);
    // The same exec through tsrun by hand, on the state the shim's tsrun keeps.
    const direct = path.join(stateDir, 'exec-log.json');
    writeFileSync(direct, '');
    expect((await tsrun(ts.root, ['--log', direct, '--log-format', 'json', 'exec', id, '/no/such/prog'])).code).toBe(255);
    const execMsg = (JSON.parse(readFileSync(direct, 'utf8').trim().split('\n').at(-1) ?? '{}') as { msg: string }).msg;
    expect(execMsg).toContain('/no/such/prog');
    const exec = await shim().ctrRun(['task', 'exec', '--exec-id', 'bad', id, '/no/such/prog']);
    expect(exec.code).not.toBe(0);
    expect(exec.stderr).toContain(`OCI runtime exec failed: ${execMsg}`);

    // No CRIU: checkpoint is refused in tsrun's words.
    const cp = await shim().ctrRun(['task', 'checkpoint', id]);
    expect(cp.code).not.toBe(0);
    expect(cp.stderr).toContain('checkpoint: not supported: tsrun has no CRIU checkpoint/restore');
    expect(taskLine(id)[2]).toBe('RUNNING');

    shim().ctr(['task', 'kill', '-s', 'SIGKILL', id]);
    await removeTask(id);
    expectGone(ts, id);
  });

  it("runs through containerd's config too: the v1 linux runtime's `runtime` is tsrun", async () => {
    const id = containerId('v1');
    const r = await shim().ctrRun(['run', '--rm', '--runtime', 'io.containerd.runtime.v1.linux', IMAGE, id, 'sh', '-c', 'echo via-config; exit 7']);
    expect(r.stdout).toBe('via-config\n');
    expect(r.code).toBe(7);
    expect(leftoverCgroups(id)).toEqual([]);
    expect(readdirSync(path.join(V1_ROOT, NAMESPACE))).toEqual([]);
  });

  it('leaves no runc shim of this containerd behind', async () => {
    await shim().removeAll();
    const deadline = Date.now() + 10_000;
    const shims = (): number[] => [...processesMatching('containerd-shim-runc-v2', shim().ctd.address), ...processesMatching('containerd-shim ', shim().ctd.address)];
    while (shims().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(shims()).toEqual([]);
  });
});
