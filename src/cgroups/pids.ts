// The pids controller, the same file in v1 and v2: a positive limit, or "max" for a negative one.
import { writeResource } from './fs.js';

export function setPids(dir: string, p: { limit: number } | undefined): void {
  if (!p || p.limit === 0) return;
  writeResource(dir, 'pids.max', p.limit > 0 ? String(p.limit) : 'max', 'pids.limit');
}
