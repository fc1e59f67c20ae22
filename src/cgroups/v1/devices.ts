// The v1 devices controller: rules are written in order, allows to devices.allow and
// denies to devices.deny; "a" in devices.deny drops every exception and denies all.
import path from 'node:path';
import type { DeviceRule } from '../manager.js';
import { writeCgroupFile } from '../fs.js';

export function ruleLine(r: DeviceRule): string {
  if (r.type === 'a') return 'a';
  return `${r.type} ${r.major}:${r.minor} ${r.access}`;
}

export function applyDeviceRules(dir: string, rules: DeviceRule[]): void {
  for (const r of rules) {
    writeCgroupFile(path.join(dir, r.allow ? 'devices.allow' : 'devices.deny'), ruleLine(r));
  }
}
