// The typed face of the native core: the rest of src/ reaches the native layer through this
// file alone (the architecture test holds it to that), and the addon through addon.ts's call().
import { call, type RawExit } from './addon.js';

export { InitProcess, sealedInit, spawnHere, type InitRecord, type Spawned, type SpawnRequest, type StartInitOptions } from './init-process.js';
export * from './wire.js';
export * from './seccomp.js';
export * from './shim.js';
export * from './lazy.js';
export { errnoText, initPath, buildDir } from './addon.js';
export * from './cgroup.js';
export * from './dbus.js';
export * from './cli-server.js';

export type ProcessExit = RawExit;

/** 128 + signal for a killed process, its status otherwise: what shells and runc report. */
export function exitCodeOf(e: ProcessExit): number {
  return e.signal ? 128 + e.signal : e.code;
}

/** Resolves when the process behind pidfd exits (reaping it when it is our child). */
export function waitExit(pidfd: number): Promise<ProcessExit> {
  return call((a) => a.waitPidfd(pidfd));
}

/** Resolves once fd is readable or hung up (watched on the same thread as waitExit's pidfds). */
export function whenReadable(fd: number): Promise<void> {
  return call((a) => a.whenReadable(fd));
}

/** Ends a whenReadable watch of fd (its promise resolves) before fd is closed. */
export function cancelWatch(fd: number): void {
  call((a) => a.cancelWatch(fd));
}

/** Reaps now if exited (or blocks until it does); null when still running. */
export function reap(pidfd: number, block: boolean): ProcessExit | null {
  return call((a) => a.reapPidfd(pidfd, block));
}

export function pidfdOpen(pid: number): number {
  return call((a) => a.pidfdOpen(pid));
}

export function pidfdSendSignal(pidfd: number, signal: number): void {
  call((a) => a.pidfdSendSignal(pidfd, signal));
}

export function setChildSubreaper(on: boolean): void {
  call((a) => a.setChildSubreaper(on));
}

/** The wall clock in nanoseconds since the epoch (Date has milliseconds only). */
export function realtimeNanoseconds(): bigint {
  return call((a) => a.realtimeNs());
}

export function mkfifo(path: string, mode: number): void {
  call((a) => a.mkfifo(path, mode));
}

export function openPath(path: string): number {
  return call((a) => a.openPath(path));
}

export function unixConnect(path: string): number {
  return call((a) => a.unixConnect(path));
}

export function recvFd(socketFd: number): { fd: number; name: string } {
  return call((a) => a.recvFd(socketFd));
}

export function getWinsize(fd: number): { rows: number; cols: number } | null {
  return call((a) => a.getWinsize(fd));
}

export function setWinsize(fd: number, rows: number, cols: number): void {
  call((a) => a.setWinsize(fd, rows, cols));
}

export function socketPair(): [number, number] {
  return call((a) => a.socketPair());
}
