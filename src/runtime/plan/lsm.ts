// AppArmor and SELinux: applied when the host runs them, refused with a clear error when
// asked for on a host that does not (rather than starting a less confined process).
import { existsSync, readFileSync } from 'node:fs';
import { FailedPrecondition } from '../../errors.js';

export function apparmorEnabled(): boolean {
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}

export function selinuxEnabled(): boolean {
  return existsSync('/sys/fs/selinux/enforce');
}

export function requireApparmor(field: string): void {
  if (!apparmorEnabled()) throw new FailedPrecondition(`${field}: AppArmor is not enabled on this host`, { field });
}

export function requireSelinux(field: string): void {
  if (!selinuxEnabled()) throw new FailedPrecondition(`${field}: SELinux is not enabled on this host`, { field });
}
