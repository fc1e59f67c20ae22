// Writing a new user namespace's maps: only a process outside it may, and the bootstrap of
// tsrun-init asks us to once it has unshared it.
//
// As runc 1.1 (nsexec's update_uidmap): each map is written directly, and where the kernel
// refuses an unprivileged caller (EPERM: ids beyond its own) it goes through newuidmap or
// newgidmap, which map the subordinate ranges /etc/subuid and /etc/subgid grant. A caller
// mapping only its own gid gets setgroups "deny" first: the kernel's condition for an
// unprivileged gid_map.
import { writeFileSync } from 'node:fs';
import { FailedPrecondition, InvalidArgument, withContext } from '../errors.js';
import { childProcess } from '../native/index.js';
import type { IdMappingSpec } from '../oci/spec.js';
import { invocation } from './invocation.js';
import { describeSubordinateIds, findInPath } from './subid.js';

export interface MapWriter {
  euid: number;
  egid: number;
  /** where newuidmap and newgidmap are looked up (runc looks in its own PATH) */
  path: string | undefined;
}

function currentWriter(): MapWriter {
  return { euid: process.geteuid?.() ?? 0, egid: process.getegid?.() ?? 0, path: invocation().env.PATH };
}

function lines(maps: readonly IdMappingSpec[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

function shown(maps: readonly IdMappingSpec[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}`).join(', ');
}

/** runc's requiresRootOrMappingTool, negated: the gid map is the caller's own gid as 0, alone. */
export function mapsOwnGidOnly(gids: readonly IdMappingSpec[], egid: number): boolean {
  const [only] = gids;
  return gids.length === 1 && only !== undefined && only.containerID === 0 && only.hostID === egid && only.size === 1;
}

function tryWrite(file: string, text: string): NodeJS.ErrnoException | null {
  try {
    // Each map must go in one write(2); writeFileSync does that for a small buffer.
    writeFileSync(file, text);
    return null;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
}

interface Kind {
  file: 'uid_map' | 'gid_map';
  tool: 'newuidmap' | 'newgidmap';
  field: 'linux.uidMappings' | 'linux.gidMappings';
  ids: 'uid' | 'gid';
}

const UID: Kind = { file: 'uid_map', tool: 'newuidmap', field: 'linux.uidMappings', ids: 'uid' };
const GID: Kind = { file: 'gid_map', tool: 'newgidmap', field: 'linux.gidMappings', ids: 'gid' };

async function runTool(tool: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function writeMap(pid: number, kind: Kind, maps: readonly IdMappingSpec[], w: MapWriter): Promise<void> {
  if (!maps.length) return;
  const denied = tryWrite(`/proc/${pid}/${kind.file}`, lines(maps));
  if (!denied) return;
  if (denied.code !== 'EPERM' || w.euid === 0) {
    throw withContext(`write ${kind.file} of the new user namespace (${shown(maps)})`, denied);
  }
  const tool = findInPath(kind.tool, w.path);
  if (!tool) {
    const reason = `${shown(maps)} maps ${kind.ids}s other than the caller's own, which only ${kind.tool} may map for an unprivileged caller, and ${kind.tool} is not in PATH (Debian package uidmap)`;
    throw new FailedPrecondition(`${kind.field}: ${reason}`, { field: kind.field, reason });
  }
  const args = [String(pid), ...maps.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
  const { code, output } = await runTool(tool, args);
  if (code !== 0) {
    const why = output.trim().replace(/\s*\n\s*/g, '; ') || `exit status ${code}`;
    throw InvalidArgument.at(kind.field, `${kind.tool} ${args.join(' ')}: ${why} (${describeSubordinateIds(kind.ids, w.euid)})`);
  }
}

export async function writeIdMaps(
  pid: number,
  uids: readonly IdMappingSpec[],
  gids: readonly IdMappingSpec[],
  w: MapWriter = currentWriter(),
): Promise<void> {
  if (w.euid !== 0 && mapsOwnGidOnly(gids, w.egid)) {
    const err = tryWrite(`/proc/${pid}/setgroups`, 'deny');
    if (err) throw withContext('write setgroups "deny" of the new user namespace', err);
  }
  await writeMap(pid, UID, uids, w);
  await writeMap(pid, GID, gids, w);
}
