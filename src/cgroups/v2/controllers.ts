// A v2 cgroup has the files of a controller only when its parent lists that controller in
// cgroup.subtree_control. As runc does, every level from the hierarchy root down to the
// container's parent enables what it has available; a controller the kernel refuses at
// some level (cpuset in a threaded subtree, say) is skipped, not fatal.
import path from 'node:path';
import { hasFile, readCgroupFile, writeCgroupFile } from '../fs.js';

export function enableControllers(root: string, dir: string): void {
  const rel = path.relative(root, dir);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return;
  const levels = rel.split(path.sep).filter(Boolean);
  let at = root;
  for (let i = 0; i < levels.length; i++) {
    if (hasFile(at, 'cgroup.controllers')) {
      const available = readCgroupFile(path.join(at, 'cgroup.controllers')).trim().split(/\s+/).filter(Boolean);
      const enabled = new Set(readCgroupFile(path.join(at, 'cgroup.subtree_control')).trim().split(/\s+/).filter(Boolean));
      const missing = available.filter((c) => !enabled.has(c));
      if (missing.length) {
        try {
          writeCgroupFile(path.join(at, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
        } catch {
          for (const c of missing) {
            try {
              writeCgroupFile(path.join(at, 'cgroup.subtree_control'), `+${c}`);
            } catch {
              // this one cannot be enabled here; the container does without it
            }
          }
        }
      }
    }
    at = path.join(at, levels[i] ?? '');
  }
}
