// What the CRI tests read besides CRI's answers: containerd's verbose JSON, /proc, cgroup
// files, and the streaming server from inside containerd's network namespace.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CriClient } from './client.js';
import type { CriEnv } from './env.js';
import { ContainerState } from './gen/runtime/v1/api_pb.js';
import { repoRoot } from '../paths.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The part of containerd's verbose status (info["info"]) the tests read. */
export interface Verbose {
  pid: number;
  runtimeSpec: { linux?: { cgroupsPath?: string; namespaces?: { type: string; path?: string }[] } };
}

export function verbose(info: Record<string, string>): Verbose {
  const text = info.info;
  if (text === undefined) throw new Error(`no verbose info: ${JSON.stringify(info)}`);
  return JSON.parse(text) as Verbose;
}

export function ppid(pid: number): number {
  const m = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no PPid for ${pid}`);
  return Number(m[1]);
}

export function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
}

/** A file of a v1 controller's cgroup. */
export function cgroupFile(controller: string, cgroupsPath: string, file: string): string {
  return readFileSync(path.join('/sys/fs/cgroup', controller, cgroupsPath, file), 'utf8').trim();
}

export async function waitState(cri: CriClient, containerId: string, state: ContainerState, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status } = await cri.runtime.containerStatus({ containerId });
    if (status?.state === state) return;
    if (Date.now() > deadline) throw new Error(`${containerId} stays ${ContainerState[status?.state ?? ContainerState.CONTAINER_UNKNOWN]}`);
    await sleep(50);
  }
}

/** An HTTP GET from inside containerd's network namespace: the status line's code. */
export function getInNetns(env: CriEnv, url: string): number {
  const script = `require('http').get(${JSON.stringify(url)}, (r) => { console.log(r.statusCode); r.resume(); }).on('error', (e) => { console.log('error ' + e.message); });`;
  const out = env.inNetns([process.execPath, '-e', script]).trim();
  const code = Number(out);
  if (!Number.isInteger(code)) throw new Error(`GET ${url}: ${out}`);
  return code;
}

export interface Streamed {
  stdout: string;
  stderr: string;
  status: { status?: string; reason?: string; details?: { causes?: { reason?: string; message?: string }[] } } | null;
}

/** Runs an Exec URL to the end over WebSocket (helpers/cri/ws-exec.mjs) inside containerd's namespace. */
export function streamInNetns(env: CriEnv, url: string, size?: string): Streamed {
  const client = path.join(repoRoot, 'test', 'helpers', 'cri', 'ws-exec.mjs');
  return JSON.parse(env.inNetns([process.execPath, client, url, ...(size ? [size] : [])])) as Streamed;
}
