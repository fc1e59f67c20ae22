// OOM kills in a container's cgroup, for /tasks/oom. On cgroup v1 (hybrid hosts included:
// the v1 memory controller decides there) the kernel signals an eventfd registered through
// cgroup.event_control; on v2 memory.events' oom_kill counter grows.
import { closeSync, existsSync, openSync, readFileSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { CgroupPaths } from '../cgroups/manager.js';
import { messageOf } from '../errors.js';
import { logger } from '../log.js';
import { eventfd, unwatchEventfd, watchEventfd } from '../native/shim.js';

export interface OomWatch {
  stop(): void;
}

function memoryDir(paths: CgroupPaths): string | undefined {
  for (const [controllers, dir] of Object.entries(paths.v1)) if (controllers.split(',').includes('memory')) return dir;
  return undefined;
}

function watchV1(dir: string, onOom: () => void): OomWatch {
  const efd = eventfd();
  let control: number | undefined;
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    unwatchEventfd(efd);
    closeSync(efd);
    if (control !== undefined) closeSync(control);
  };
  try {
    control = openSync(path.join(dir, 'memory.oom_control'), 'r');
    writeFileSync(path.join(dir, 'cgroup.event_control'), `${efd} ${control}`);
    // The eventfd also fires when the cgroup goes away.
    watchEventfd(efd, (count) => {
      if (count < 0 || !existsSync(dir)) stop();
      else onOom();
    });
  } catch (err) {
    stop();
    throw err;
  }
  return { stop };
}

function oomKills(file: string): number {
  try {
    const m = /^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function watchV2(dir: string, onOom: () => void): OomWatch {
  const file = path.join(dir, 'memory.events');
  let seen = oomKills(file);
  const watcher: FSWatcher = watch(file, () => {
    const now = oomKills(file);
    if (now > seen) onOom();
    seen = Math.max(seen, now);
  });
  watcher.on('error', () => watcher.close());
  return { stop: () => watcher.close() };
}

/** Calls onOom for each OOM kill in the container's cgroup; undefined when there is no memory cgroup. */
export function watchOom(paths: CgroupPaths, onOom: () => void): OomWatch | undefined {
  try {
    const v1 = memoryDir(paths);
    if (v1) return watchV1(v1, onOom);
    if (paths.unified && Object.keys(paths.v1).length === 0 && existsSync(path.join(paths.unified, 'memory.events'))) {
      return watchV2(paths.unified, onOom);
    }
  } catch (err) {
    logger.warn(`watch for OOM kills: ${messageOf(err)}`);
  }
  return undefined;
}
