// Who runs rootless, decided as runc 1.1 decides it, and where such a caller keeps state.
//
// Two different things, as in runc: an unprivileged caller (euid != 0: maps written by
// newuidmap, no setgroups, a user namespace required) and rootless *cgroups* (`--rootless`,
// or auto: euid != 0, or root inside a user namespace, as under RootlessKit), where cgroups
// the caller may not create are gone without.
import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { FailedPrecondition, InvalidArgument, withContext } from '../errors.js';
import type { Config, IdMappingSpec } from '../oci/spec.js';
import { invocation } from './invocation.js';
import { DEFAULT_ROOT } from './state-store.js';

export interface Caller {
  euid: number;
  /** in a user namespace other than the initial one (runc's userns.RunningInUserNS) */
  inUserNamespace: boolean;
  env: Record<string, string | undefined>;
}

/** The initial user namespace maps every id to itself; anything else is a namespace of its own. */
export function inUserNamespace(uidMap: () => string = () => readFileSync('/proc/self/uid_map', 'utf8')): boolean {
  let text: string;
  try {
    text = uidMap();
  } catch {
    // as runc: when we cannot tell, we are not in one
    return false;
  }
  return text.trim().split(/\s+/).join(' ') !== '0 0 4294967295';
}

let inUserNs: boolean | undefined;

/** Whoever this command runs for: this process, or the caller the CLI server serves (same
 *  user and namespaces, its own environment). */
export function currentCaller(): Caller {
  inUserNs ??= inUserNamespace();
  return { euid: process.geteuid?.() ?? 0, inUserNamespace: inUserNs, env: invocation().env };
}

/** runc's shouldHonorXDGRuntimeDir: unprivileged, or root in a user namespace not called "root". */
export function honorsXdgRuntimeDir(c: Caller): boolean {
  if (!c.env.XDG_RUNTIME_DIR) return false;
  if (c.euid !== 0) return true;
  if (!c.inUserNamespace) return false;
  return c.env.USER === undefined || c.env.USER !== 'root';
}

/** The default --root: $XDG_RUNTIME_DIR/tsrun where runc would use $XDG_RUNTIME_DIR/runc. */
export function defaultStateRoot(c: Caller = currentCaller()): string {
  return honorsXdgRuntimeDir(c) ? path.join(c.env.XDG_RUNTIME_DIR ?? '', 'tsrun') : DEFAULT_ROOT;
}

/** `--rootless true|false|auto` (runc's parseBoolOrAuto; unset is auto). */
export function parseRootlessFlag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === 'auto') return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw InvalidArgument.at('--rootless', `must be true, false or auto, not ${JSON.stringify(value)}`);
}

/** runc's shouldUseRootlessCgroupManager, for cgroupfs. */
export function rootlessCgroups(flag: string | undefined, c: Caller = currentCaller()): boolean {
  const explicit = parseRootlessFlag(flag);
  if (explicit !== undefined) return explicit;
  return c.euid !== 0 || c.inUserNamespace;
}

/**
 * Makes the default state root of a caller runc would keep in $XDG_RUNTIME_DIR (mode 0700
 * and sticky, as runc makes it, so that a tmpfiles clean-up of the runtime dir spares it).
 * An unprivileged caller without XDG_RUNTIME_DIR, or with one that is not its own, is told
 * so instead of an EACCES on /run/tsrun.
 */
export function prepareDefaultRoot(c: Caller = currentCaller()): void {
  if (!honorsXdgRuntimeDir(c)) {
    if (c.euid !== 0) {
      throw new FailedPrecondition(
        `XDG_RUNTIME_DIR is not set: an unprivileged caller (euid ${c.euid}) keeps container state in $XDG_RUNTIME_DIR/tsrun, not ${DEFAULT_ROOT}; set it or give --root`,
        { field: 'XDG_RUNTIME_DIR' },
      );
    }
    return;
  }
  const xdg = c.env.XDG_RUNTIME_DIR ?? '';
  let owner: number | undefined;
  try {
    owner = statSync(xdg).uid;
  } catch {
    // missing: made below, as runc's MkdirAll makes it, or the mkdir says why not
  }
  if (owner !== undefined && owner !== c.euid) {
    throw new FailedPrecondition(
      `XDG_RUNTIME_DIR ${xdg} is not the caller's (owned by uid ${owner}, the caller is uid ${c.euid}): container state goes in $XDG_RUNTIME_DIR/tsrun; set it to the caller's own runtime directory or give --root`,
      { field: 'XDG_RUNTIME_DIR', path: xdg },
    );
  }
  const root = defaultStateRoot(c);
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    chmodSync(root, 0o1700);
  } catch (err) {
    throw withContext(`XDG_RUNTIME_DIR ${xdg}: make the state root ${root}`, err);
  }
}

/** runc: "cannot set any additional groups in a rootless container" (setgroups is not ours). */
export function refuseAdditionalGids(gids: readonly number[] | undefined, field: string, c: Caller = currentCaller()): void {
  if (c.euid !== 0 && gids?.length) throw InvalidArgument.at(field, 'cannot set any additional groups in a rootless container');
}

function mapped(id: number, maps: readonly IdMappingSpec[]): boolean {
  return maps.some((m) => id >= m.containerID && id < m.containerID + m.size);
}

/**
 * runc's rootlessEUIDCheck: an unprivileged caller's container needs a user namespace with
 * maps, and a mount's uid= or gid= option must name an id the namespace maps.
 */
export function checkRootlessConfig(config: Config, c: Caller = currentCaller()): void {
  if (c.euid === 0) return;
  const linux = config.linux ?? {};
  if (!(linux.namespaces ?? []).some((n) => n.type === 'user')) {
    throw InvalidArgument.at('linux.namespaces', `rootless container requires user namespaces (the caller is uid ${c.euid})`);
  }
  if (!linux.uidMappings?.length) throw InvalidArgument.at('linux.uidMappings', 'rootless containers requires at least one UID mapping');
  if (!linux.gidMappings?.length) throw InvalidArgument.at('linux.gidMappings', 'rootless containers requires at least one GID mapping');
  refuseAdditionalGids(config.process?.user.additionalGids, 'process.user.additionalGids', c);
  (config.mounts ?? []).forEach((m, i) => {
    for (const opt of m.options ?? []) {
      const [, kind, value] = /^(uid|gid)=(\d+)$/.exec(opt) ?? [];
      if (!kind || value === undefined) continue;
      const maps = kind === 'uid' ? linux.uidMappings : linux.gidMappings;
      if (!mapped(Number(value), maps ?? [])) {
        throw InvalidArgument.at(
          `mounts[${i}].options`,
          `cannot specify ${kind}=${value} mount option for rootless container: user namespaces enabled, but no mapping found for ${kind} ${value}`,
        );
      }
    }
  });
}
