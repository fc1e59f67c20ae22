// The features document for this build of tsrun.
import { featuresDocument } from '../oci/features.js';
import { knownMountOptions } from './plan/mount-options.js';

export function features(version: string): Record<string, unknown> {
  return featuresDocument({
    mountOptions: knownMountOptions(),
    // Until seccomp lands (issue 04), a profile is refused: say so here too.
    seccomp: { enabled: false },
    // rdma.max is written on v1 and v2 (issue 03); the systemd driver needs D-Bus, not built.
    cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
    idmap: true,
    version,
  });
}
