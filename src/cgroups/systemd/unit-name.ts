// The systemd cgroup driver's naming: cgroupsPath "slice:prefix:name" becomes the unit
// "<prefix>-<name>.scope" under the slice, whose path systemd derives from the slice name
// ("a-b.slice" lives in "/a.slice/a-b.slice").
import { InvalidArgument } from '../../errors.js';

export interface SystemdUnit {
  slice: string;
  unit: string;
  /** the name part, which the unit's Description names */
  name: string;
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
  // A name that is itself a slice is used as is. An empty prefix still gets its dash, as in
  // runc 1.1.5 ("user.slice::abc" is -abc.scope; seen in the systemd test node).
  const unit = name.endsWith('.slice') ? name : `${prefix}-${name}.scope`;
  const base = expandSlice(slice);
  return { slice, unit, name, path: `${base === '/' ? '' : base}/${unit}` };
}
