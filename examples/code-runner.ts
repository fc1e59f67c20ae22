// A tiny code runner on tsrun's library: a shell snippet runs in a throwaway container made
// from a read-only busybox rootfs, with a memory limit, a pid limit, no network, a private
// /tmp and a timeout, and its output comes back. Each run is its own container, deleted
// afterwards whatever happened.
//
//   import { runSnippet } from './code-runner.js';
//   const r = await runSnippet('echo hi; exit 3', { rootfs: '/srv/busybox/rootfs' });
//   // { stdout: 'hi\n', stderr: '', exitCode: 3, timedOut: false, oomKilled: false }
//
// As a program (as root): node code-runner.js <rootfs> '<snippet>'
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { Runtime, spec } from 'tsrun';

export interface RunOptions {
  /** A busybox (or any) root filesystem; it is mounted read-only, so many runs share it. */
  rootfs: string;
  /** 64 MiB by default; the snippet is killed by the kernel past it (no swap). */
  memoryBytes?: number;
  /** 5 s by default; past it the container is killed. */
  timeoutMs?: number;
  /** Output kept per stream; 1 MiB by default, the rest is dropped. */
  maxOutputBytes?: number;
  /** Where the runner keeps container state (the CLI's --root); tsrun's default by default. */
  stateRoot?: string;
  /** The cgroup the sandboxes go under ("/sandboxes"); by default each is /<its id>, as runc places it. */
  cgroupParent?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** The shell's exit status; 128 + n when signal n ended it. */
  exitCode: number | null;
  signal?: string;
  timedOut: boolean;
  oomKilled: boolean;
}

function capture(stream: Readable | null, max: number): () => string {
  const chunks: Buffer[] = [];
  let size = 0;
  stream?.on('data', (d: Buffer) => {
    if (size < max) chunks.push(d.subarray(0, max - size));
    size += d.length;
  });
  return () => Buffer.concat(chunks).toString('utf8');
}

/** runc's default config, made into a sandbox for one snippet. */
function sandboxConfig(id: string, snippet: string, o: Required<Pick<RunOptions, 'rootfs' | 'memoryBytes'>> & Pick<RunOptions, 'cgroupParent'>): Record<string, unknown> {
  const config = spec() as {
    process: Record<string, unknown>;
    mounts: Record<string, unknown>[];
    linux: Record<string, unknown>;
    [k: string]: unknown;
  };
  config.process = { ...config.process, terminal: false, args: ['/bin/sh', '-c', snippet], cwd: '/tmp', env: ['PATH=/bin:/usr/bin', 'HOME=/tmp'], user: { uid: 65534, gid: 65534 } };
  config.root = { path: path.resolve(o.rootfs), readonly: true };
  config.hostname = 'sandbox';
  config.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=16m', 'mode=1777'] });
  // runc's default has its own network namespace with nothing in it: no network.
  config.linux.resources = { ...(config.linux.resources as object), memory: { limit: o.memoryBytes, swap: o.memoryBytes }, pids: { limit: 64 } };
  if (o.cgroupParent) config.linux.cgroupsPath = `${o.cgroupParent}/${id}`;
  return config;
}

export async function runSnippet(snippet: string, opts: RunOptions): Promise<RunResult> {
  const bundle = mkdtempSync(path.join(tmpdir(), 'code-runner-'));
  const rt = new Runtime({ root: opts.stateRoot });
  const id = `snippet-${randomUUID()}`;
  try {
    const config = sandboxConfig(id, snippet, { rootfs: opts.rootfs, memoryBytes: opts.memoryBytes ?? 64 << 20, cgroupParent: opts.cgroupParent });
    writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
    const c = await rt.run(id, { bundle, stdio: ['ignore', 'pipe', 'pipe'] });
    const max = opts.maxOutputBytes ?? 1 << 20;
    const stdout = capture(c.stdout, max);
    const stderr = capture(c.stderr, max);
    // OOM kills come as events while the container lives; the loop ends when we break it.
    let oomKilled = false;
    const events = c.events({ interval: 60_000 });
    const watching = (async () => {
      for await (const e of events) if (e.type === 'oom') oomKilled = true;
    })().catch(() => undefined);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void c.kill('KILL', { all: true }).catch(() => undefined);
    }, opts.timeoutMs ?? 5000);
    const exit = await c.wait();
    clearTimeout(timer);
    // The OOM event, when there is one, is delivered before the exit it causes.
    await new Promise((r) => setImmediate(r));
    await events.return?.();
    await watching;
    return { stdout: stdout(), stderr: stderr(), exitCode: exit.exitCode, ...(exit.signal ? { signal: exit.signal } : {}), timedOut, oomKilled };
  } finally {
    await rt.delete(id, { force: true }).catch(() => undefined);
    rmSync(bundle, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [rootfs, snippet] = process.argv.slice(2);
  if (!rootfs || !snippet) {
    console.error("usage: node code-runner.js <rootfs> '<snippet>'");
    process.exit(2);
  }
  console.log(JSON.stringify(await runSnippet(snippet, { rootfs }), null, 2));
}
