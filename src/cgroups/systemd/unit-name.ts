// The systemd cgroup driver's naming: cgroupsPath "slice:prefix:name" becomes the unit
// "<prefix>-<name>.scope" under the slice, whose path systemd derives from the slice name
// ("a-b.slice" lives in "/a.slice/a-b.slice"). Creating the unit needs systemd over D-Bus
// (StartTransientUnit); where systemd does not run, the driver says so.
import { existsSync } from 'node:fs';
import { FailedPrecondition, InvalidArgument, Unimplemented } from '../errors.js';

export interface SystemdUnit {
  slice: string;
  unit: string;
  /** the unit's cgroup from the hierarchy root, e.g. /system.slice/runc-abc.scope */
  path: string;
}

/** "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice" (systemd's unit_name_to_path for slices). */
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  if (!slice.endsWith(suffix) || slice.length <= suffix.length || slice.includes('/')) {
    throw InvalidArgument.at('linux.cgroupsPath', `invalid slice name ${JSON.stringify(slice)}`);
  }
  if (slice === '-.slice') return '/';
  const name = slice.slice(0, -suffix.length);
  let out = '';
  let prefix = '';
  for (const part of name.split('-')) {
    if (part === '') throw InvalidArgument.at('linux.cgroupsPath', `invalid slice name ${JSON.stringify(slice)}`);
    prefix = prefix ? `${prefix}-${part}` : part;
    out += `/${prefix}${suffix}`;
  }
  return out;
}

/** runc's reading of cgroupsPath under --systemd-cgroup; the default is system.slice:runc:<id>. */
export function systemdUnit(cgroupsPath: string | undefined, id: string): SystemdUnit {
  let slice = 'system.slice';
  let prefix = 'runc';
  let name = id;
  if (cgroupsPath) {
    const parts = cgroupsPath.split(':');
    if (parts.length !== 3) {
      throw InvalidArgument.at('linux.cgroupsPath', `expected "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cgroupsPath)}`);
    }
    slice = parts[0] || 'system.slice';
    prefix = parts[1] ?? '';
    name = parts[2] ?? '';
    if (!name) throw InvalidArgument.at('linux.cgroupsPath', 'the name part of "slice:prefix:name" must not be empty');
  }
  // A name that is itself a slice is used as is, without prefix or scope suffix.
  const unit = name.endsWith('.slice') ? name : prefix ? `${prefix}-${name}.scope` : `${name}.scope`;
  const base = expandSlice(slice);
  return { slice, unit, path: `${base === '/' ? '' : base}/${unit}` };
}

/** sd_booted(): systemd runs as init when /run/systemd/system exists. */
export function systemdRunning(root = '/'): boolean {
  return existsSync(`${root.replace(/\/$/, '')}/run/systemd/system`);
}

/**
 * The systemd driver: the unit name is worked out (so a malformed cgroupsPath fails with
 * its own error), but the unit can only be made by systemd over D-Bus.
 */
export function refuseSystemdDriver(cgroupsPath: string | undefined, id: string): never {
  const u = systemdUnit(cgroupsPath, id);
  if (!systemdRunning()) {
    throw new FailedPrecondition(
      `--systemd-cgroup: systemd is not running on this host (no /run/systemd/system), so it cannot create unit ${u.unit} in ${u.slice}; use the default cgroupfs driver`,
      { field: '--systemd-cgroup' },
    );
  }
  throw new Unimplemented(
    `--systemd-cgroup: creating unit ${u.unit} in ${u.slice} needs systemd's D-Bus API, which tsrun does not speak yet; use the default cgroupfs driver`,
    { field: '--systemd-cgroup' },
  );
}
