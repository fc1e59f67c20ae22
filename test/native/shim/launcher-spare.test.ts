// The warm spare and the namespace's host without containerd: the launcher hands a new
// group to the host or a waiting spare (sockets the test holds, standing in for them), falls
// back to a server of its own when they do not take it, replaces a dead spare; and the real
// spare (node dist/shim/main.js -spare) is adopted, serves and hosts the next group, or exits
// and removes its socket when nobody adopts it.
import { create } from '@bufbuild/protobuf';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectRequestSchema, Task } from '../../../src/gen/containerd/task/v2/shim_pb.js';
import { takeAdoption, unixListen } from '../../../src/native/shim.js';
import { parseAdoption } from '../../../src/shim/handover.js';
import { identity, parseSpareArgs, spareIdleMs } from '../../../src/shim/spare.js';
import { Client } from '../../../src/ttrpc/client.js';
import { repoRoot, shimServerScript } from '../../helpers/paths.js';

const launcher = path.join(repoRoot, 'bin', 'containerd-shim-ts-v2');
const ADDRESS = '/run/ctd.sock';
let work: string;
let fakeNode: string;
const pids: number[] = [];
let serial = 0;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'tsrun-spare-'));
  // Stands in for node: records its argv, then holds fd 3 (a listening socket).
  fakeNode = path.join(work, 'fake-node');
  writeFileSync(fakeNode, ['#!/bin/sh', 'echo "$*" > "$FAKE_OUT/node.$$.tmp" && mv "$FAKE_OUT/node.$$.tmp" "$FAKE_OUT/node.$$"', 'exec sleep 60'].join('\n'));
  chmodSync(fakeNode, 0o755);
});

afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(work, { recursive: true, force: true });
});

interface Env {
  dir: string;
  sockets: string;
  out: string;
  bundle: string;
  spare: string;
  /** the host socket of namespace ns1 */
  host: string;
}

function env(name: string): Env {
  const dir = path.join(work, name);
  const sockets = path.join(dir, 's');
  const out = path.join(dir, 'out');
  const bundle = path.join(dir, 'bundle');
  for (const d of [sockets, out, bundle]) mkdirSync(d, { recursive: true });
  writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ ociVersion: '1.0.2' }));
  // The launcher's name for the spare of this containerd and package.
  const spare = path.join(sockets, `spare-${createHash('sha256').update(`${ADDRESS}\n${repoRoot}`).digest('hex').slice(0, 48)}`);
  const host = path.join(sockets, `host-${createHash('sha256').update(`${ADDRESS}\nns1\n${repoRoot}`).digest('hex').slice(0, 48)}`);
  return { dir, sockets, out, bundle, spare, host };
}

const groupSocket = (e: Env, group: string): string => path.join(e.sockets, createHash('sha256').update(`${ADDRESS}/ns1/${group}`).digest('hex'));

function startLauncher(e: Env, id: string, extraEnv: Record<string, string> = {}): { done: Promise<{ code: number | null; out: string; err: string }>; child: ChildProcess } {
  const child = spawn(launcher, ['-namespace', 'ns1', '-address', ADDRESS, '-publish-binary', '/usr/bin/containerd', '-id', id, 'start'], {
    cwd: e.bundle,
    env: { PATH: process.env.PATH, TTRPC_ADDRESS: `${ADDRESS}.ttrpc`, TSRUN_NODE: fakeNode, FAKE_OUT: e.out, TSRUN_SHIM_SOCKET_DIR: e.sockets, MARKER: 'm1', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err }))) };
}

/** The argv lines the stand-in node recorded, once count of them exist. */
async function launched(e: Env, count: number): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const files = readdirSync(e.out).filter((f) => /^node\.\d+$/.test(f));
    if (files.length >= count || Date.now() > deadline) {
      for (const f of files) if (!pids.includes(Number(f.split('.')[1]))) pids.push(Number(f.split('.')[1]));
      return files.map((f) => readFileSync(path.join(e.out, f), 'utf8').trim());
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The bundle's log fifo, held open for reading as containerd holds it. */
function logFifo(e: Env): { log: string; logHold: number } {
  const log = path.join(e.bundle, 'log');
  spawnSync('mkfifo', [log]);
  return { log, logHold: openSync(log, 'r+') };
}

function listening(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(socket);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('adoption messages', () => {
  it('parses the launcher\'s items and refuses anything else', () => {
    const items = ['tsrun-adopt-1', 'namespace=ns1', 'id=c1', 'log=1', '', 'A=1', 'B=x=y'];
    const m = parseAdoption(Buffer.from(items.map((i) => `${i}\0`).join('')));
    expect(m?.fields.get('namespace')).toBe('ns1');
    expect(m?.fields.get('log')).toBe('1');
    expect(m?.env).toEqual(['A=1', 'B=x=y']);
    expect(parseAdoption(Buffer.from('tsrun-adopt-0\0id=c1\0\0'))).toBeUndefined();
    expect(parseAdoption(Buffer.from('tsrun-adopt-1\0id=c1\0'))).toBeUndefined();
    expect(parseAdoption(Buffer.from('tsrun-adopt-1\0no-equals\0\0'))).toBeUndefined();
  });

  it('reads the spare\'s command line and idle time, naming what is wrong', () => {
    expect(parseSpareArgs(['-namespace', 'x'])).toBeUndefined();
    expect(parseSpareArgs(['-spare', '/s/spare-1', '-title-room', '   '])).toEqual({ socket: '/s/spare-1' });
    expect(parseSpareArgs(['-spare', '/s/spare-1', '-spare-file', '1:2:3', '-title-room', ' '])).toEqual({ socket: '/s/spare-1', file: '1:2:3' });
    expect(() => parseSpareArgs(['-spare'])).toThrow('-spare');
    expect(() => parseSpareArgs(['-spare', '/s', '-spare-file'])).toThrow('-spare-file');
    expect(() => parseSpareArgs(['-spare', '/s', '-other', 'x'])).toThrow('-other');
    expect(spareIdleMs({})).toBe(60_000);
    expect(spareIdleMs({ TSRUN_SHIM_SPARE_IDLE_MS: '1500' })).toBe(1500);
    expect(() => spareIdleMs({ TSRUN_SHIM_SPARE_IDLE_MS: '-3' })).toThrow('TSRUN_SHIM_SPARE_IDLE_MS');
  });
});

describe('launcher start with a spare', { timeout: 30_000 }, () => {
  it('hands a new group to the waiting spare with its socket, log fifo, flags and environment, then starts the next spare', async () => {
    const e = env('adopt');
    const { log, logHold } = logFifo(e);
    const spareFd = unixListen(e.spare);
    try {
      const run = startLauncher(e, 'c1');
      const got = takeAdoption(spareFd, 10_000);
      expect(got).not.toBeNull();
      // What a spare does before it answers: its socket goes, so the next one can bind.
      closeSync(spareFd);
      unlinkSync(e.spare);
      writeSync(got!.conn, '1');
      closeSync(got!.conn);
      const r = await run.done;
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const socket = groupSocket(e, 'c1');
      expect(r.out).toBe(`unix://${socket}`);
      const m = parseAdoption(got!.data);
      // No host yet: the spare is to become it, and gets the host socket too.
      expect(Object.fromEntries(m!.fields)).toMatchObject({ namespace: 'ns1', id: 'c1', address: ADDRESS, 'publish-binary': '/usr/bin/containerd', socket, host: e.host, debug: '0', log: '1' });
      expect(m!.env).toEqual(expect.arrayContaining([`TTRPC_ADDRESS=${ADDRESS}.ttrpc`, 'MARKER=m1']));
      expect(got!.fds).toHaveLength(3);
      expect(fstatSync(got!.fds[0]!).isSocket()).toBe(true);
      expect(await listening(socket)).toBe(true); // the group's socket, listening, now ours
      expect(readlinkSync(`/proc/self/fd/${got!.fds[1]}`)).toBe(log);
      expect(await listening(e.host)).toBe(true); // and the host's
      // No server of its own; the next spare instead.
      const argvs = await launched(e, 1);
      expect(argvs).toHaveLength(1);
      expect(argvs[0]).toMatch(new RegExp(`^(--\\S+ )*${shimServerScript} -spare ${e.spare} -spare-file \\d+:\\d+:\\d+ -title-room *$`));
      expect(await listening(e.spare)).toBe(true);
      for (const fd of got!.fds) closeSync(fd);
    } finally {
      closeSync(logHold);
    }
  });

  it('starts a server itself when the spare does not take the group', async () => {
    const e = env('refused');
    const spareFd = unixListen(e.spare);
    try {
      const run = startLauncher(e, 'c1');
      const got = takeAdoption(spareFd, 10_000);
      expect(got).not.toBeNull();
      closeSync(got!.conn); // no answer
      for (const fd of got!.fds) closeSync(fd);
      const r = await run.done;
      expect(r.code).toBe(0);
      expect(r.out).toBe(`unix://${groupSocket(e, 'c1')}`);
      const argvs = await launched(e, 1);
      // Ours is still listening there, so no new spare either.
      expect(argvs).toEqual([expect.stringContaining(`-namespace ns1 -id c1 -address ${ADDRESS}`)]);
    } finally {
      closeSync(spareFd);
    }
  });

  it('replaces a dead spare: its socket file goes, a server starts, and a new spare waits there', async () => {
    const e = env('dead');
    spawnSync('python3', ['-c', `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(e.spare)})`]);
    const r = await startLauncher(e, 'c1').done;
    expect(r.code).toBe(0);
    const argvs = await launched(e, 2);
    expect(argvs.filter((a) => a.includes('-namespace ns1 -id c1'))).toHaveLength(1);
    expect(argvs.filter((a) => a.includes(`-spare ${e.spare}`))).toHaveLength(1);
    expect(await listening(e.spare)).toBe(true);
  });

  it('starts no spare after a namespace\'s group, whose next containers reuse it', async () => {
    const e = env('namespace');
    const r = await startLauncher(e, 'c1', { TSRUN_SHIM_GROUPING: 'namespace' }).done;
    expect(r.code).toBe(0);
    expect(r.out).toBe(`unix://${groupSocket(e, '')}`);
    expect(await launched(e, 1)).toEqual([expect.stringContaining('-namespace ns1 -id c1')]);
    await new Promise((r) => setTimeout(r, 200));
    expect(await launched(e, 1)).toHaveLength(1);
    expect(existsSync(e.spare)).toBe(false);
  });

  it('neither uses nor starts a spare with TSRUN_SHIM_SPARE=0', async () => {
    const e = env('off');
    const r = await startLauncher(e, 'c1', { TSRUN_SHIM_SPARE: '0' }).done;
    expect(r.code).toBe(0);
    expect(await launched(e, 1)).toEqual([expect.stringContaining('-namespace ns1 -id c1')]);
    await new Promise((r) => setTimeout(r, 200));
    expect(await launched(e, 1)).toHaveLength(1);
    expect(existsSync(e.spare)).toBe(false);
  });
});

describe('launcher start with a host', { timeout: 30_000 }, () => {
  it('hands a new group to the namespace\'s host: its socket and log, and no process is started', async () => {
    const e = env('host');
    const { log, logHold } = logFifo(e);
    const hostFd = unixListen(e.host);
    try {
      const run = startLauncher(e, 'c1');
      const got = takeAdoption(hostFd, 10_000);
      expect(got).not.toBeNull();
      writeSync(got!.conn, '1');
      closeSync(got!.conn);
      const r = await run.done;
      expect(r.code).toBe(0);
      const socket = groupSocket(e, 'c1');
      expect(r.out).toBe(`unix://${socket}`);
      const m = parseAdoption(got!.data);
      expect(Object.fromEntries(m!.fields)).toMatchObject({ namespace: 'ns1', id: 'c1', socket, host: '', log: '1' });
      expect(got!.fds).toHaveLength(2);
      expect(readlinkSync(`/proc/self/fd/${got!.fds[1]}`)).toBe(log);
      await new Promise((r) => setTimeout(r, 200));
      expect(await launched(e, 0)).toEqual([]);
      for (const fd of got!.fds) closeSync(fd);
    } finally {
      closeSync(hostFd);
      closeSync(logHold);
    }
  });

  it('serves the group with a server of its own when the host does not take it, and leaves the host alone', async () => {
    const e = env('host-refused');
    const hostFd = unixListen(e.host);
    try {
      const run = startLauncher(e, 'c1', { TSRUN_SHIM_SPARE: '0' });
      const got = takeAdoption(hostFd, 10_000);
      expect(got).not.toBeNull();
      for (const fd of [got!.conn, ...got!.fds]) closeSync(fd); // no answer
      const r = await run.done;
      expect(r.code).toBe(0);
      const argvs = await launched(e, 1);
      expect(argvs).toEqual([expect.stringContaining('-namespace ns1 -id c1')]);
      expect(argvs[0]).not.toContain('-host');
      expect(await listening(e.host)).toBe(true);
    } finally {
      closeSync(hostFd);
    }
  });

  it('with TSRUN_SHIM_HOST=0 gives each group a process, and makes no host', async () => {
    const e = env('host-off');
    const hostFd = unixListen(e.host);
    try {
      const r = await startLauncher(e, 'c1', { TSRUN_SHIM_HOST: '0', TSRUN_SHIM_SPARE: '0' }).done;
      expect(r.code).toBe(0);
      const argvs = await launched(e, 1);
      expect(argvs).toEqual([expect.stringContaining('-namespace ns1 -id c1')]);
      expect(argvs[0]).not.toContain('-host');
      // The socket the test holds saw no connection: no probe, no hand-over.
      expect(takeAdoption(hostFd, 0)).toBeNull();
    } finally {
      closeSync(hostFd);
    }
    const fresh = env('host-off-2');
    await startLauncher(fresh, 'c1', { TSRUN_SHIM_HOST: '0', TSRUN_SHIM_SPARE: '0' }).done;
    expect(existsSync(fresh.host)).toBe(false);
  });
});

// These start node itself: fixed work, but seconds on a loaded machine.
describe('the spare server', { timeout: 60_000 }, () => {
  function spare(e: Env, extraEnv: Record<string, string>): ChildProcess {
    const fd = unixListen(e.spare);
    const child = spawn(process.execPath, [shimServerScript, '-spare', e.spare, '-spare-file', identity(e.spare), '-title-room', ' '.repeat(1024)], {
      cwd: '/',
      env: { PATH: process.env.PATH, ...extraEnv },
      stdio: ['ignore', 'ignore', 'ignore', fd],
    });
    closeSync(fd);
    pids.push(child.pid!);
    return child;
  }

  it('exits when nobody adopts it within its idle time, and takes its socket file along', async () => {
    const e = env('idle');
    const child = spare(e, { TSRUN_SHIM_SPARE_IDLE_MS: '300' });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(existsSync(e.spare)).toBe(false);
  });

  it('exits early when its socket file is no longer its own, leaving the new one alone', async () => {
    const e = env('orphan');
    const child = spare(e, { TSRUN_SHIM_SPARE_IDLE_MS: '60000' });
    expect(await listening(e.spare)).toBe(true);
    // What a launcher does to a socket it took for a dead spare's: a new one at the path.
    unlinkSync(e.spare);
    const successor = unixListen(e.spare);
    try {
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(0);
      expect(existsSync(e.spare)).toBe(true);
    } finally {
      closeSync(successor);
    }
  });

  it('once adopted, serves the group as the server start would have launched, and its place goes to a new spare', async () => {
    const e = env('real');
    const root = path.join(e.dir, 'root');
    const child = spare(e, { TSRUN_SHIM_SPARE_IDLE_MS: '30000' });
    // A probe (what a launcher does to see whether a spare waits) is not an adoption.
    expect(await listening(e.spare)).toBe(true);
    const { log, logHold } = logFifo(e);
    try {
      const r = await startLauncher(e, `real-${serial++}`, { TSRUN_SHIM_ROOT: root, TSRUN_SHIM_SPARE_IDLE_MS: '1000' }).done;
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const address = r.out.replace(/^unix:\/\//, '');
      // The adopted spare answers on the group's socket as the group's server.
      const client = new Client(address);
      try {
        const reply = await client.unary(Task.method.connect, create(ConnectRequestSchema, { id: 'nothing-here' }));
        expect(reply.shimPid).toBe(child.pid);
      } finally {
        await client.close();
      }
      // The namespace's host now: ps shows its host socket, no one group's id.
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').join(' ');
      expect(cmdline).toContain(`-namespace ns1 -host ${e.host} -address ${ADDRESS} -publish-binary /usr/bin/containerd `);
      expect(readlinkSync(`/proc/${child.pid}/fd/2`)).toBe(log);
      // (/proc/<pid>/environ keeps the spare's start-up environment; that containerd's
      // reaches the server shows in the integration test, where its events arrive.)
      // The launcher started the next spare (the stand-in) on the freed socket.
      expect((await launched(e, 1)).filter((a) => a.includes(`-spare ${e.spare}`))).toHaveLength(1);
      // The next new group goes to it, on a socket of its own.
      const next = path.join(e.dir, 'bundle2');
      mkdirSync(next);
      writeFileSync(path.join(next, 'config.json'), JSON.stringify({ ociVersion: '1.0.2' }));
      const r2 = await startLauncher({ ...e, bundle: next }, `real-${serial++}`, { TSRUN_SHIM_ROOT: root }).done;
      expect(r2.code).toBe(0);
      const address2 = r2.out.replace(/^unix:\/\//, '');
      expect(address2).not.toBe(address);
      const client2 = new Client(address2);
      try {
        const reply = await client2.unary(Task.method.connect, create(ConnectRequestSchema, { id: 'nothing-here' }));
        expect(reply.shimPid).toBe(child.pid);
      } finally {
        await client2.close();
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(await launched(e, 1)).toEqual([expect.stringContaining(`-spare ${e.spare}`)]); // no server, no second spare
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
      for (const gone of [address, address2, e.host]) expect(existsSync(gone), gone).toBe(false);
    } finally {
      closeSync(logHold);
    }
  });
});
