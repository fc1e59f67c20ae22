// events: the container's statistics once (--stats) or every interval, and an "oom" event
// for every OOM kill, as runc's events prints them (one JSON object a line). The stream
// ends when the container's cgroups are gone.
import { encodeEvent } from '../cgroups/stats.js';
import { FailedPrecondition, InvalidArgument, messageOf } from '../errors.js';
import { logger } from '../log.js';
import type { Container } from './container.js';

function requireLive(container: Container): void {
  if (container.status() === 'stopped') {
    throw new FailedPrecondition(`container with id ${container.id} is not running`, { containerId: container.id });
  }
}

export function statsEvent(container: Container): string {
  requireLive(container);
  return encodeEvent('stats', container.id, container.cgroup().stats());
}

/** Emits lines until the cgroups are removed; resolves then. */
export function streamEvents(container: Container, intervalMs: number, emit: (line: string) => void): Promise<void> {
  requireLive(container);
  const cgroup = container.cgroup();
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let stop: (() => void) | undefined;
    const finish = (err?: unknown): void => {
      if (timer) clearInterval(timer);
      stop?.();
      if (err) reject(err);
      else resolve();
    };
    try {
      stop = cgroup.watchOom(
        () => emit(encodeEvent('oom', container.id)),
        () => finish(),
      );
    } catch (err) {
      finish(err);
      return;
    }
    timer = setInterval(() => {
      if (!cgroup.exists()) {
        finish();
        return;
      }
      try {
        emit(encodeEvent('stats', container.id, cgroup.stats()));
      } catch (err) {
        // As runc: a failed collection is logged and the stream goes on.
        logger.error(messageOf(err));
      }
    }, intervalMs);
  });
}

/** Go's time.ParseDuration for what callers pass to --interval ("5s", "100ms", "1m30s"). */
export function parseDuration(text: string, field: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  if (text === '0') return 0;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * (units[m[2] ?? ''] ?? 0);
    at = re.lastIndex;
  }
  if (at === 0 || at !== text.length) throw InvalidArgument.at(field, `invalid duration ${JSON.stringify(text)}`);
  return total;
}
