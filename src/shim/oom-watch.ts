// /tasks/oom for each OOM kill in a container's cgroup, from the library's events without
// statistics, until the cgroup goes or the returned stop is called.
import type { Runtime } from '../api/index.js';
import { TaskOOMSchema } from '../gen/containerd/events/task_pb.js';
import { FailedPrecondition, messageOf } from '../errors.js';
import { logger } from '../log.js';
import type { EventSink } from './events.js';

export function watchOomKills(rt: Runtime, id: string, events: EventSink): () => void {
  const kills = rt.events(id, { stats: false });
  let ended = false;
  void (async () => {
    try {
      for await (const e of kills) if (e.type === 'oom') events.publish('/tasks/oom', TaskOOMSchema, { containerId: id });
    } catch (err) {
      // A container that ended before its watch began (`true`) has no OOM kill left to report.
      if (err instanceof FailedPrecondition) logger.debug(`watch ${id} for OOM kills: ${messageOf(err)}`);
      else logger.warn(`watch ${id} for OOM kills: ${messageOf(err)}`);
    } finally {
      ended = true;
    }
  })();
  return () => {
    if (ended) return;
    ended = true;
    void kills.return?.();
  };
}
