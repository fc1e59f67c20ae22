// Containers on disk: <root>/<id>/state.json (written atomically) and <root>/<id>/exec.fifo
// while the container is created but not started. The same layout serves the CLI and the
// shim, so `tsrun --root <shim root> list` sees what containerd started.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { CgroupPaths } from '../cgroups/manager.js';
import type { RdtGroup } from './intel-rdt.js';
import type { Resources } from '../cgroups/resources.js';
import { AlreadyExists, InvalidArgument, NotFound, withContext } from '../errors.js';

export const DEFAULT_ROOT = '/run/tsrun';

export interface ContainerState {
  id: string;
  bundle: string;
  rootfs: string;
  /** the container's init, in the runtime's pid namespace; 0 while creating */
  pid: number;
  /** /proc/<pid>/stat start time: the pid names this process only while it matches */
  pidStartTime: string;
  /** RFC 3339 */
  created: string;
  owner: string;
  annotations: Record<string, string>;
  cgroupPaths: CgroupPaths;
  /** the cgroup resources in force: config.json's, with every `update` merged in */
  resources?: Resources;
  /** whether the container has a pid namespace of its own (then killing init kills all) */
  ownPidNamespace: boolean;
  /** created with --no-new-keyring: exec'd processes do not join "_ses.<id>" either */
  noNewKeyring?: boolean;
  /** the resctrl group of linux.intelRdt */
  rdt?: RdtGroup;
  /** the bundle's config.json as it was at create (the bundle may change later) */
  config: unknown;
}

// runc's rule: word characters, "+", "-" and "."; and not "." or "..".
const ID_PATTERN = /^[\w+.-]+$/;

export function validateId(id: string): void {
  if (!id) throw new InvalidArgument('container id must not be empty', { field: 'container-id' });
  if (!ID_PATTERN.test(id) || id === '.' || id === '..') {
    throw new InvalidArgument(`invalid container id ${JSON.stringify(id)}: use letters, digits, "_", "+", "-" and "."`, {
      field: 'container-id',
    });
  }
}

export interface CreateClaims {
  cgroupPaths: ContainerState['cgroupPaths'];
}

export class StateStore {
  constructor(readonly root: string = DEFAULT_ROOT) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  fifoPath(id: string): string {
    return path.join(this.dir(id), 'exec.fifo');
  }

  private statePath(id: string): string {
    return path.join(this.dir(id), 'state.json');
  }

  /** Claims the id: creating its directory is what makes two creates of one id collide. */
  reserve(id: string): void {
    validateId(id);
    try {
      mkdirSync(this.root, { recursive: true, mode: 0o700 });
      mkdirSync(this.dir(id), { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new AlreadyExists(`container with id ${JSON.stringify(id)} already exists`, { containerId: id });
      }
      throw withContext(`create state directory ${this.dir(id)}`, err);
    }
  }

  /**
   * What a create claims before it has a state file (its cgroups), written first so that a
   * create killed half-way leaves what `delete --force` needs to take it all back.
   */
  saveClaims(id: string, claims: CreateClaims): void {
    try {
      writeFileSync(path.join(this.dir(id), 'claims.json'), JSON.stringify(claims), { mode: 0o600 });
    } catch (err) {
      throw withContext(`save state of ${id}`, err);
    }
  }

  /** The claims of a create that did not finish, if it got as far as writing them. */
  loadClaims(id: string): CreateClaims | null {
    try {
      return JSON.parse(readFileSync(path.join(this.dir(id), 'claims.json'), 'utf8')) as CreateClaims;
    } catch {
      return null;
    }
  }

  save(state: ContainerState): void {
    const file = this.statePath(state.id);
    const tmp = `${file}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
      renameSync(tmp, file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw withContext(`save state of ${state.id}`, err);
    }
  }

  load(id: string): ContainerState {
    validateId(id);
    let text: string;
    try {
      text = readFileSync(this.statePath(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NotFound(`container ${JSON.stringify(id)} does not exist`, { containerId: id });
      }
      throw withContext(`read state of ${id}`, err);
    }
    return JSON.parse(text) as ContainerState;
  }

  /** True when the directory exists: a create in progress, or one that died half-way. */
  hasDir(id: string): boolean {
    return existsSync(this.dir(id));
  }

  /** Ids with a state file, oldest first. */
  list(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw withContext(`list ${this.root}`, err);
    }
    return names
      .filter((n) => existsSync(this.statePath(n)))
      .map((n) => ({ n, t: statSync(this.statePath(n)).birthtimeMs }))
      .sort((a, b) => a.t - b.t)
      .map((x) => x.n);
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}

export function userName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[2] === String(uid) && f[0]) return f[0];
    }
  } catch {
    // no passwd: fall through
  }
  return `#${uid}`;
}
