// Which driver manages a container's cgroups, chosen from the paths stored at create: the
// cgroupfs driver of the host's layout, wrapped by the systemd driver when a unit was made.
import type { CgroupManager, CgroupPaths } from './manager.js';
import { NoCgroup } from './none.js';
import { hasCgroups } from './rootless.js';
import { SystemdManager } from './systemd/manager.js';
import { V1Manager } from './v1/manager.js';
import { V2Manager } from './v2/manager.js';

export function cgroupManager(paths: CgroupPaths): CgroupManager {
  if (!hasCgroups(paths)) return new NoCgroup(paths);
  const fs = Object.keys(paths.v1).length > 0 ? new V1Manager(paths) : new V2Manager(paths);
  return paths.systemd ? new SystemdManager(paths, fs) : fs;
}
