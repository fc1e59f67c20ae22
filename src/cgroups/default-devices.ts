import type { DeviceRule } from './manager.js';

/**
 * runc's rules that every container gets after its own (specconv's AllowedDevices): mknod
 * of anything, the default device nodes still in place (a config device of the same path
 * drops its rule, as in runc), ptys, /dev/ptmx and /dev/net/tun.
 */
export function defaultDeviceRules(defaultNodes: ReadonlyArray<{ major: number; minor: number }>): DeviceRule[] {
  return [
    { allow: true, type: 'c', major: '*', minor: '*', access: 'm' },
    { allow: true, type: 'b', major: '*', minor: '*', access: 'm' },
    ...defaultNodes.map((d): DeviceRule => ({ allow: true, type: 'c', major: d.major, minor: d.minor, access: 'rwm' })),
    { allow: true, type: 'c', major: 136, minor: '*', access: 'rwm' },
    { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
    { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
  ];
}
