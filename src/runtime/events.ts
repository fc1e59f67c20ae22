// events: the container's statistics once or every interval, and an "oom" event for every
// OOM kill, as runc's events reports them (eventLine: its JSON line). The watch ends when
// the container's cgroups are gone.
import { encodeEvent, type Stats } from '../cgroups/stats.js';
import { FailedPrecondition, messageOf } from '../errors.js';
import { logger } from '../log.js';
import type { Container } from './container.js';

function requireLive(container: Container): void {
  if (container.status() === 'stopped') {
    throw new FailedPrecondition(`container with id ${container.id} is not running`, { containerId: container.id });
  }
}

/** A stats collection or an OOM kill, as runc's events reports them. */
export type ContainerEvent = { type: 'stats'; id: string; stats: Stats } | { type: 'oom'; id: string };

/** runc's JSON line for an event. */
export function eventLine(e: ContainerEvent): string {
  return e.type === 'stats' ? encodeEvent('stats', e.id, e.stats) : encodeEvent('oom', e.id);
}

export function statsEvent(container: Container): ContainerEvent {
  requireLive(container);
  return { type: 'stats', id: container.id, stats: container.cgroup().stats() };
}

/**
 * Emits events until the cgroups are removed (then ended()) or until the returned stop is
 * called. A failed collection is logged and the watch goes on, as runc's. An interval of 0
 * collects no statistics: OOM kills alone, until their watch ends with the cgroups.
 */
export function watchEvents(container: Container, intervalMs: number, emit: (e: ContainerEvent) => void, ended: (err?: unknown) => void): () => void {
  requireLive(container);
  const cgroup = container.cgroup();
  let timer: NodeJS.Timeout | undefined;
  let stopOom: (() => void) | undefined;
  let done = false;
  const stop = (): void => {
    done = true;
    if (timer) clearInterval(timer);
    stopOom?.();
  };
  const finish = (err?: unknown): void => {
    if (done) return;
    stop();
    ended(err);
  };
  try {
    stopOom = cgroup.watchOom(
      () => emit({ type: 'oom', id: container.id }),
      () => finish(),
    );
  } catch (err) {
    finish(err);
    return stop;
  }
  if (!(intervalMs > 0)) return stop;
  timer = setInterval(() => {
    if (!cgroup.exists()) {
      finish();
      return;
    }
    try {
      emit({ type: 'stats', id: container.id, stats: cgroup.stats() });
    } catch (err) {
      logger.error(messageOf(err));
    }
  }, intervalMs);
  return stop;
}
