// list: every container under the root, with its status now.
import { messageOf } from '../errors.js';
import { logger } from '../log.js';
import { Container } from './container.js';
import type { StateStore } from './state-store.js';

export function listContainers(store: StateStore): Container[] {
  const out: Container[] = [];
  for (const id of store.list()) {
    try {
      out.push(Container.load(store, id));
    } catch (err) {
      logger.warn(`skipping ${id}: ${messageOf(err)}`);
    }
  }
  return out;
}
