// The keeper (containerd-shim-ts-v2 ... keep) without containerd: the test is its brain,
// through the brain's own KeeperLink, and containerd's ttrpc socket is a Server of ours. What
// the keeper holds for a group: processes it starts and reaps (orphans too, as subreaper),
// their stdio copied to fifos and files, exits reported after the output is drained, and
// events published in order, retried while containerd is away, dropped when refused.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants as fs, existsSync, openSync, readFileSync, readSync, realpathSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvelopeSchema, ForwardRequestSchema } from '../../../src/gen/containerd/services/events/ttrpc/v1/events_pb.js';
import { Output_Kind, type Hello } from '../../../src/gen/tsrun/keeper/v1/keeper_pb.js';
import { socketPair } from '../../../src/native/index.js';
import { unixListen } from '../../../src/native/shim.js';
import { KeeperLink, type KeeperExit } from '../../../src/shim/keeper/link.js';
import { Server } from '../../../src/ttrpc/server.js';
import { Code, TtrpcError } from '../../../src/ttrpc/status.js';
import { repoRoot } from '../../helpers/paths.js';
import { tempDirsPerTest } from '../../helpers/temp-dirs.js';

const launcher = realpathSync(path.join(repoRoot, 'bin', 'containerd-shim-ts-v2'));
const tempDir = tempDirsPerTest('keeper');
const running: Array<{ keeper: ChildProcess; link: KeeperLink }> = [];

afterEach(() => {
  for (const { keeper, link } of running.splice(0)) {
    link.close();
    keeper.kill('SIGKILL');
  }
});

interface Started {
  keeper: ChildProcess;
  link: KeeperLink;
  hello: Hello;
  dir: string;
}

/** A keeper for a group, with the test as its brain (welcomed once it said hello). */
async function startKeeper(env: Record<string, string> = {}): Promise<Started> {
  const dir = tempDir();
  const listen = unixListen(path.join(dir, 'group.sock'));
  const [brainEnd, keeperEnd] = socketPair();
  const keeper = spawn(launcher, ['-namespace', 'ns1', '-id', 'c1', '-address', path.join(dir, 'ctd.sock'), '-publish-binary', '/bin/false', '-socket', path.join(dir, 'group.sock'), 'keep'], {
    stdio: ['ignore', 'ignore', 'inherit', listen, keeperEnd],
    env: { PATH: process.env.PATH, ...env },
  });
  closeSync(listen);
  closeSync(keeperEnd);
  let helloOf: (h: Hello) => void = () => undefined;
  const hello = new Promise<Hello>((resolve) => (helloOf = resolve));
  const link = new KeeperLink(brainEnd, { hello: (h, logFd) => (logFd !== undefined && closeSync(logFd), helloOf(h)), connection: () => undefined, lost: () => undefined });
  running.push({ keeper, link });
  const h = await hello;
  link.welcome();
  return { keeper, link, hello: h, dir };
}

function mkfifo(file: string): void {
  spawnSync('mkfifo', [file]);
}

/** Runs argv (a host program) as the keeper's child with the stdio io holds; its pid. */
async function run(link: KeeperLink, io: { id: number; fds: number[] }, argv: string[]): Promise<number> {
  const exe = openSync(argv[0] as string, 'r');
  try {
    const sent = [exe, ...io.fds.slice(0, 3).filter((fd) => fd >= 0)];
    let next = 1;
    const slots = io.fds.slice(0, 3).map((fd) => (fd >= 0 ? next++ : -1));
    const { reply, fds } = await link.call('spawn', { argv, env: ['PATH=/usr/bin:/bin'], fds: slots }, sent);
    if (fds[0] !== undefined && fds[0] >= 0) closeSync(fds[0]);
    return reply.pid;
  } finally {
    closeSync(exe);
    for (const fd of io.fds) if (fd >= 0) closeSync(fd);
  }
}

describe('the keeper', () => {
  it('says hello with the group and its pid, and gives a welcomed brain nothing it did not ask for', async () => {
    const { hello, keeper } = await startKeeper();
    expect(hello.keeperPid).toBe(keeper.pid);
    expect(hello.group).toMatchObject({ namespace: 'ns1', id: 'c1' });
    // Single-threaded, and the subreaper of its group.
    const status = readFileSync(`/proc/${keeper.pid}/status`, 'utf8');
    expect(/^Threads:\s+(\d+)$/m.exec(status)?.[1]).toBe('1');
  });

  it('copies a process\'s stdout to a fifo and stderr to a file, and reports its exit after the last byte', async () => {
    const { link, dir } = await startKeeper();
    const fifo = path.join(dir, 'out');
    mkfifo(fifo);
    const reader = openSync(fifo, fs.O_RDONLY | fs.O_NONBLOCK);
    const writer = openSync(fifo, fs.O_WRONLY | fs.O_NONBLOCK);
    const holdReader = openSync(fifo, fs.O_RDONLY | fs.O_NONBLOCK);
    const errFile = path.join(dir, 'err.log');
    const errFd = openSync(errFile, 'a');
    const opened = await link.call('ioOpen', { io: 7, stdout: { kind: Output_Kind.FIFO }, stderr: { kind: Output_Kind.FILE } }, [writer, holdReader, errFd]);
    for (const fd of [writer, holdReader, errFd]) closeSync(fd);
    // 4 MiB through the fifo (the test reads it as the client would), then the exit.
    const pid = await run(link, { id: 7, fds: opened.fds }, ['/bin/sh', '-c', 'head -c 4194304 /dev/zero | tr "\\0" x; echo tail-of-stdout; echo on-stderr >&2; exit 3']);
    let got = '';
    const exit = link.exit(pid);
    let exited: KeeperExit | undefined;
    void exit.then((e) => (exited = e));
    // The fifo takes 64 KiB and nobody reads it yet: the process cannot be done, and its
    // exit, which waits for the output, cannot have come.
    await new Promise((r) => setTimeout(r, 300));
    expect(exited).toBeUndefined();
    const buf = Buffer.alloc(65536);
    const started = Date.now();
    while (!got.endsWith('tail-of-stdout\n') && Date.now() - started < 20_000) {
      try {
        const n = readSync(reader, buf, 0, buf.length, null);
        if (n > 0) got += buf.toString('latin1', 0, n);
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const e = await exit;
    expect(got.length).toBe(4194304 + 'tail-of-stdout\n'.length);
    expect(e).toMatchObject({ pid, code: 3, signal: 0 });
    expect(readFileSync(errFile, 'utf8')).toBe('on-stderr\n');
    closeSync(reader);
  });

  it('reaps orphans as the subreaper, and keeps the exit of one for a claim that comes late', async () => {
    const { link, keeper, dir } = await startKeeper();
    const out = path.join(dir, 'pid');
    const outFd = openSync(out, 'a');
    const opened = await link.call('ioOpen', { io: 9, stdout: { kind: Output_Kind.FILE } }, [outFd]);
    closeSync(outFd);
    // The subshell outlives sh, so it becomes the keeper's child.
    const pid = await run(link, { id: 9, fds: opened.fds }, ['/bin/sh', '-c', '(sleep 0.2; exit 4) & echo $!']);
    expect((await link.exit(pid)).code).toBe(0);
    link.ack(pid);
    const orphan = Number(readFileSync(out, 'utf8').trim());
    expect(orphan).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 600));
    expect(existsSync(`/proc/${orphan}`)).toBe(false); // reaped, not left a zombie
    link.expect(orphan);
    const { reply } = await link.call('claim', { pid: orphan, io: 0 });
    expect(reply.exited).toBe(true);
    expect(await link.exit(orphan)).toMatchObject({ pid: orphan, code: 4, signal: 0 });
    link.ack(orphan);
    expect(existsSync(`/proc/${keeper.pid}`)).toBe(true);
  });
});

// Events.Forward as containerd answers it, with what it took.
function fakeContainerd(socket: string, refuse: (topic: string) => boolean): { server: Server; topics: string[]; listening: Promise<unknown> } {
  const topics: string[] = [];
  const server = new Server();
  server.registerRaw('containerd.services.events.ttrpc.v1.Events', 'Forward', async (payload) => {
    const req = fromBinary(ForwardRequestSchema, payload);
    const topic = req.envelope?.topic ?? '';
    if (refuse(topic)) throw new TtrpcError(Code.InvalidArgument, 'refused');
    topics.push(topic);
    return new Uint8Array();
  });
  return { server, topics, listening: server.listen(socket) };
}

function event(topic: string): { topic: string; forward: Uint8Array; any: Uint8Array } {
  const envelope = create(EnvelopeSchema, { namespace: 'ns1', topic });
  return { topic, forward: toBinary(ForwardRequestSchema, create(ForwardRequestSchema, { envelope })), any: new Uint8Array() };
}

describe('the keeper\'s events', () => {
  it('publishes in order, keeps them while containerd is away, and drops one containerd refuses', async () => {
    const dir = tempDir();
    const ttrpc = path.join(dir, 'ctd.ttrpc');
    const { link } = await startKeeper({ TTRPC_ADDRESS: ttrpc });
    // containerd is not there yet: the events wait in the keeper.
    for (const t of ['/tasks/create', '/tasks/start', '/tasks/refused', '/tasks/exit']) link.publish(event(t));
    await new Promise((r) => setTimeout(r, 300));
    const ctd = fakeContainerd(ttrpc, (t) => t === '/tasks/refused');
    await ctd.listening;
    const deadline = Date.now() + 10_000;
    while (ctd.topics.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(ctd.topics).toEqual(['/tasks/create', '/tasks/start', '/tasks/exit']);
    ctd.server.close();
    if (existsSync(ttrpc)) unlinkSync(ttrpc);
  });
});
