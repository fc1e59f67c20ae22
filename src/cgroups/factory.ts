// Which driver manages a container's cgroups, chosen from the paths stored at create.
import type { CgroupManager, CgroupPaths } from './manager.js';
import { NoCgroup } from './none.js';
import { hasCgroups } from './rootless.js';
import { V1Manager } from './v1/manager.js';
import { V2Manager } from './v2/manager.js';

export function cgroupManager(paths: CgroupPaths): CgroupManager {
  if (!hasCgroups(paths)) return new NoCgroup(paths);
  return Object.keys(paths.v1).length > 0 ? new V1Manager(paths) : new V2Manager(paths);
}
