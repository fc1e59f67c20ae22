// The addon functions the shim server uses (cpp/napi/shim.cc), typed.
import { addon, call } from './addon.js';

interface ShimAddon {
  pipe(): [number, number];
  unixListen(path: string): number;
  recvFd(listenFd: number, timeoutMs: number): { fd: number; name: string };
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  umount(target: string, flags: number): boolean;
  setWinsize(fd: number, rows: number, cols: number): void;
  pidfdExited(pidfd: number): boolean;
  eventfd(): number;
  watchEventfd(fd: number, onFire: (count: number) => void): void;
  unwatchEventfd(fd: number): void;
}

const shim = addon as unknown as ShimAddon;

/** A pipe, both ends close-on-exec: [read end, write end]. */
export function pipe(): [number, number] {
  return call(() => shim.pipe());
}

/** A unix stream socket listening at path (mode 0600). */
export function unixListen(path: string): number {
  return call(() => shim.unixListen(path));
}

/** Accepts one connection on listenFd and returns the one fd it sends (runc's console socket protocol). */
export function recvFd(listenFd: number, timeoutMs: number): { fd: number; name: string } {
  return call(() => shim.recvFd(listenFd, timeoutMs));
}

export function mount(source: string, target: string, fstype: string, flags: number, data: string): void {
  call(() => shim.mount(source, target, fstype, flags, data));
}

/** False when nothing is mounted at target. */
export function umount(target: string, flags: number): boolean {
  return call(() => shim.umount(target, flags));
}

export function setWinsize(fd: number, rows: number, cols: number): void {
  call(() => shim.setWinsize(fd, rows, cols));
}

/** Whether the process behind pidfd has exited, without reaping it. */
export function pidfdExited(pidfd: number): boolean {
  return call(() => shim.pidfdExited(pidfd));
}

/** A non-blocking, close-on-exec eventfd. */
export function eventfd(): number {
  return call(() => shim.eventfd());
}

/** Calls onFire with the counter each time the eventfd fires; -1 when it cannot be read any more. */
export function watchEventfd(fd: number, onFire: (count: number) => void): void {
  call(() => shim.watchEventfd(fd, onFire));
}

export function unwatchEventfd(fd: number): void {
  call(() => shim.unwatchEventfd(fd));
}
