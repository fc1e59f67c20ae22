// linux.sysctl, allowed only for keys that belong to a namespace the container has of its
// own (runc's rule): otherwise a container would set the host's kernel parameters.
import { InvalidArgument } from '../../errors.js';
import type { PlanSysctl } from '../../native/index.js';
import type { LinuxSpec } from '../../oci/spec.js';

const IPC_KEYS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

export function planSysctl(linux: LinuxSpec | undefined): PlanSysctl[] {
  const own = new Set((linux?.namespaces ?? []).map((n) => n.type));
  const out: PlanSysctl[] = [];
  for (const [key, value] of Object.entries(linux?.sysctl ?? {})) {
    const field = `linux.sysctl.${key}`;
    if (!/^[a-z0-9_]+(?:[./][a-z0-9_*-]+)+$/i.test(key) || key.includes('..')) {
      throw InvalidArgument.at(field, `${JSON.stringify(key)} is not a sysctl name`);
    }
    if (IPC_KEYS.has(key) || key.startsWith('fs.mqueue.')) {
      if (!own.has('ipc')) throw InvalidArgument.at(field, 'not allowed without an IPC namespace of the container\'s own');
    } else if (key.startsWith('net.')) {
      if (!own.has('network')) throw InvalidArgument.at(field, 'not allowed without a network namespace of the container\'s own');
    } else if (key === 'kernel.domainname' && own.has('uts')) {
      // allowed: the UTS namespace holds it
    } else if (key === 'kernel.hostname') {
      throw InvalidArgument.at(field, 'set the hostname with the "hostname" field');
    } else {
      throw InvalidArgument.at(field, 'not in a kernel namespace the container has of its own');
    }
    out.push({ key: key.replace(/\./g, '/'), value });
  }
  return out;
}
