// SCMP_ACT_NOTIFY: the listener reaches a seccomp agent (test/helpers/seccomp-agent.py) with
// the container process state, and the agent answers the container's trapped syscalls.
// Side by side with runc 1.1.5, which does the same.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle, type AnyConfig } from '../helpers/bundle.js';
import { errorOf, runc, tsrun, type Result } from '../helpers/cli.js';
import { leftoverCgroups, leftoverMounts } from '../helpers/leaks.js';
import { repoRoot } from '../helpers/paths.js';

const agentScript = path.join(repoRoot, 'test', 'helpers', 'seccomp-agent.py');
const bundles: TestBundle[] = [];
const agents: ChildProcess[] = [];
afterAll(() => {
  for (const a of agents) if (a.exitCode === null && a.pid !== undefined) process.kill(a.pid, 'SIGKILL');
  bundles.forEach((b) => b.remove());
});

interface Agent {
  socket: string;
  report: string;
  exited: Promise<void>;
}

async function startAgent(dir: string, name: string, connections = 1): Promise<Agent> {
  const socket = path.join(dir, `${name}.sock`);
  const report = path.join(dir, `${name}.log`);
  const proc = spawn('python3', [agentScript, socket, report, String(connections)], { stdio: ['ignore', 'ignore', 'pipe'] });
  agents.push(proc);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    proc.stderr?.on('data', (d: Buffer) => (d.toString().includes('ready') ? resolve() : undefined));
    proc.once('exit', (code) => reject(new Error(`agent exited with ${code}`)));
  });
  return { socket, report, exited };
}

interface Report {
  /** the last connection's document */
  state: Record<string, unknown> | null;
  states: Array<Record<string, unknown>>;
  fds: number;
  notified: number[];
}

function readReport(file: string): Report {
  const out: Report = { state: null, states: [], fds: 0, notified: [] };
  for (const line of existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []) {
    const m = /^state (.*) fds (\d+)$/.exec(line);
    if (m) {
      out.state = JSON.parse(m[1] ?? 'null') as Record<string, unknown>;
      out.states.push(out.state);
      out.fds = Number(m[2]);
    }
    const n = /^notify (\d+)$/.exec(line);
    if (n) out.notified.push(Number(n[1]));
  }
  return out;
}

const SYS = { mkdir: 83, chmod: 90, getppid: 110 };
const CALLS = ['mkdir', 's:/tmp/by-agent', '0755', '--', 'rmdir', 's:/tmp/by-agent', '--', 'chmod', 's:/tmp', '0700', '--', 'getppid'];

function notifyBundle(name: string, socket: string, args: string[], noNewPrivileges = true): TestBundle {
  const b = new TestBundle(`notify-${name}`, args);
  bundles.push(b);
  b.edit((c: AnyConfig) => {
    c.process.noNewPrivileges = noNewPrivileges;
    c.root.readonly = false;
    c.annotations = { 'org.example/purpose': 'seccomp-notify test' };
    c.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: socket,
      listenerMetadata: 'MKDIR=fake;CHMOD=ENOMEDIUM',
      syscalls: [{ names: ['mkdir', 'mkdirat', 'chmod', 'fchmodat', 'getppid'], action: 'SCMP_ACT_NOTIFY' }],
    };
  });
  return b;
}

async function runWithAgent(b: TestBundle, name: string, run: (args: string[]) => Promise<Result>): Promise<{ result: Result; report: Report }> {
  const agent = await startAgent(b.dir, name);
  b.edit((c: AnyConfig) => (c.linux.seccomp.listenerPath = agent.socket));
  const result = await run(['run', '--bundle', b.dir, b.id]);
  await agent.exited;
  return { result, report: readReport(agent.report) };
}

describe('seccomp notify', () => {
  it.each([true, false])('hands the listener to the agent, which answers trapped syscalls (noNewPrivileges %s)', async (nnp) => {
    const b = notifyBundle(`calls-${nnp}`, '', ['/usr/local/bin/probe', 'syscall', ...CALLS], nnp);
    const ours = await runWithAgent(b, 'tsrun', (args) => tsrun(b.root, args));
    const theirs = await runWithAgent(b, 'runc', (args) => runc(path.join(b.dir, 'runc-state'), args));

    expect(ours.result.stderr).toBe('');
    expect(ours.result.code).toBe(0);
    // mkdir answered "done" without doing it; chmod refused with the agent's errno; getppid let through
    expect(ours.result.stdout).toBe('syscall mkdir = 0\nsyscall rmdir = -1 ENOENT\nsyscall chmod = -1 ENOMEDIUM\nsyscall getppid = 0\n');
    expect(ours.result.stdout).toBe(theirs.result.stdout);
    expect(ours.result.code).toBe(theirs.result.code);

    expect(ours.report.fds).toBe(1);
    // Only the program's calls: tsrun-init makes none of these itself (runc's init calls
    // getppid after loading the filter, without noNewPrivileges).
    expect(ours.report.notified).toEqual([SYS.mkdir, SYS.chmod, SYS.getppid]);
    expect(theirs.report.notified).toEqual(expect.arrayContaining(ours.report.notified));
    const state = ours.report.state as Record<string, unknown> & { state: Record<string, unknown> };
    expect(state).toMatchObject({
      fds: ['seccompFd'],
      metadata: 'MKDIR=fake;CHMOD=ENOMEDIUM',
      state: { id: b.id, status: 'creating', bundle: b.dir, annotations: { 'org.example/purpose': 'seccomp-notify test' } },
    });
    expect(state.pid).toBe(state.state.pid);
    expect(typeof state.pid).toBe('number');
    // runc's document has the same fields; only the versions and pids differ
    const shape = (s: Record<string, unknown> | null): string[] => Object.keys(s ?? {}).concat(Object.keys((s?.state as object) ?? {})).sort();
    expect(shape(ours.report.state)).toEqual(shape(theirs.report.state));
  });

  it('leaves no trace of the listener in the container (and waits killably, a flag runc 1.1.5 lacks)', async () => {
    const b = notifyBundle('fds', '', ['/usr/local/bin/probe']);
    b.edit((c: AnyConfig) => (c.linux.seccomp.flags = ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']));
    const ours = await runWithAgent(b, 'tsrun', (args) => tsrun(b.root, args));
    expect(ours.result.code).toBe(0);
    expect(ours.report.fds).toBe(1);
    const fds = ours.result.stdout.split('\n').filter((l) => l.startsWith('fd '));
    expect(fds.map((l) => l.split(' ')[1])).toEqual(['0', '1', '2']);
  });

  it('hands the listener of an exec\'d process to the agent too, as running', async () => {
    const b = notifyBundle('exec', '', ['/usr/local/bin/probe', 'sleep', '60']);
    const results: Array<{ out: string; states: Array<Record<string, unknown>>; notified: number[] }> = [];
    for (const [name, cli] of [
      ['tsrun', (args: string[]) => tsrun(b.root, args)],
      ['runc', (args: string[]) => runc(path.join(b.dir, 'runc-state'), args)],
    ] as const) {
      const agent = await startAgent(b.dir, `exec-${name}`, 2);
      b.edit((c: AnyConfig) => (c.linux.seccomp.listenerPath = agent.socket));
      expect((await cli(['run', '-d', '--bundle', b.dir, b.id])).code).toBe(0);
      let out = '';
      try {
        const r = await cli(['exec', b.id, '/usr/local/bin/probe', 'syscall', 'mkdir', 's:/tmp/by-agent', '0755', '--', 'rmdir', 's:/tmp/by-agent']);
        expect(r.code).toBe(0);
        out = r.stdout;
      } finally {
        await cli(['delete', '--force', b.id]);
      }
      await agent.exited;
      const report = readReport(agent.report);
      results.push({ out, states: report.states, notified: report.notified });
    }
    const [ours, theirs] = results;
    expect(ours?.out).toBe('syscall mkdir = 0\nsyscall rmdir = -1 ENOENT\n');
    expect(ours?.out).toBe(theirs?.out);
    const [atCreate, atExec] = (ours?.states ?? []) as Array<Record<string, unknown> & { state: Record<string, unknown> }>;
    expect(atCreate?.state.status).toBe('creating');
    expect(atExec?.state.status).toBe('running');
    expect(atExec?.state.pid).toBe(atCreate?.state.pid);
    expect(atExec?.pid).not.toBe(atExec?.state.pid);
    expect((theirs?.states[1] as { state: { status: string } } | undefined)?.state.status).toBe('running');
    expect(ours?.notified).toEqual([SYS.mkdir]);
  });

  it('fails create when no agent listens, leaving nothing behind', async () => {
    const b = notifyBundle('no-agent', '', ['/usr/local/bin/probe']);
    const socket = path.join(b.dir, 'nobody.sock');
    b.edit((c: AnyConfig) => (c.linux.seccomp.listenerPath = socket));
    const r = await tsrun(b.root, ['create', '--bundle', b.dir, b.id]);
    expect(r.code).toBe(1);
    expect(errorOf(r)).toBe(`linux.seccomp.listenerPath: failed to connect with seccomp agent specified in the seccomp profile (${socket}): connect ${socket}: no such file or directory`);
    expect(leftoverCgroups(b.id)).toEqual([]);
    expect(leftoverMounts(b.dir)).toEqual([]);
    expect((await tsrun(b.root, ['list', '-q'])).stdout.trim()).toBe('');
  });
});
