// The process `exec` runs when no --process file is given: the container's own process
// from its config, with the command line's overrides, as runc's exec builds it.
import { InvalidArgument } from '../errors.js';
import type { ProcessSpec } from '../oci/spec.js';
import { checkProcess } from '../oci/validate.js';

export interface ExecFlags {
  args: string[];
  cwd?: string;
  env?: string[];
  /** "uid" or "uid:gid" */
  user?: string;
  additionalGids?: string[];
  caps?: string[];
  tty?: boolean;
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
}

function parseId(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) {
    throw InvalidArgument.at(flag, `${JSON.stringify(text)} is not a numeric id`);
  }
  return Number(text);
}

export function processFromFlags(base: ProcessSpec, f: ExecFlags): ProcessSpec {
  const p: ProcessSpec = structuredClone(base);
  p.args = f.args;
  if (f.cwd) p.cwd = f.cwd;
  if (f.apparmor) p.apparmorProfile = f.apparmor;
  if (f.processLabel) p.selinuxLabel = f.processLabel;
  if (f.caps?.length) {
    const c = (p.capabilities ??= {});
    for (const set of ['bounding', 'effective', 'permitted'] as const) c[set] = [...(c[set] ?? []), ...f.caps];
    // --cap does not add inheritable caps, and ambient ones cannot be raised without them:
    // only when the spec has inheritable caps does --cap reach the ambient set (runc's rule).
    if (c.inheritable) c.ambient = [...(c.ambient ?? []), ...f.caps];
  }
  p.env = [...(p.env ?? []), ...(f.env ?? [])];
  p.terminal = f.tty ?? false;
  if (f.noNewPrivs !== undefined) p.noNewPrivileges = f.noNewPrivs;
  if (f.user) {
    const [uid, gid] = f.user.split(':');
    p.user = { ...p.user, uid: parseId(uid ?? '', '--user') };
    if (gid !== undefined) p.user.gid = parseId(gid, '--user');
  }
  if (f.additionalGids?.length) p.user.additionalGids = f.additionalGids.map((g) => parseId(g, '--additional-gids'));
  const [issue] = checkProcess(p, 'process');
  if (issue) throw InvalidArgument.at(issue.field, issue.message);
  return p;
}
