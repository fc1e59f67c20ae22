// The warm spare and the namespace's brain without containerd: `start` forks the group's
// keeper and attaches it to the namespace's brain (a socket the test holds, standing in for
// it), or starts the brain: a waiting spare takes the brain's socket (again a socket the
// test holds), else a new process; a dead spare is replaced. And the real spare (node
// dist/shim/main.js -spare) is adopted, serves the keepers that attach, or exits and
// removes its socket when nobody adopts it.
import { create, fromBinary } from '@bufbuild/protobuf';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectRequestSchema, Task } from '../../../src/gen/containerd/task/v2/shim_pb.js';
import { KeeperMessageSchema, type Hello } from '../../../src/gen/tsrun/keeper/v1/keeper_pb.js';
import { acceptConn, channelRecv, takeAdoption, unixListen } from '../../../src/native/shim.js';
import { parseAdoption } from '../../../src/shim/handover.js';
import { identity, parseSpareArgs, spareIdleMs } from '../../../src/shim/spare.js';
import { Client } from '../../../src/ttrpc/client.js';
import { processesMatching } from '../../helpers/shim-containerd.js';
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
  // The keepers the launchers forked, and the stand-ins.
  for (const pid of [...pids, ...processesMatching(realpathSync(launcher), work, 'keep')]) {
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
  /** the socket of namespace ns1's brain */
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

/** The hello of the keeper that attaches to brainFd (a brain socket the test holds), with
 *  its fds; the connection stays open (a closed one would make the keeper look again). */
function keeperHello(brainFd: number): { hello: Hello; fds: number[]; conn: number } {
  const conn = acceptConn(brainFd, 10_000);
  let data = Buffer.alloc(0);
  const fds: number[] = [];
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const got = channelRecv(conn);
    data = Buffer.concat([data, got.data]);
    fds.push(...got.fds);
    if (data.length >= 8 && data.length >= 8 + data.readUInt32BE(0)) break;
    if (got.eof) break;
    spawnSync('sleep', ['0.02']);
  }
  const m = fromBinary(KeeperMessageSchema, data.subarray(8, 8 + data.readUInt32BE(0)));
  if (m.kind.case !== 'hello') throw new Error(`expected a hello, got ${m.kind.case}`);
  return { hello: m.kind.value, fds, conn };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The keeper serving a group socket: the process holding it listening as fd 3. */
function keeperOf(socket: string): number | undefined {
  const inode = readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[7] === socket && f[3] === '00010000')?.[6];
  return processesMatching(realpathSync(launcher), 'keep').find((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/3`) === `socket:[${inode}]`;
    } catch {
      return false;
    }
  });
}

describe('adoption messages', () => {
  it('parses the items of a hand-over and refuses anything else', () => {
    const items = ['tsrun-adopt-2', 'namespace=ns1', 'brain=/s/host-1', 'log=1', '', 'A=1', 'B=x=y'];
    const m = parseAdoption(Buffer.from(items.map((i) => `${i}\0`).join('')));
    expect(m?.fields.get('namespace')).toBe('ns1');
    expect(m?.fields.get('brain')).toBe('/s/host-1');
    expect(m?.env).toEqual(['A=1', 'B=x=y']);
    expect(parseAdoption(Buffer.from('tsrun-adopt-1\0id=c1\0\0'))).toBeUndefined();
    expect(parseAdoption(Buffer.from('tsrun-adopt-2\0id=c1\0'))).toBeUndefined();
    expect(parseAdoption(Buffer.from('tsrun-adopt-2\0no-equals\0\0'))).toBeUndefined();
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
  it('hands the new brain\'s socket to the waiting spare with a log, flags and environment, attaches the group\'s keeper there, then starts the next spare', async () => {
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
      const m = parseAdoption(got!.data);
      expect(Object.fromEntries(m!.fields)).toMatchObject({ namespace: 'ns1', address: ADDRESS, 'publish-binary': '/usr/bin/containerd', brain: e.host, debug: '0', log: '1' });
      expect(m!.env).toEqual(expect.arrayContaining([`TTRPC_ADDRESS=${ADDRESS}.ttrpc`, 'MARKER=m1']));
      expect(got!.fds).toHaveLength(2);
      expect(fstatSync(got!.fds[0]!).isSocket()).toBe(true);
      expect(readlinkSync(`/proc/self/fd/${got!.fds[1]}`)).toBe(log);
      // As the brain, now: the group's keeper attaches.
      const { hello, fds, conn } = keeperHello(got!.fds[0]!);
      const r = await run.done;
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const socket = groupSocket(e, 'c1');
      expect(r.out).toBe(`unix://${socket}`);
      expect(hello.group).toMatchObject({ namespace: 'ns1', id: 'c1', address: ADDRESS, publishBinary: '/usr/bin/containerd', socket, debug: false });
      expect(hello.log).toBe(true);
      expect(readlinkSync(`/proc/self/fd/${fds[0]}`)).toBe(log);
      expect(keeperOf(socket)).toBe(hello.keeperPid);
      expect(await listening(socket)).toBe(true);
      // No brain process of its own; the next spare instead.
      const argvs = await launched(e, 1);
      expect(argvs).toHaveLength(1);
      expect(argvs[0]).toMatch(new RegExp(`^(--\\S+ )*${shimServerScript} -spare ${e.spare} -spare-file \\d+:\\d+:\\d+ -title-room *$`));
      expect(await listening(e.spare)).toBe(true);
      for (const fd of [...got!.fds, ...fds, conn]) closeSync(fd);
    } finally {
      closeSync(logHold);
    }
  });

  it('starts a brain itself when the spare does not take the socket', async () => {
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
      expect(argvs).toEqual([expect.stringContaining(`-brain ${e.host} -namespace ns1 -address ${ADDRESS} -publish-binary /usr/bin/containerd`)]);
    } finally {
      closeSync(spareFd);
    }
  });

  it('replaces a dead spare: its socket file goes, a brain starts, and a new spare waits there', async () => {
    const e = env('dead');
    spawnSync('python3', ['-c', `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(e.spare)})`]);
    const r = await startLauncher(e, 'c1').done;
    expect(r.code).toBe(0);
    const argvs = await launched(e, 2);
    expect(argvs.filter((a) => a.includes(`-brain ${e.host}`))).toHaveLength(1);
    expect(argvs.filter((a) => a.includes(`-spare ${e.spare}`))).toHaveLength(1);
    expect(await listening(e.spare)).toBe(true);
  });

  it('starts no spare after a namespace\'s group, whose next containers reuse it', async () => {
    const e = env('namespace');
    const r = await startLauncher(e, 'c1', { TSRUN_SHIM_GROUPING: 'namespace' }).done;
    expect(r.code).toBe(0);
    expect(r.out).toBe(`unix://${groupSocket(e, '')}`);
    expect(await launched(e, 1)).toEqual([expect.stringContaining(`-brain ${e.host}`)]);
    await new Promise((r) => setTimeout(r, 200));
    expect(await launched(e, 1)).toHaveLength(1);
    expect(existsSync(e.spare)).toBe(false);
  });

  it('neither uses nor starts a spare with TSRUN_SHIM_SPARE=0', async () => {
    const e = env('off');
    const r = await startLauncher(e, 'c1', { TSRUN_SHIM_SPARE: '0' }).done;
    expect(r.code).toBe(0);
    expect(await launched(e, 1)).toEqual([expect.stringContaining(`-brain ${e.host}`)]);
    await new Promise((r) => setTimeout(r, 200));
    expect(await launched(e, 1)).toHaveLength(1);
    expect(existsSync(e.spare)).toBe(false);
  });
});

describe('launcher start with a running brain', { timeout: 30_000 }, () => {
  it('attaches the new group\'s keeper to the namespace\'s brain, with the bundle\'s log, and starts no process', async () => {
    const e = env('host');
    const { log, logHold } = logFifo(e);
    const hostFd = unixListen(e.host);
    try {
      const r = await startLauncher(e, 'c1').done;
      expect(r.code).toBe(0);
      const socket = groupSocket(e, 'c1');
      expect(r.out).toBe(`unix://${socket}`);
      const { hello, fds, conn } = keeperHello(hostFd);
      expect(hello.group).toMatchObject({ namespace: 'ns1', id: 'c1', socket });
      expect(readlinkSync(`/proc/self/fd/${fds[0]}`)).toBe(log);
      // The keeper: its own session, the group's socket as fd 3, its brain as fd 4, the log
      // as stderr, and nothing of the launcher's (containerd waits for EOF on start's pipes).
      const keeper = hello.keeperPid;
      expect(keeperOf(socket)).toBe(keeper);
      expect(readFileSync(`/proc/${keeper}/stat`, 'utf8').split(') ')[1]?.split(' ')[3]).toBe(String(keeper));
      const fdsOf = readdirSync(`/proc/${keeper}/fd`).map(Number).sort((x, y) => x - y);
      expect(fdsOf.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
      expect(['0', '1', '2'].map((n) => readlinkSync(`/proc/${keeper}/fd/${n}`))).toEqual(['/dev/null', '/dev/null', log]);
      await new Promise((r) => setTimeout(r, 200));
      expect(await launched(e, 0)).toEqual([]);
      for (const fd of [...fds, conn]) closeSync(fd);
    } finally {
      closeSync(hostFd);
      closeSync(logHold);
    }
  });

  it('attaches the keeper to the next brain when its brain goes before taking the group (one on its way out)', async () => {
    const e = env('host-leaving');
    const hostFd = unixListen(e.host);
    const r = await startLauncher(e, 'c1', { TSRUN_SHIM_SPARE: '0' }).done;
    expect(r.code).toBe(0);
    // What a brain whose last group just ended does: its path goes, then its socket, and
    // the keeper waiting in its backlog sees its connection close.
    unlinkSync(e.host);
    closeSync(hostFd);
    // The keeper starts the next brain itself.
    const argvs = await launched(e, 1);
    expect(argvs).toEqual([expect.stringContaining(`-brain ${e.host} -namespace ns1`)]);
    expect(await listening(e.host)).toBe(true);
    expect(keeperOf(groupSocket(e, 'c1'))).toBeGreaterThan(0);
  });

  it('with TSRUN_SHIM_HOST=0 gives each group a brain of its own, and makes no namespace brain', async () => {
    const e = env('host-off');
    const hostFd = unixListen(e.host);
    try {
      const r = await startLauncher(e, 'c1', { TSRUN_SHIM_HOST: '0', TSRUN_SHIM_SPARE: '0' }).done;
      expect(r.code).toBe(0);
      const argvs = await launched(e, 1);
      const own = path.join(e.sockets, `brain-${createHash('sha256').update(`${groupSocket(e, 'c1')}\n${repoRoot}`).digest('hex').slice(0, 48)}`);
      expect(argvs).toEqual([expect.stringContaining(`-brain ${own} -namespace ns1`)]);
      // The socket the test holds saw no connection.
      expect(takeAdoption(hostFd, 0)).toBeNull();
    } finally {
      closeSync(hostFd);
    }
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

  it('once adopted, serves the groups whose keepers attach, as the brain start would have launched, and its place goes to a new spare', async () => {
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
      // The adopted spare answers on the group's socket, through the group's keeper, which
      // Connect reports as the shim.
      const client = new Client(address);
      try {
        const reply = await client.unary(Task.method.connect, create(ConnectRequestSchema, { id: 'nothing-here' }));
        expect(reply.shimPid).toBe(keeperOf(address));
      } finally {
        await client.close();
      }
      // The namespace's brain now: ps shows its socket, no one group's id.
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').join(' ');
      expect(cmdline).toContain(`-brain ${e.host} -namespace ns1 -address ${ADDRESS} -publish-binary /usr/bin/containerd `);
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
        expect(reply.shimPid).toBe(keeperOf(address2));
        expect(reply.shimPid).not.toBe(keeperOf(address));
      } finally {
        await client2.close();
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(await launched(e, 1)).toEqual([expect.stringContaining(`-spare ${e.spare}`)]); // no brain, no second spare
      // SIGTERM ends every group: the keepers remove their sockets and exit, and so does the brain.
      const keepers = [keeperOf(address), keeperOf(address2)];
      child.kill('SIGTERM');
      await new Promise((resolve) => child.on('exit', resolve));
      for (const gone of [address, address2, e.host]) expect(existsSync(gone), gone).toBe(false);
      for (const pid of keepers) await until(`keeper ${pid} to exit`, () => !existsSync(`/proc/${pid}`));
    } finally {
      closeSync(logHold);
    }
  });
});
