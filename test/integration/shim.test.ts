// containerd-shim-ts-v2 driven by a private containerd 1.6 through ctr, each behaviour
// checked against containerd's own io.containerd.runc.v2 in the same run: output and exit
// codes, stdin, detached tasks with exec, ps, pause/resume and kill, terminals, log URIs,
// OOM kills, and the events containerd publishes for all of it.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Task } from '../../src/gen/containerd/task/v2/shim_pb.js';
import { Client } from '../../src/ttrpc/client.js';
import { Code } from '../../src/ttrpc/status.js';
import { tsrun } from '../helpers/cli.js';
import { leftoverCgroups } from '../helpers/leaks.js';
import { containerId, IMAGE, NAMESPACE, RUNC, shimContainerdForFile, TS, type TaskEvent } from '../helpers/shim.js';
import { tempDirsPerTest } from '../helpers/temp-dirs.js';

const shim = shimContainerdForFile();
const tempDir = tempDirsPerTest('shim-hook');

const both = [TS, RUNC] as const;
const short = (runtime: string): string => (runtime === TS ? 'ts' : 'rc');

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

async function taskStatus(id: string): Promise<string> {
  const line = shim().ctr(['task', 'ls']).split('\n').find((l) => l.startsWith(`${id} `));
  return line?.trim().split(/\s+/)[2] ?? 'NONE';
}

describe('ctr run through io.containerd.ts.v2, compared with runc', () => {
  it('prints what the container writes and exits with its code', async () => {
    const results = [];
    for (const runtime of both) {
      const id = containerId(`out-${short(runtime)}`);
      const r = await shim().run(runtime, id, ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 3']);
      results.push(r);
      expect(r.stdout).toBe('to-stdout\n');
      expect(r.stderr).toContain('to-stderr');
      expect(r.code).toBe(3);
      await shim().waitEvent(id, '/tasks/delete');
      expect(shape(shim().events(id))).toEqual(['/tasks/create', '/tasks/start', '/tasks/exit status=3', '/tasks/delete status=3']);
      expect(leftoverCgroups(id)).toEqual([]);
    }
    expect(results[0]?.stdout).toBe(results[1]?.stdout);
  });

  it('passes stdin through and closes it when ctr is done with it', async () => {
    for (const runtime of both) {
      const id = containerId(`stdin-${short(runtime)}`);
      const r = await shim().run(runtime, id, ['sh', '-c', 'echo ready; cat; echo done'], { after: 'ready\n', input: 'line one\nline two\n' });
      expect(r.stdout).toBe('ready\nline one\nline two\ndone\n');
      expect(r.code).toBe(0);
    }
  });

  it('runs a detached task: exec with output and exit code, ps, pause and resume, kill; events as runc publishes them', async () => {
    const shapes: string[][] = [];
    const outputs: string[] = [];
    for (const runtime of both) {
      const id = containerId(`detached-${short(runtime)}`);
      const run = await shim().ctrRun(['run', '-d', '--runtime', runtime, IMAGE, id, 'sleep', '1000']);
      expect(run.code).toBe(0);
      expect(await taskStatus(id)).toBe('RUNNING');

      const exec = await shim().ctrRun(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo from-exec; echo $$ >/dev/null; exit 5']);
      expect(exec.stdout).toBe('from-exec\n');
      expect(exec.code).toBe(5);
      outputs.push(exec.stdout);
      // An exec killed by a signal exits 128+signal (it is not pid 1, so it can be killed).
      const killed = await shim().ctrRun(['task', 'exec', '--exec-id', 'e2', id, 'sh', '-c', 'kill -9 $$']);
      expect(killed.code).toBe(137);

      const background = shim().ctrRun(['task', 'exec', '--exec-id', 'e3', id, 'sleep', '1000']);
      await shim().waitEvent(id, '/tasks/exec-started', 3);
      const ps = shim().ctr(['task', 'ps', id]);
      const rows = ps.trim().split('\n').slice(1);
      expect(rows).toHaveLength(2);
      expect(ps).toMatch(/ExecID:e3/);

      expect(shim().ctr(['task', 'pause', id])).toBe('');
      expect(await taskStatus(id)).toBe('PAUSED');
      expect(shim().ctr(['task', 'resume', id])).toBe('');
      expect(await taskStatus(id)).toBe('RUNNING');

      shim().ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      expect((await background).code).toBe(137);
      await shim().waitEvent(id, '/tasks/exit', 4);
      expect(await taskStatus(id)).toBe('STOPPED');
      shim().ctr(['task', 'delete', id]);
      shim().ctr(['container', 'rm', id]);
      await shim().waitEvent(id, '/tasks/delete');
      shapes.push(shape(shim().events(id)));
      expect(leftoverCgroups(id)).toEqual([]);
    }
    expect(shapes[0]).toEqual([
      '/tasks/create',
      '/tasks/start',
      '/tasks/exec-added exec=e1',
      '/tasks/exec-started exec=e1',
      '/tasks/exit id=e1 status=5',
      '/tasks/exec-added exec=e2',
      '/tasks/exec-started exec=e2',
      '/tasks/exit id=e2 status=137',
      '/tasks/exec-added exec=e3',
      '/tasks/exec-started exec=e3',
      '/tasks/paused',
      '/tasks/resumed',
      // The exec's exit comes before the init's (the init's death kills it).
      '/tasks/exit id=e3 status=137',
      '/tasks/exit status=137',
      '/tasks/delete status=137',
    ]);
    expect(shapes[0]).toEqual(shapes[1]);
    expect(outputs[0]).toBe(outputs[1]);
  });

  it('gives ctr run -t a terminal, as runc does', async () => {
    const results = [];
    for (const runtime of both) {
      const id = containerId(`tty-${short(runtime)}`);
      const r = await shim().run(runtime, id, ['sh', '-c', 'tty; test -t 0 && test -t 1 && echo both-ttys; exit 4'], { flags: ['-t'], tty: true });
      expect(r.code).toBe(4);
      expect(r.stdout).toContain('/dev/pts/0');
      expect(r.stdout).toContain('both-ttys');
      results.push(r.stdout.replace(/^\0/, ''));
    }
    expect(results[0]).toBe(results[1]);
  });

  it('exec with a terminal', async () => {
    for (const runtime of both) {
      const id = containerId(`exectty-${short(runtime)}`);
      expect((await shim().ctrRun(['run', '-d', '--runtime', runtime, IMAGE, id, 'sleep', '1000'])).code).toBe(0);
      const r = await shim().ctrRun(['task', 'exec', '-t', '--exec-id', 't1', id, 'sh', '-c', 'tty; exit 6'], { tty: true });
      expect(r.code).toBe(6);
      expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
      shim().ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      await shim().waitEvent(id, '/tasks/exit', 2);
      shim().ctr(['task', 'delete', id]);
      shim().ctr(['container', 'rm', id]);
    }
  });

  it('writes output to a file:// log URI and through a binary:// logging driver', async () => {
    const dir = shim().ctd.dir;
    const driver = path.join(dir, 'driver.sh');
    // The driver protocol: stdout on fd 3, stderr on fd 4, close fd 5 when ready.
    // (fd 5 closed first, or the background readers would keep it open)
    writeFileSync(driver, '#!/bin/sh\nexec 5>&-\nout=$2\ncat <&3 >"$out.out" & cat <&4 >"$out.err" &\nwait\n');
    chmodSync(driver, 0o755);
    for (const runtime of both) {
      const id = containerId(`logs-${short(runtime)}`);
      const file = path.join(dir, `${id}.log`);
      const r = await shim().run(runtime, id, ['sh', '-c', 'echo file-out; echo file-err >&2'], { flags: ['--log-uri', `file://${file}`] });
      expect(r.code).toBe(0);
      // Ours drains the output before it reports the exit, so the file is complete when
      // ctr returns. With containerd 1.6's runc shim the stderr line is sometimes missing,
      // then and 5 s later (about one run in ten here), so of runc only stdout is required.
      const text = readFileSync(file, 'utf8');
      expect(text, runtime).toContain('file-out\n');
      if (runtime === TS) expect(text, runtime).toContain('file-err\n');

      const id2 = containerId(`driver-${short(runtime)}`);
      const base = path.join(dir, id2);
      const r2 = await shim().run(runtime, id2, ['sh', '-c', 'echo drv-out; echo drv-err >&2'], { flags: ['--log-uri', `binary://${driver}?out=${base}`] });
      expect(r2.code).toBe(0);
      const deadline = Date.now() + 5000;
      while (!(existsSync(`${base}.err`) && readFileSync(`${base}.err`, 'utf8').includes('drv-err')) && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 50));
      }
      expect(readFileSync(`${base}.out`, 'utf8')).toBe('drv-out\n');
      expect(readFileSync(`${base}.err`, 'utf8')).toBe('drv-err\n');
    }
  });

  it('reports an OOM kill with /tasks/oom before the exit', async () => {
    const shapes: string[][] = [];
    for (const runtime of both) {
      const id = containerId(`oom-${short(runtime)}`);
      // The limit goes on the cgroup by hand while the container waits: memory limits in
      // config.json come with the cgroup resources work.
      const running = shim().run(runtime, id, ['sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.05; done; dd if=/dev/zero of=/dev/null bs=64M count=1; exit $?'], {
        timeoutMs: 30_000,
      });
      await shim().waitEvent(id, '/tasks/start');
      const memcg = path.join('/sys/fs/cgroup/memory', NAMESPACE, id);
      writeFileSync(path.join(memcg, 'memory.limit_in_bytes'), String(16 << 20));
      if (existsSync(path.join(memcg, 'memory.memsw.limit_in_bytes'))) writeFileSync(path.join(memcg, 'memory.memsw.limit_in_bytes'), String(16 << 20));
      shim().ctr(['task', 'exec', '--exec-id', 'go', id, 'touch', '/tmp/go']);
      const r = await running;
      // The kernel killed dd; the shell passes on its 128+SIGKILL.
      expect(r.code).toBe(137);
      await shim().waitEvent(id, '/tasks/delete');
      const events = shape(shim().events(id)).filter((t) => !t.startsWith('/tasks/exec') && !t.includes('id=go'));
      expect(events).toContain('/tasks/oom');
      expect(events.indexOf('/tasks/oom')).toBeLessThan(events.findIndex((t) => t.startsWith('/tasks/exit')));
      // How many notifications one OOM raises is the kernel's business (one per wakeup of
      // the eventfd, for runc's shim too): compare with repeats folded.
      shapes.push(events.filter((t, i) => !(t === '/tasks/oom' && events[i - 1] === '/tasks/oom')));
    }
    expect(shapes[0]).toEqual(shapes[1]);
  });

  it('reports metrics in containerd\'s cgroup types, and applies Update\'s resources', async () => {
    const tables: string[] = [];
    for (const runtime of both) {
      const id = containerId(`metrics-${short(runtime)}`);
      expect((await shim().ctrRun(['run', '-d', '--runtime', runtime, IMAGE, id, 'sleep', '1000'])).code).toBe(0);
      const table = shim().ctr(['task', 'metrics', id]);
      expect(table).toMatch(/^pids\.current\s+1\s*$/m);
      expect(table).toMatch(/^memory\.usage_in_bytes\s+[1-9]\d*\s*$/m);
      expect(table).toMatch(/^cpuacct\.usage\s+[1-9]\d*\s*$/m);
      tables.push(table.split('\n').slice(3).map((l) => l.split(/\s+/)[0]).join(' '));
      const json = JSON.parse(shim().ctr(['task', 'metrics', '--format', 'json', id])) as Record<string, Record<string, unknown>>;
      expect(Object.keys(json)).toEqual(expect.arrayContaining(['pids', 'cpu', 'memory']));
      expect(json.memory).toHaveProperty('usage');

      // ctr 1.6 has no task update: the call containerd's CRI makes, straight to the shim.
      const address = readFileSync(path.join(shim().ctd.state, 'io.containerd.runtime.v2.task', NAMESPACE, id, 'address'), 'utf8');
      const client = new Client(address, { timeoutMs: 5000 });
      try {
        const resources = { memory: { limit: 48 << 20 }, cpu: { shares: 512 } };
        await client.unary(Task.method.update, {
          id,
          resources: { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources', value: new TextEncoder().encode(JSON.stringify(resources)) },
        });
        const bad = await client
          .unary(Task.method.update, { id, resources: { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources', value: new TextEncoder().encode('{"memory":{"limit":"x"}}') } })
          .catch((e: unknown) => e);
        // Refused either way; runc's shim says Unknown, we say InvalidArgument and where.
        expect(bad).toBeInstanceOf(Error);
        if (runtime === TS) expect(bad).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining('resources.memory.limit') });
      } finally {
        client.destroy();
      }
      expect(readFileSync(path.join('/sys/fs/cgroup/memory', NAMESPACE, id, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(48 << 20));
      expect(readFileSync(path.join('/sys/fs/cgroup/cpu', NAMESPACE, id, 'cpu.shares'), 'utf8').trim()).toBe('512');
      shim().ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      await shim().waitEvent(id, '/tasks/exit');
      shim().ctr(['task', 'delete', id]);
      shim().ctr(['container', 'rm', id]);
    }
    expect(tables[0]).toBe(tables[1]);
  });

  it('keeps its state where tsrun --root finds it: list and state work on its containers', async () => {
    const id = containerId('tsrun-state');
    expect((await shim().ctrRun(['run', '-d', '--runtime', TS, IMAGE, id, 'sleep', '1000'])).code).toBe(0);
    const root = path.join(shim().stateRoot, NAMESPACE);
    const state = await tsrun(root, ['state', id]);
    expect(state.code).toBe(0);
    const s = JSON.parse(state.stdout) as { status: string; pid: number; bundle: string };
    expect(s.status).toBe('running');
    const taskPid = Number(shim().ctr(['task', 'ls']).split('\n').find((l) => l.startsWith(`${id} `))?.trim().split(/\s+/)[1]);
    expect(s.pid).toBe(taskPid);
    expect(s.bundle).toBe(path.join(shim().ctd.state, 'io.containerd.runtime.v2.task', NAMESPACE, id));
    const list = await tsrun(root, ['list', '-q']);
    expect(list.stdout.split('\n')).toContain(id);
    const exec = await tsrun(root, ['exec', id, 'cat', '/proc/1/cmdline']);
    expect(exec.stdout).toBe('sleep\u00001000\u0000');
    shim().ctr(['task', 'kill', '-s', 'SIGKILL', id]);
    await shim().waitEvent(id, '/tasks/exit');
    shim().ctr(['task', 'delete', id]);
    shim().ctr(['container', 'rm', id]);
    expect(existsSync(path.join(root, id))).toBe(false);
  });

  it('answers errors with the codes containerd expects', async () => {
    const id = containerId('errors');
    expect((await shim().ctrRun(['run', '-d', '--runtime', TS, IMAGE, id, 'sleep', '1000'])).code).toBe(0);
    expect((await shim().ctrRun(['task', 'exec', '-d', '--exec-id', 'dup', id, 'sleep', '1000'])).code).toBe(0);
    const dup = await shim().ctrRun(['task', 'exec', '--exec-id', 'dup', id, 'true']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain('already exists');
    const checkpoint = await shim().ctrRun(['task', 'checkpoint', id]);
    expect(checkpoint.stderr).toContain('not implemented');
    shim().ctr(['task', 'kill', '-s', 'SIGKILL', id]);
    await shim().waitEvent(id, '/tasks/exit', 2);
    const again = await shim().ctrRun(['task', 'kill', '-s', 'SIGKILL', id]);
    expect(again.stderr).toContain('process already finished: not found');
    shim().ctr(['task', 'delete', id]);
    shim().ctr(['container', 'rm', id]);
  });

  it('names the failed hook to containerd, as runc does', async () => {
    // ctr run --config takes the whole spec from the file: no image, an empty rootfs, which
    // is enough to reach the prestart hooks.
    for (const runtime of both) {
      const dir = tempDir();
      expect((await tsrun(dir, ['spec', '--bundle', dir])).code).toBe(0);
      const spec = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { process: { args: string[]; terminal: boolean }; hooks?: unknown };
      spec.process.args = ['true'];
      spec.process.terminal = false;
      spec.hooks = { prestart: [{ path: '/bin/false' }] };
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
      const id = containerId(`hookfail-${short(runtime)}`);
      const r = await shim().ctrRun(['run', '--config', path.join(dir, 'config.json'), '--runtime', runtime, id]);
      expect(r.code).not.toBe(0);
      if (runtime === TS) expect(r.stderr).toContain('failed to create shim task: error running hook #0: hooks.prestart[0] "/bin/false": exit status 1: unknown');
      else expect(r.stderr).toContain('error running hook #0: error running hook: exit status 1');
      await shim().ctrRun(['container', 'rm', id]);
    }
  });
});
