// config.json mounts -> rootfs operations. runc's special cases live here: /dev mounted
// writable and made read-only only after the device nodes exist, bind sources relative to
// the bundle, and "cgroup" on a v1 host turned into a tmpfs holding one mount per hierarchy.
import path from 'node:path';
import type { CgroupLayout } from '../../cgroups/detect.js';
import type { CgroupPaths } from '../../cgroups/manager.js';
import { InvalidArgument } from '../../errors.js';
import { checkProcMount } from './proc-mounts.js';
import { OpKind, type PlanIdMap, type PlanRootfsOp } from '../../native/index.js';
import type { MountSpec } from '../../oci/spec.js';
import { MS, parseMountOptions } from '../../oci/mount-options.js';

export function cleanPath(p: string): string {
  return path.posix.normalize('/' + p).replace(/\/+$/, '') || '/';
}

export function op(partial: Partial<PlanRootfsOp> & Pick<PlanRootfsOp, 'kind' | 'dest' | 'describe'>): PlanRootfsOp {
  return {
    configIndex: -1,
    source: '',
    fstype: '',
    data: '',
    flags: 0,
    propagation: [],
    devType: '',
    devMajor: 0,
    devMinor: 0,
    mode: 0,
    uid: 0,
    gid: 0,
    attrSet: 0,
    attrClr: 0,
    attrRecursive: false,
    uidMappings: [],
    gidMappings: [],
    copyUp: false,
    ...partial,
  };
}

export interface MountContext {
  bundle: string;
  /** the container's own user namespace mappings, for "idmap" without mappings of its own */
  userns?: { uids: PlanIdMap[]; gids: PlanIdMap[] };
  layout: CgroupLayout;
  cgroupPaths: CgroupPaths;
  cgroupNamespace: boolean;
}

export interface MountPlan {
  ops: PlanRootfsOp[];
  /** /dev was asked read-only: mounted writable, remounted read-only at the end */
  readonlyDev: boolean;
  /** no bind mount at /dev: the runtime creates the device nodes and links */
  setupDev: boolean;
}

const CGROUP_FLAGS = MS.NOEXEC | MS.NOSUID | MS.NODEV;

function cgroupOps(m: MountSpec, index: number, flags: number, propagation: number[], ctx: MountContext): PlanRootfsOp[] {
  const dest = cleanPath(m.destination);
  const describe = `mounts[${index}] ${JSON.stringify(m.destination)}`;
  if (ctx.layout.mode === 'v2') {
    return [op({ kind: OpKind.Mount, configIndex: index, source: m.source ?? 'cgroup', dest, fstype: 'cgroup2', flags, propagation, describe })];
  }
  const ops: PlanRootfsOp[] = [
    op({ kind: OpKind.Mount, configIndex: index, source: 'tmpfs', dest, fstype: 'tmpfs', data: 'mode=755', flags: CGROUP_FLAGS, propagation, describe }),
  ];
  const merged: string[] = [];
  for (const h of ctx.layout.v1) {
    const key = h.controllers.join(',');
    const name = path.posix.basename(h.mountpoint);
    if (name.includes(',')) merged.push(name);
    const sub = `${dest}/${name}`;
    const subDescribe = `${describe} (${name})`;
    if (ctx.cgroupNamespace) {
      const systemd = name === 'systemd';
      ops.push(
        op({
          kind: OpKind.Mount,
          configIndex: index,
          source: systemd ? 'systemd' : 'cgroup',
          dest: sub,
          fstype: 'cgroup',
          data: systemd ? 'name=systemd' : name,
          flags: CGROUP_FLAGS | (flags & MS.RDONLY),
          describe: subDescribe,
        }),
      );
    } else {
      const source = ctx.cgroupPaths.v1[key];
      if (!source) continue;
      ops.push(
        op({ kind: OpKind.Bind, configIndex: index, source, dest: sub, flags: MS.BIND | MS.REC | flags, propagation, describe: subDescribe }),
      );
    }
  }
  // A hierarchy mounted as "cpu,cpuacct" is also reachable as "cpu" and "cpuacct".
  for (const name of merged) {
    for (const part of name.split(',')) {
      ops.push(op({ kind: OpKind.Symlink, configIndex: index, source: name, dest: `${dest}/${part}`, describe: `${describe} (${part})` }));
    }
  }
  return ops;
}

/**
 * An id-mapped bind: the mount's own uidMappings/gidMappings, or with the "idmap"/"ridmap"
 * option and none given, the container's user namespace mappings.
 */
function idMappings(m: MountSpec, field: string, ctx: MountContext): { uidMappings: PlanIdMap[]; gidMappings: PlanIdMap[] } {
  const opts = m.options ?? [];
  const asked = opts.includes('idmap') || opts.includes('ridmap');
  if (m.uidMappings || m.gidMappings) {
    if (!m.uidMappings?.length || !m.gidMappings?.length) {
      throw InvalidArgument.at(`${field}.uidMappings`, 'an id-mapped mount needs both uidMappings and gidMappings');
    }
    return { uidMappings: m.uidMappings, gidMappings: m.gidMappings };
  }
  if (!asked) return { uidMappings: [], gidMappings: [] };
  if (!ctx.userns) throw InvalidArgument.at(`${field}.options`, 'idmap without mappings needs the container\'s own user namespace mappings');
  return { uidMappings: ctx.userns.uids, gidMappings: ctx.userns.gids };
}

export function planMounts(mounts: readonly MountSpec[], ctx: MountContext): MountPlan {
  const ops: PlanRootfsOp[] = [];
  let readonlyDev = false;
  let setupDev = true;
  mounts.forEach((m, index) => {
    const field = `mounts[${index}]`;
    const parsed = parseMountOptions(m.options);
    const idmap = idMappings(m, field, ctx);
    let flags = parsed.flags;
    const dest = cleanPath(m.destination);
    const bind = (flags & MS.BIND) !== 0 || m.type === 'bind';
    const describe = `${field} ${JSON.stringify(m.destination)}`;
    const attrs = { attrSet: parsed.attrSet, attrClr: parsed.attrClr, attrRecursive: true };
    if (dest === '/dev') {
      if (bind) setupDev = false;
      // Device nodes are created after the mounts; a read-only /dev is made so at the end.
      readonlyDev = (flags & MS.RDONLY) !== 0;
      flags &= ~MS.RDONLY;
    }
    if (m.type === 'cgroup' && !bind) {
      ops.push(...cgroupOps(m, index, flags, parsed.propagation, ctx));
      return;
    }
    if (bind) {
      if (!m.source) throw InvalidArgument.at(`${field}.source`, 'a bind mount needs a source');
      const source = path.isAbsolute(m.source) ? m.source : path.join(ctx.bundle, m.source);
      checkProcMount(field, dest, m.type, true, source);
      ops.push(op({ kind: OpKind.Bind, configIndex: index, source, dest, flags: flags | MS.BIND, propagation: parsed.propagation, describe, ...attrs, ...idmap }));
      return;
    }
    if (idmap.uidMappings.length) throw InvalidArgument.at(`${field}.uidMappings`, 'only bind mounts can be id-mapped');
    const copyUp = parsed.data.includes('tmpcopyup');
    if (copyUp && m.type !== 'tmpfs') throw InvalidArgument.at(`${field}.options`, 'tmpcopyup is for tmpfs mounts');
    if (!m.type) throw InvalidArgument.at(`${field}.type`, 'needs a type (or a bind option)');
    checkProcMount(field, dest, m.type, false, undefined);
    ops.push(
      op({
        kind: OpKind.Mount,
        configIndex: index,
        source: m.source ?? m.type,
        dest,
        fstype: m.type,
        data: parsed.data.filter((d) => d !== 'tmpcopyup').join(','),
        copyUp,
        flags,
        propagation: parsed.propagation,
        describe,
        ...attrs,
      }),
    );
  });
  return { ops, readonlyDev, setupDev };
}
