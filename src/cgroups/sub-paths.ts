// `exec --cgroup [<controller>[,<controller>...]:]<path>`, as runc 1.1 reads it: the exec'd
// process goes into an existing sub-cgroup of the container's, in every hierarchy (no
// controller) or in the named ones. Unlike runc, a path is a sub-cgroup only component by
// component: runc's string-prefix check lets "../<name>-sibling" reach a sibling cgroup.
import path from 'node:path';
import { InvalidArgument } from '../errors.js';
import type { CgroupPaths } from './manager.js';

function below(base: string, sub: string): string {
  const joined = path.posix.join(base, sub).replace(/(.)\/+$/, '$1');
  if (joined !== base && !joined.startsWith(`${base}/`)) {
    throw new InvalidArgument(`${sub} is not a sub cgroup path: it leads out of the container's cgroup ${base}`, { field: '--cgroup' });
  }
  return joined;
}

/** The container's cgroup paths with the sub-cgroups of `--cgroup` arguments put in. */
export function subCgroupPaths(paths: CgroupPaths, args: readonly string[]): CgroupPaths {
  const byController = new Map<string, string>();
  for (const arg of args) {
    const parts = arg.split(':');
    if (parts.length > 2) throw new InvalidArgument(`invalid --cgroup argument: ${arg}`, { field: '--cgroup' });
    if (parts.length === 1) {
      // a path for every hierarchy only alone, as runc takes it
      if (args.length > 1) throw new InvalidArgument(`invalid --cgroup argument: ${arg} (missing <controller>: prefix)`, { field: '--cgroup' });
      byController.set('', arg);
    }
    else for (const c of (parts[0] as string).split(',')) byController.set(c, parts[1] as string);
  }
  const out: CgroupPaths = { ...paths, v1: { ...paths.v1 } };
  const all = byController.get('');
  if (all !== undefined) {
    for (const [key, dir] of Object.entries(paths.v1)) out.v1[key] = below(dir, all);
    if (paths.unified) out.unified = below(paths.unified, all);
    return out;
  }
  for (const [controller, sub] of byController) {
    const key = Object.keys(paths.v1).find((k) => k.split(',').includes(controller));
    if (key === undefined) throw new InvalidArgument(`unknown controller ${controller} in SubCgroupPaths`, { field: '--cgroup' });
    out.v1[key] = below(paths.v1[key] as string, sub);
  }
  return out;
}
