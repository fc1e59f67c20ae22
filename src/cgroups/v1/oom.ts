// OOM notifications on v1: an eventfd registered for memory.oom_control through
// cgroup.event_control. The kernel signals it on every OOM in the cgroup, and once more
// when the cgroup is removed, which is how the watch learns that it is over.
import { closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import { eventfd, watchEventfd } from '../../native/index.js';
import { writeCgroupFile } from '../fs.js';

export function watchOomV1(dir: string, onOom: () => void, onEnd: () => void): () => void {
  const efd = eventfd();
  let ofd: number;
  try {
    ofd = openSync(path.join(dir, 'memory.oom_control'), 'r');
    writeCgroupFile(path.join(dir, 'cgroup.event_control'), `${efd} ${ofd}`);
  } catch (err) {
    closeSync(efd);
    throw err;
  }
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    stopWatch();
    closeSync(efd);
    closeSync(ofd);
  };
  const stopWatch = watchEventfd(efd, (count) => {
    if (stopped) return;
    if (count < 0 || !existsSync(path.join(dir, 'cgroup.event_control'))) {
      stop();
      onEnd();
      return;
    }
    onOom();
  });
  return stop;
}
