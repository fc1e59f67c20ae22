// config.json's linux.resources in the cgroup layer's terms.
import { defaultDeviceRules, type DeviceRule } from '../cgroups/manager.js';
import type { Config, DeviceRuleSpec } from '../oci/spec.js';
import { keptDefaultDevices } from './plan/devices.js';

export function deviceRulesOf(rules: readonly DeviceRuleSpec[] | undefined): DeviceRule[] {
  return (rules ?? []).map((r) => ({
    allow: r.allow,
    type: (r.type ?? 'a') as DeviceRule['type'],
    major: r.major === undefined || r.major === null || r.major < 0 ? '*' : r.major,
    minor: r.minor === undefined || r.minor === null || r.minor < 0 ? '*' : r.minor,
    access: r.access ?? 'rwm',
  }));
}

/** The rules for the devices cgroup: the config's, then runc's defaults still in force. */
export function deviceRules(config: Config): DeviceRule[] {
  const linux = config.linux ?? {};
  return [...deviceRulesOf(linux.resources?.devices), ...defaultDeviceRules(keptDefaultDevices(linux.devices))];
}
