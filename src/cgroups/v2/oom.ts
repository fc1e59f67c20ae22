// OOM notifications on v2: memory.events counts oom_kill; the kernel marks the file
// modified (inotify) when it changes, and cgroup.events says "populated 0" once every
// process of the cgroup is gone, which ends the watch.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { readCgroupFile, readKeyValues } from '../fs.js';

function oomKills(dir: string): bigint {
  try {
    return readKeyValues(dir, 'memory.events').get('oom_kill') ?? 0n;
  } catch {
    return 0n;
  }
}

function populated(dir: string): boolean {
  try {
    return !readCgroupFile(path.join(dir, 'cgroup.events')).split('\n').includes('populated 0');
  } catch {
    return false;
  }
}

export function watchOomV2(dir: string, onOom: () => void, onEnd: () => void): () => void {
  let seen = oomKills(dir);
  const watchers: FSWatcher[] = [];
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    for (const w of watchers) w.close();
  };
  const check = (): void => {
    if (stopped) return;
    const now = oomKills(dir);
    if (now > seen) {
      seen = now;
      onOom();
    }
    if (!populated(dir)) {
      stop();
      onEnd();
    }
  };
  watchers.push(watch(path.join(dir, 'memory.events'), check));
  watchers.push(watch(path.join(dir, 'cgroup.events'), check));
  check();
  return stop;
}
