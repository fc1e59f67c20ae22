// linux.resources.unified: v2 files written as given, after everything else (runc's order),
// so they can refine what the translated v1 settings wrote.
import { hasFile, unsupported, writeResource } from '../fs.js';

export function setUnified(dir: string, unified: Record<string, string> | undefined): void {
  for (const [key, value] of Object.entries(unified ?? {})) {
    const field = `unified.${key}`;
    if (!/^[a-z_]+\.[a-z0-9_.]+$/i.test(key) || key.includes('..')) throw unsupported(field, 'not a cgroup file name');
    if (!hasFile(dir, key)) {
      const controller = key.split('.')[0] ?? '';
      throw unsupported(field, `${key} does not exist in this cgroup (is the ${controller} controller enabled?)`);
    }
    writeResource(dir, key, value, field);
  }
}
