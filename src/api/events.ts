// A container's events as an async iterator: statistics every interval and OOM kills,
// until its cgroups are gone or the caller's loop ends (which stops the watch).
import { InvalidArgument } from '../errors.js';
import type { Container } from '../runtime/container.js';
import { watchEvents, type ContainerEvent } from '../runtime/events.js';

export type { ContainerEvent };

export interface EventsOptions {
  /** Milliseconds between statistics; 5000 by default, as runc's --interval. */
  interval?: number;
  /** false: OOM kills only, and nothing is read every interval. */
  stats?: boolean;
}

export function events(load: () => Container, opts: EventsOptions): AsyncIterableIterator<ContainerEvent> {
  const interval = opts.interval ?? 5000;
  const queue: ContainerEvent[] = [];
  let waiting: ((r: IteratorResult<ContainerEvent>) => void) | undefined;
  let failed: ((err: unknown) => void) | undefined;
  let ended = false;
  let error: unknown;
  let stop: (() => void) | undefined;
  const wake = (): void => {
    const resolve = waiting;
    const reject = failed;
    waiting = failed = undefined;
    if (!resolve || !reject) return;
    if (queue.length) resolve({ value: queue.shift() as ContainerEvent, done: false });
    else if (error !== undefined) {
      reject(error);
      error = undefined;
    }
    else if (ended) resolve({ value: undefined, done: true });
  };
  const begin = (): void => {
    if (stop || ended) return;
    if (!(interval > 0)) throw InvalidArgument.at('interval', 'must be greater than 0');
    stop = watchEvents(
      load(),
      opts.stats === false ? 0 : interval,
      (e) => {
        queue.push(e);
        wake();
      },
      (err) => {
        ended = true;
        error = err;
        wake();
      },
    );
  };
  const iterator: AsyncIterableIterator<ContainerEvent> = {
    next() {
      try {
        begin();
      } catch (err) {
        ended = true;
        return Promise.reject(err);
      }
      return new Promise((resolve, reject) => {
        waiting = resolve;
        failed = reject;
        if (queue.length || ended) wake();
      });
    },
    async return() {
      ended = true;
      stop?.();
      queue.length = 0;
      wake();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
