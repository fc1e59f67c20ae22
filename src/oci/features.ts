// The `features` document (runtime-spec features.md): what this runtime can do, whatever
// the host it runs on enables. containerd's shim reads it (runc shim Info, 2.x `-info`).
import { CAPABILITIES } from './capabilities.js';
import { OCI_VERSION } from './defaults.js';

export interface SeccompFeatures {
  enabled: boolean;
  actions?: string[];
  operators?: string[];
  archs?: string[];
  knownFlags?: string[];
  supportedFlags?: string[];
}

export interface FeatureInputs {
  mountOptions: string[];
  seccomp: SeccompFeatures;
  cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
  idmap: boolean;
  version: string;
}

export function featuresDocument(f: FeatureInputs): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [...f.mountOptions].sort(),
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: [...CAPABILITIES],
      cgroup: f.cgroup,
      seccomp: f.seccomp,
      // "enabled" here means built in; a host without the LSM gets a clear error at create.
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: true },
      mountExtensions: { idmap: { enabled: f.idmap } },
    },
    annotations: { 'io.github.tsrun.version': f.version },
  };
}
