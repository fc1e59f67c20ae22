// containerd-shim-ts-v2, the native launcher, without containerd and without root: its
// command line, what `start` prints and where it puts the group's keeper and the brain (a
// stand-in that records how it was started), grouping, and `delete` with and without a live
// server.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteRequestSchema, DeleteResponseSchema } from '../../../src/gen/containerd/task/v2/shim_pb.js';
import { CLEANUP_METHOD, CLEANUP_SERVICE } from '../../../src/shim/cleanup-service.js';
import { Server } from '../../../src/ttrpc/server.js';
import { repoRoot, shimServerScript } from '../../helpers/paths.js';
import { processesMatching } from '../../helpers/shim-containerd.js';

const launcher = path.join(repoRoot, 'bin', 'containerd-shim-ts-v2');
let work: string;
let fakeNode: string;
const serverPids: number[] = [];

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'tsrun-launcher-'));
  // Stands in for node: records how it was started, then holds the listening socket (fd 3).
  fakeNode = path.join(work, 'fake-node');
  writeFileSync(
    fakeNode,
    [
      '#!/bin/sh',
      'out="$FAKE_OUT/server.$$"',
      '{',
      '  echo "argv $*"',
      '  echo "ttrpc $TTRPC_ADDRESS"',
      '  echo "ca ${NODE_EXTRA_CA_CERTS-unset} ${TSRUN_SHIM_NODE_EXTRA_CA_CERTS-unset}"',
      '  echo "sid $(cut -d" " -f6 /proc/$$/stat)"',
      '} > "$out.tmp" && mv "$out.tmp" "$out"',
      'exec sleep 60',
    ].join('\n'),
  );
  chmodSync(fakeNode, 0o755);
});

afterAll(() => {
  // The keepers the launchers forked, and the stand-ins.
  for (const pid of [...serverPids, ...processesMatching(realpathSync(launcher), work, 'keep')]) {
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
}

function env(name: string): Env {
  const dir = path.join(work, name);
  const e = { dir, sockets: path.join(dir, 's'), out: path.join(dir, 'out') };
  mkdirSync(e.out, { recursive: true });
  return e;
}

function bundle(e: Env, id: string, annotations: Record<string, string> = {}): string {
  const b = path.join(e.dir, 'bundles', id);
  mkdirSync(b, { recursive: true });
  writeFileSync(path.join(b, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', annotations }));
  return b;
}

function run(e: Env, args: string[], cwd: string, extraEnv: Record<string, string> = {}) {
  return spawnSync(launcher, args, {
    cwd,
    // No warm spare and no host here (launcher-spare.test.ts has those): one stand-in per
    // server, as each group gets with TSRUN_SHIM_HOST=0.
    env: { PATH: process.env.PATH, TTRPC_ADDRESS: '/run/ctd.sock.ttrpc', TSRUN_NODE: fakeNode, FAKE_OUT: e.out, TSRUN_SHIM_SOCKET_DIR: e.sockets, TSRUN_SHIM_SPARE: '0', TSRUN_SHIM_HOST: '0', ...extraEnv },
    input: '',
    timeout: 10_000,
  });
}

const startArgs = (id: string) => ['-namespace', 'ns1', '-address', '/run/ctd.sock', '-publish-binary', '/usr/bin/containerd', '-id', id, 'start'];

function expectedSocket(e: Env, group: string): string {
  return path.join(e.sockets, createHash('sha256').update(`/run/ctd.sock/ns1/${group}`).digest('hex'));
}

/** What fd n of a process is, or '' when it has none. */
function fdOf(pid: number, n: number): string {
  try {
    return readlinkSync(`/proc/${pid}/fd/${n}`);
  } catch {
    return '';
  }
}

/** The records of the stand-in servers started so far, waiting until count have written one. */
async function servers(e: Env, count: number): Promise<string[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const files = readdirSync(e.out).filter((f) => /^server\.\d+$/.test(f));
    if (files.length >= count || Date.now() > deadline) {
      for (const f of files) {
        const pid = Number(f.split('.')[1]);
        if (!serverPids.includes(pid)) serverPids.push(pid);
      }
      return files.map((f) => readFileSync(path.join(e.out, f), 'utf8'));
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('launcher command line', () => {
  it('prints its version for -v and -version', () => {
    const e = env('version');
    for (const flag of ['-v', '--version']) {
      const r = run(e, [flag], work);
      expect(r.status).toBe(0);
      expect(r.stdout.toString()).toMatch(/^containerd-shim-ts-v2:\n {2}Version: {2}\d+\.\d+\.\d+\n$/);
    }
  });

  it('refuses unknown flags, flags without values and unknown actions, as Go flag does', () => {
    const e = env('flags');
    const bad = run(e, ['-bogus', 'start'], work);
    expect(bad.status).toBe(1);
    expect(bad.stderr.toString()).toContain('flag provided but not defined: -bogus');
    const missing = run(e, ['-namespace'], work);
    expect(missing.stderr.toString()).toContain('flag needs an argument: -namespace');
    const action = run(e, ['-id', 'x', 'teleport'], work);
    expect(action.stderr.toString()).toContain('unknown action "teleport"');
    const boolValue = run(e, ['-debug=maybe', 'start'], work);
    expect(boolValue.stderr.toString()).toContain('invalid boolean value "maybe" for -debug');
  });

  it('takes -flag=value, --flag value, and stops at the first non-flag', async () => {
    const e = env('forms');
    const b = bundle(e, 'c1');
    const r = run(e, ['--namespace=ns1', '-address=/run/ctd.sock', '--id', 'c1', '-debug=true', 'start', '-ignored'], b);
    expect(r.stderr.toString()).toBe('');
    expect(r.status).toBe(0);
    const [record] = await servers(e, 1);
    expect(record).toContain('-namespace ns1 -address /run/ctd.sock');
    expect(record).toMatch(/-debug$/m);
  });
});

describe('launcher start', { timeout: 30_000 }, () => {
  it('prints only the address, writes it to the bundle, and leaves the brain its own session and no pipe of ours', async () => {
    const e = env('start');
    const b = bundle(e, 'c1');
    // containerd holds the log fifo open read-write; the server writes its log there.
    spawnSync('mkfifo', [path.join(b, 'log')]);
    const log = openSync(path.join(b, 'log'), 'r+');
    try {
      const started = Date.now();
      const child = spawn(launcher, startArgs('c1'), {
        cwd: b,
        env: { PATH: process.env.PATH, TTRPC_ADDRESS: '/run/ctd.sock.ttrpc', TSRUN_NODE: fakeNode, FAKE_OUT: e.out, TSRUN_SHIM_SOCKET_DIR: e.sockets, TSRUN_SHIM_SPARE: '0' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      child.stdin.end();
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      // 'close' needs EOF on both pipes: the server must not have kept them.
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(Date.now() - started).toBeLessThan(3000);
      expect(code).toBe(0);
      expect(err).toBe('');
      const socket = expectedSocket(e, 'c1');
      expect(out).toBe(`unix://${socket}`);
      expect(readFileSync(path.join(b, 'address'), 'utf8')).toBe(`unix://${socket}`);
      const [record] = await servers(e, 1);
      // No brain yet for ns1: the namespace's brain starts, its socket as fd 3.
      const host = path.join(e.sockets, `host-${createHash('sha256').update(`/run/ctd.sock\nns1\n${repoRoot}`).digest('hex').slice(0, 48)}`);
      expect(record).toContain(`argv --max-semi-space-size=1 --lite-mode --no-expose-wasm --v8-pool-size=1 --single-threaded-gc --gc-memory-reducer-start-delay-ms=1000 --bytecode-old-age=1 ${shimServerScript} -brain ${host} -namespace ns1 -address /run/ctd.sock -publish-binary /usr/bin/containerd\n`);
      expect(record).toContain('ttrpc /run/ctd.sock.ttrpc');
      const pid = Number(/^sid (\d+)$/m.exec(record ?? '')?.[1]);
      expect(serverPids).toContain(pid);
      const listening = expect.stringMatching(/^socket:\[\d+\]$/);
      expect([0, 1, 2, 3, 4].map((n) => fdOf(pid, n))).toEqual(['/dev/null', '/dev/null', path.join(b, 'log'), listening, '']);
      // The group's socket answers (its keeper holds it listening) and is for us alone.
      await new Promise<void>((resolve, reject) => net.createConnection(socket).once('connect', resolve).once('error', reject));
    } finally {
      closeSync(log);
    }
  });

  it('runs node with TSRUN_SHIM_NODE_FLAGS in place of its default flags', async () => {
    const e = env('flags-env');
    expect(run(e, startArgs('c1'), bundle(e, 'c1'), { TSRUN_SHIM_NODE_FLAGS: ' --a  --b=1 ' }).status).toBe(0);
    const [record] = await servers(e, 1);
    expect(record).toContain(`argv --a --b=1 ${shimServerScript} -brain `);
  });

  it('starts node without NODE_EXTRA_CA_CERTS, which the server gets back under another name', async () => {
    const e = env('ca-certs');
    expect(run(e, startArgs('c1'), bundle(e, 'c1'), { NODE_EXTRA_CA_CERTS: '/etc/x.pem', TSRUN_SHIM_NODE_EXTRA_CA_CERTS: '/stale' }).status).toBe(0);
    const [record] = await servers(e, 1);
    expect(record).toContain('ca unset /etc/x.pem\n');
  });

  it('gives the brain /dev/null as stderr when there is no log fifo', async () => {
    const e = env('nolog');
    const b = bundle(e, 'c1');
    expect(run(e, startArgs('c1'), b).status).toBe(0);
    const [record] = await servers(e, 1);
    expect(fdOf(Number(/^sid (\d+)$/m.exec(record ?? '')?.[1]), 2)).toBe('/dev/null');
  });

  it('puts the containers of one pod in one group, and others in their own', async () => {
    const e = env('group');
    const a = run(e, startArgs('a'), bundle(e, 'a', { 'io.kubernetes.cri.sandbox-id': 'pod1' }));
    const b = run(e, startArgs('b'), bundle(e, 'b', { 'io.kubernetes.cri.sandbox-id': 'pod1' }));
    const c = run(e, startArgs('c'), bundle(e, 'c'));
    expect(a.stdout.toString()).toBe(`unix://${expectedSocket(e, 'pod1')}`);
    expect(b.stdout.toString()).toBe(a.stdout.toString());
    expect(c.stdout.toString()).toBe(`unix://${expectedSocket(e, 'c')}`);
    expect(readFileSync(path.join(e.dir, 'bundles', 'b', 'address'), 'utf8')).toBe(a.stdout.toString());
    await new Promise((r) => setTimeout(r, 200));
    expect(await servers(e, 2)).toHaveLength(2);
  });

  it('prefers our group annotation, then runc\'s, then the sandbox id', () => {
    const e = env('annotations');
    const ours = run(e, startArgs('x'), bundle(e, 'x', { 'io.containerd.ts.v2.group': 'g1', 'io.containerd.runc.v2.group': 'g2', 'io.kubernetes.cri.sandbox-id': 'p' }));
    const runcs = run(e, startArgs('y'), bundle(e, 'y', { 'io.containerd.runc.v2.group': 'g2', 'io.kubernetes.cri.sandbox-id': 'p' }));
    expect(ours.stdout.toString()).toBe(`unix://${expectedSocket(e, 'g1')}`);
    expect(runcs.stdout.toString()).toBe(`unix://${expectedSocket(e, 'g2')}`);
  });

  it('groups a whole namespace on one socket with TSRUN_SHIM_GROUPING=namespace', () => {
    const e = env('namespace');
    const grouping = { TSRUN_SHIM_GROUPING: 'namespace' };
    const a = run(e, startArgs('a'), bundle(e, 'a'), grouping);
    const b = run(e, startArgs('b'), bundle(e, 'b'), grouping);
    const pod = run(e, startArgs('p'), bundle(e, 'p', { 'io.kubernetes.cri.sandbox-id': 'pod1' }), grouping);
    expect(a.stdout.toString()).toBe(`unix://${expectedSocket(e, '')}`);
    expect(b.stdout.toString()).toBe(a.stdout.toString());
    expect(pod.stdout.toString()).toBe(`unix://${expectedSocket(e, 'pod1')}`);
  });

  it('replaces the socket of a dead keeper', async () => {
    const e = env('stale');
    mkdirSync(e.sockets, { recursive: true });
    const socket = expectedSocket(e, 'c1');
    // A socket file nobody listens on any more.
    spawnSync('python3', ['-c', `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(socket)})`]);
    expect(existsSync(socket)).toBe(true);
    const r = run(e, startArgs('c1'), bundle(e, 'c1'));
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe(`unix://${socket}`);
    expect(await servers(e, 1)).toHaveLength(1);
  });

  it('fails with a message naming config.json when the bundle has none', () => {
    const e = env('noconfig');
    mkdirSync(path.join(e.dir, 'empty'), { recursive: true });
    const r = run(e, startArgs('c1'), path.join(e.dir, 'empty'));
    expect(r.status).toBe(1);
    expect(r.stderr.toString()).toContain('read config.json in the bundle');
  });

  it('hashes the address, namespace and group the way containerd\'s shims do', () => {
    const e = env('hash');
    const r = run(e, ['-namespace', 'default', '-address', '/run/containerd/containerd.sock', '-id', 'c1', 'start'], bundle(e, 'c1'));
    expect(path.basename(r.stdout.toString())).toBe(createHash('sha256').update('/run/containerd/containerd.sock/default/c1').digest('hex'));
  });
});

// These run node (tsrun delete, or its start-up): fixed work, but seconds on a loaded machine.
describe('launcher delete', { timeout: 30_000 }, () => {
  const deleteArgs = (id: string, b: string) => ['-namespace', 'ns1', '-address', '/run/ctd.sock', '-publish-binary', '/usr/bin/containerd', '-id', id, '-bundle', b, 'delete'];

  it('asks a live server and prints its DeleteResponse as it is', async () => {
    const e = env('delete-live');
    const b = bundle(e, 'c1');
    const sock = path.join(e.dir, 'server.sock');
    const asked: string[] = [];
    const server = new Server();
    server.registerRaw(CLEANUP_SERVICE, CLEANUP_METHOD, (payload) => {
      asked.push(fromBinary(DeleteRequestSchema, payload).id);
      return toBinary(DeleteResponseSchema, create(DeleteResponseSchema, { pid: 4321, exitStatus: 3, exitedAt: timestampFromDate(new Date(5000)) }));
    });
    await server.listen(sock);
    try {
      writeFileSync(path.join(b, 'address'), `unix://${sock}`);
      const r = await new Promise<{ code: number | null; out: Buffer; err: string }>((resolve) => {
        const child = spawn(launcher, deleteArgs('c1', b), { cwd: b, env: { PATH: process.env.PATH, TSRUN_SHIM_ROOT: path.join(e.dir, 'root') } });
        const chunks: Buffer[] = [];
        let err = '';
        child.stdout.on('data', (d: Buffer) => chunks.push(d));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (code) => resolve({ code, out: Buffer.concat(chunks), err }));
      });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(asked).toEqual(['c1']);
      expect(fromBinary(DeleteResponseSchema, r.out)).toMatchObject({ pid: 4321, exitStatus: 3, exitedAt: { seconds: 5n, nanos: 0 } });
    } finally {
      server.close();
    }
  });

  it('answers for a dead server with 137 and the time, and removes its stale socket', async () => {
    const e = env('delete-dead');
    const b = bundle(e, 'c1');
    const sock = path.join(e.dir, 'dead.sock');
    spawnSync('python3', ['-c', `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(sock)})`]);
    writeFileSync(path.join(b, 'address'), `unix://${sock}`);
    const before = Math.floor(Date.now() / 1000);
    const r = spawnSync(launcher, deleteArgs('c1', b), { cwd: b, env: { PATH: process.env.PATH, TSRUN_SHIM_ROOT: path.join(e.dir, 'root') } });
    expect(r.stderr.toString()).toBe('');
    expect(r.status).toBe(0);
    const resp = fromBinary(DeleteResponseSchema, r.stdout);
    expect(resp.pid).toBe(0);
    expect(resp.exitStatus).toBe(137);
    expect(Number(resp.exitedAt?.seconds)).toBeGreaterThanOrEqual(before);
    expect(existsSync(sock)).toBe(false);
  });

  it('removes the state a dead server left, through tsrun delete --force, and reports the init pid', () => {
    const e = env('delete-state');
    const b = bundle(e, 'c1');
    const root = path.join(e.dir, 'root');
    const dir = path.join(root, 'ns1', 'c1');
    mkdirSync(dir, { recursive: true });
    // A container whose init is long gone (the start time does not match).
    writeFileSync(
      path.join(dir, 'state.json'),
      JSON.stringify({
        id: 'c1', bundle: b, rootfs: path.join(b, 'rootfs'), pid: 4242, pidStartTime: '1', created: new Date().toISOString(), owner: 'root',
        annotations: {}, cgroupPaths: { v1: {}, unified: path.join(e.dir, 'no-such-cgroup') }, ownPidNamespace: true, config: { ociVersion: '1.0.2' },
      }),
    );
    const r = spawnSync(launcher, deleteArgs('c1', b), { cwd: b, env: { PATH: process.env.PATH, TSRUN_SHIM_ROOT: root }, timeout: 20_000 });
    expect(r.stderr.toString()).toBe('');
    expect(r.status).toBe(0);
    expect(fromBinary(DeleteResponseSchema, r.stdout)).toMatchObject({ pid: 4242, exitStatus: 137 });
    expect(existsSync(dir)).toBe(false);
  });

  it('finds the state root a Create with options.root named, through <bundle>/runtime-root', () => {
    const e = env('delete-root');
    const b = bundle(e, 'c1');
    const base = path.join(e.dir, 'custom');
    mkdirSync(path.join(base, 'ns1', 'c1'), { recursive: true });
    writeFileSync(path.join(b, 'runtime-root'), base);
    const r = spawnSync(launcher, deleteArgs('c1', b), { cwd: b, env: { PATH: process.env.PATH, TSRUN_SHIM_ROOT: path.join(e.dir, 'other') }, timeout: 20_000 });
    expect(r.status).toBe(0);
    // A half-created container (directory, no state.json) goes too.
    expect(existsSync(path.join(base, 'ns1', 'c1'))).toBe(false);
  });
});
