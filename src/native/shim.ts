// The addon functions the shim server uses (cpp/napi/shim.cc), typed.
import { call, type Addon } from './addon.js';

interface ShimAddon {
  pipe(): [number, number];
  unixListen(path: string): number;
  acceptConn(listenFd: number, timeoutMs: number): number;
  acceptPending(listenFd: number): number | null;
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  umount(target: string, flags: number): boolean;
  pidfdExited(pidfd: number): boolean;
}

/** The shim server's functions of the addon, typed here where they are used. */
const shim = (addon: Addon): ShimAddon => addon as unknown as ShimAddon;

/** A pipe, both ends close-on-exec: [read end, write end]. */
export function pipe(): [number, number] {
  return call((a) => shim(a).pipe());
}

/** A unix stream socket listening at path (mode 0600). */
export function unixListen(path: string): number {
  return call((a) => shim(a).unixListen(path));
}

/** Accepts one connection on listenFd that has something to read, waiting at most timeoutMs. */
export function acceptConn(listenFd: number, timeoutMs: number): number {
  return call((a) => shim(a).acceptConn(listenFd, timeoutMs));
}

/** A connection waiting on listenFd, without blocking; undefined when none waits. */
export function acceptPending(listenFd: number): number | undefined {
  return call((a) => shim(a).acceptPending(listenFd)) ?? undefined;
}

export function mount(source: string, target: string, fstype: string, flags: number, data: string): void {
  call((a) => shim(a).mount(source, target, fstype, flags, data));
}

/** False when nothing is mounted at target. */
export function umount(target: string, flags: number): boolean {
  return call((a) => shim(a).umount(target, flags));
}

/** Whether the process behind pidfd has exited, without reaping it. */
export function pidfdExited(pidfd: number): boolean {
  return call((a) => shim(a).pidfdExited(pidfd));
}

export interface Adoption {
  /** the connection to answer on */
  conn: number;
  /** the fds that came with it, in order */
  fds: number[];
  data: Buffer;
}

interface SpareAddon {
  takeAdoption(listenFd: number, timeoutMs: number): Adoption | null;
  dup2(from: number, to: number): void;
}

const spare = (addon: Addon): SpareAddon => addon as unknown as SpareAddon;

/** Blocks until a launcher hands this spare a group on listenFd, or null after timeoutMs. */
export function takeAdoption(listenFd: number, timeoutMs: number): Adoption | null {
  return call((a) => spare(a).takeAdoption(listenFd, timeoutMs));
}

export function dup2(from: number, to: number): void {
  call((a) => spare(a).dup2(from, to));
}

export interface ChannelChunk {
  data: Buffer;
  fds: number[];
  /** the keeper is gone */
  eof: boolean;
}

interface ChannelAddon {
  channelRecv(fd: number): ChannelChunk;
  channelSend(fd: number, data: Buffer, fds: number[]): void;
}

const channel = (addon: Addon): ChannelAddon => addon as unknown as ChannelAddon;

/** Everything a keeper channel holds now (cpp/napi/channel.cc), without blocking. */
export function channelRecv(fd: number): ChannelChunk {
  return call((a) => channel(a).channelRecv(fd));
}

/** Writes all of data to a keeper channel, the fds with its first byte; blocks while the
 *  keeper reads, and fails (ETIMEDOUT) when it does not. */
export function channelSend(fd: number, data: Buffer, fds: number[]): void {
  call((a) => channel(a).channelSend(fd, data, fds));
}
