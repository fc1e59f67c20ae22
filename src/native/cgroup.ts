// What the cgroup layer needs from the native core: the v2 device filter (eBPF) and
// eventfds for v1 notifications.
import { readSync } from 'node:fs';
import { constants as os } from 'node:os';
import { call, type DeviceException } from './addon.js';

const { EIO } = os.errno;

export type { DeviceException } from './addon.js';

/**
 * Builds a BPF_PROG_TYPE_CGROUP_DEVICE program (default action, then exceptions that take
 * the other action), attaches it to the cgroup and detaches the programs attached before.
 * Returns the number of instructions loaded.
 */
export function attachDeviceFilter(cgroupDir: string, defaultAllow: boolean, exceptions: DeviceException[]): number {
  return call((a) => a.attachDeviceFilter(cgroupDir, defaultAllow, exceptions));
}

/** Ids of the device programs attached to this cgroup itself. */
export function deviceFilters(cgroupDir: string): number[] {
  return call((a) => a.deviceFilters(cgroupDir));
}

export function eventfd(): number {
  return call((a) => a.eventfd());
}

/**
 * Calls onEvent(count) each time the eventfd is signalled; a negative count is -errno and
 * ends the watch. Returns the function that stops watching (the fd stays open). The fd is
 * watched on the addon's one epoll thread with every pidfd and socket: a watch per running
 * container (OOM) costs no thread.
 */
export function watchEventfd(fd: number, onEvent: (count: number) => void): () => void {
  let stopped = false;
  // The counter is 8 bytes in host byte order.
  const counter = new BigUint64Array(1);
  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        await call((a) => a.whenReadable(fd));
        if (stopped) return;
        // Readable: the counter is not 0, and this read takes it without blocking.
        readSync(fd, new Uint8Array(counter.buffer));
      } catch (err) {
        if (stopped) return;
        stopped = true;
        const errno = (err as { errno?: unknown }).errno;
        onEvent(typeof errno === 'number' && errno !== 0 ? -Math.abs(errno) : -EIO);
        return;
      }
      onEvent(Number(counter[0]));
    }
  };
  void loop();
  return () => {
    if (stopped) return;
    stopped = true;
    call((a) => a.cancelWatch(fd));
  };
}
