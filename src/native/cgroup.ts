// What the cgroup layer needs from the native core: the v2 device filter (eBPF) and
// eventfds for v1 notifications.
import { addon, call, type DeviceException } from './addon.js';

export type { DeviceException } from './addon.js';

/**
 * Builds a BPF_PROG_TYPE_CGROUP_DEVICE program (default action, then exceptions that take
 * the other action), attaches it to the cgroup and detaches the programs attached before.
 * Returns the number of instructions loaded.
 */
export function attachDeviceFilter(cgroupDir: string, defaultAllow: boolean, exceptions: DeviceException[]): number {
  return call(() => addon.attachDeviceFilter(cgroupDir, defaultAllow, exceptions));
}

/** Ids of the device programs attached to this cgroup itself. */
export function deviceFilters(cgroupDir: string): number[] {
  return call(() => addon.deviceFilters(cgroupDir));
}

export function eventfd(): number {
  return call(() => addon.eventfd());
}

/**
 * Calls onEvent(count) each time the eventfd is signalled; a negative count is -errno and
 * ends the watch. Returns the function that stops watching (the fd stays open).
 */
export function watchEventfd(fd: number, onEvent: (count: number) => void): () => void {
  return call(() => addon.watchEventfd(fd, onEvent));
}
