// checkpoint and restore need CRIU, which tsrun does not drive. Their arguments are still
// judged as runc 1.1 judges them, in its order and words, so that a caller's mistake is
// named as runc names it before the refusal (runc's checks run before it looks for CRIU).
// Unlike runc, nothing is made on the way (runc creates --image-path first).
import { statSync } from 'node:fs';
import path from 'node:path';
import { FailedPrecondition, InvalidArgument, Unimplemented } from '../errors.js';
import { loadBundle } from './bundle.js';
import type { Status } from '../oci/state.js';

export interface CriuFlags {
  imagePath?: string;
  parentPath?: string;
  pageServer?: string;
  manageCgroupsMode?: string;
  emptyNs?: string[];
}

/** runc's namespaceMapping: the namespace types --empty-ns takes. */
const EMPTY_NS = ['pid', 'network', 'mount', 'user', 'ipc', 'uts', 'cgroup'];

function refuse(what: 'checkpoint' | 'restore'): never {
  throw new Unimplemented(`${what}: not supported: tsrun has no CRIU checkpoint/restore`);
}

function checkParentPath(f: CriuFlags): void {
  if (!f.parentPath) return;
  if (path.isAbsolute(f.parentPath)) throw new InvalidArgument('--parent-path must be relative', { field: '--parent-path' });
  const imagePath = f.imagePath || path.join(process.cwd(), 'checkpoint');
  const real = path.join(imagePath, f.parentPath);
  let reason: string | undefined;
  try {
    if (!statSync(real).isDirectory()) reason = `stat ${real}: not a directory`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    reason = `stat ${real}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'ENOTDIR' ? 'not a directory' : String(code)}`;
  }
  if (reason) throw new InvalidArgument(`invalid --parent-path: ${reason}`, { field: '--parent-path' });
}

function checkPageServer(f: CriuFlags): void {
  if (!f.pageServer) return;
  const at = f.pageServer.lastIndexOf(':');
  const [host, port] = at < 0 ? ['', ''] : [f.pageServer.slice(0, at), f.pageServer.slice(at + 1)];
  if (!host || !port) throw new InvalidArgument('Use --page-server ADDRESS:PORT to specify page server', { field: '--page-server' });
  if (!/^[+-]?\d+$/.test(port)) throw new InvalidArgument(`Invalid port number: --page-server ${JSON.stringify(f.pageServer)}`, { field: '--page-server' });
}

function checkManageCgroupsMode(f: CriuFlags): void {
  if (f.manageCgroupsMode && !['soft', 'full', 'strict'].includes(f.manageCgroupsMode)) {
    throw new InvalidArgument(`Invalid manage cgroups mode: --manage-cgroups-mode ${JSON.stringify(f.manageCgroupsMode)} is not soft, full or strict`, {
      field: '--manage-cgroups-mode',
    });
  }
}

function checkEmptyNs(f: CriuFlags): void {
  for (const ns of f.emptyNs ?? []) {
    if (!EMPTY_NS.includes(ns)) {
      throw new InvalidArgument(`namespace ${JSON.stringify(ns)} is not supported: --empty-ns takes ${EMPTY_NS.join(', ')}`, { field: '--empty-ns' });
    }
  }
}

/** runc's exactArgs: one container id. */
export function checkOneArg(what: 'checkpoint' | 'restore', args: readonly string[]): string {
  if (args.length !== 1) throw new InvalidArgument(`"${what}" requires exactly 1 argument(s): got ${args.length}`, { field: what });
  return args[0] as string;
}

/** `state` is the container's (its id and status now). */
export function checkpoint(state: { id: string; status: Status }, f: CriuFlags): never {
  const { id, status } = state;
  if (status === 'created' || status === 'stopped') {
    throw new FailedPrecondition(`Container cannot be checkpointed in ${status} state`, { containerId: id });
  }
  checkParentPath(f);
  checkPageServer(f);
  checkManageCgroupsMode(f);
  checkEmptyNs(f);
  refuse('checkpoint');
}

export function restore(bundleDir: string, f: CriuFlags): never {
  loadBundle(bundleDir);
  checkEmptyNs(f);
  refuse('restore');
}
