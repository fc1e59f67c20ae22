// The features document for this build of tsrun.
import { libseccompVersion, seccompFlagsSupported } from '../native/index.js';
import { featuresDocument } from '../oci/features.js';
import { ACTIONS, ARCHITECTURES, FILTER_FLAGS, FLAG_NEW_LISTENER, FLAG_WAIT_KILLABLE_RECV, OPERATORS } from '../seccomp/names.js';
import { knownMountOptions } from '../oci/mount-options.js';

/**
 * What works for an unprivileged caller (the README's "Rootless"): the features document has
 * no field for it, and runc's says nothing either.
 */
export const ROOTLESS: Record<string, string> = {
  'io.github.tsrun.rootless': 'true',
  'io.github.tsrun.rootless.state': '$XDG_RUNTIME_DIR/tsrun',
  'io.github.tsrun.rootless.idMappings': "the caller's own uid and gid written directly; subordinate ranges through newuidmap and newgidmap",
  'io.github.tsrun.rootless.cgroups': 'as runc 1.1 with --rootless auto: limits, pause, ps and kill --all in a delegated subtree; without one the container goes without cgroups and limits are refused',
  'io.github.tsrun.rootless.devices': 'bound from the host, never made',
  'io.github.tsrun.rootless.unsupported':
    "process.user.additionalGids, id-mapped mounts (mountExtensions.idmap needs the host's CAP_SYS_ADMIN), namespaces by path that the caller does not own, device cgroup rules, limits outside a delegated cgroup",
};

export function features(version: string): Record<string, unknown> {
  const flags = Object.keys(FILTER_FLAGS).sort();
  const doc = featuresDocument({
    mountOptions: knownMountOptions(),
    seccomp: {
      enabled: true,
      actions: Object.keys(ACTIONS).sort(),
      operators: Object.keys(OPERATORS).sort(),
      archs: Object.keys(ARCHITECTURES).sort(),
      knownFlags: flags,
      // what this kernel takes; TSYNC is accepted and has no effect on the single-threaded init
      supportedFlags: flags.filter((f) => {
        const bit = FILTER_FLAGS[f]!;
        // the kernel takes WAIT_KILLABLE_RECV only along with a listener
        return f === 'SECCOMP_FILTER_FLAG_TSYNC' || seccompFlagsSupported(bit === FLAG_WAIT_KILLABLE_RECV ? bit | FLAG_NEW_LISTENER : bit);
      }),
    },
    // rdma.max is written on v1 and v2 (issue 03); the systemd driver talks to the system
    // instance only (no --rootless user manager).
    cgroup: { v1: true, v2: true, systemd: true, systemdUser: false, rdma: true },
    idmap: true,
    version,
  });
  const annotations = doc.annotations as Record<string, string>;
  annotations['io.github.seccomp.libseccomp.version'] = libseccompVersion();
  Object.assign(annotations, ROOTLESS);
  return doc;
}

/** libseccomp's version, as `features` and `--version` report it. */
export function seccompLibraryVersion(): string {
  return libseccompVersion();
}
