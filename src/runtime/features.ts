// The features document for this build of tsrun.
import { libseccompVersion, seccompFlagsSupported } from '../native/seccomp.js';
import { featuresDocument } from '../oci/features.js';
import { ACTIONS, ARCHITECTURES, FILTER_FLAGS, FLAG_NEW_LISTENER, FLAG_WAIT_KILLABLE_RECV, OPERATORS } from '../seccomp/names.js';
import { knownMountOptions } from './plan/mount-options.js';

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
  (doc.annotations as Record<string, string>)['io.github.seccomp.libseccomp.version'] = libseccompVersion();
  return doc;
}
