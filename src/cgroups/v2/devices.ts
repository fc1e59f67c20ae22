// The v2 device policy. The rules are the v1 list (applied in order, as devices.allow and
// devices.deny would take them); they are reduced first to one default action plus
// exceptions that all take the other action, then the native core builds and attaches the
// eBPF program. Like runc, a v2 policy starts from "deny everything".
import { attachDeviceFilter, type DeviceException } from '../../native/index.js';
import type { DeviceRule } from '../manager.js';

export interface DevicePolicy {
  defaultAllow: boolean;
  exceptions: DeviceException[];
}

const ACCESS_ORDER = ['r', 'w', 'm'];

function accessSet(access: string): Set<string> {
  return new Set([...access].filter((c) => ACCESS_ORDER.includes(c)));
}

function accessString(set: Set<string>): string {
  return ACCESS_ORDER.filter((c) => set.has(c)).join('');
}

export function devicePolicy(rules: readonly DeviceRule[]): DevicePolicy {
  let defaultAllow = false;
  let exceptions: Array<{ type: 'c' | 'b'; major: number; minor: number; access: Set<string> }> = [];
  for (const r of rules) {
    if (r.type === 'a') {
      // "a" is every device: the kernel resets the list and takes this as the default.
      defaultAllow = r.allow;
      exceptions = [];
      continue;
    }
    const major = r.major === '*' ? -1 : r.major;
    const minor = r.minor === '*' ? -1 : r.minor;
    const same = exceptions.find((e) => e.type === r.type && e.major === major && e.minor === minor);
    const access = accessSet(r.access);
    if (r.allow === defaultAllow) {
      // The default already does this: take the access out of a matching exception.
      if (same) {
        for (const a of access) same.access.delete(a);
        if (same.access.size === 0) exceptions = exceptions.filter((e) => e !== same);
      }
    } else if (same) {
      for (const a of access) same.access.add(a);
    } else if (access.size > 0) {
      exceptions.push({ type: r.type, major, minor, access });
    }
  }
  return { defaultAllow, exceptions: exceptions.map((e) => ({ type: e.type, major: e.major, minor: e.minor, access: accessString(e.access) })) };
}

export function applyDevicePolicy(dir: string, rules: readonly DeviceRule[]): void {
  const p = devicePolicy(rules);
  attachDeviceFilter(dir, p.defaultAllow, p.exceptions);
}
