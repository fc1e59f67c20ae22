// The server's group of containers: one shim server serves every container of its group
// (a pod, one container, or a namespace), routing each request by container id, and ends
// when containerd shuts down the last of them.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CreateTaskRequest } from '../gen/containerd/task/v2/shim_pb.js';
import { AlreadyExists, messageOf, NotFound } from '../errors.js';
import { logger } from '../log.js';
import { Runtime } from '../api/index.js';
import type { ShimContainer, ContainerDeps, ExitInfo } from './container.js';
import { createContainer } from './create.js';
import { restoreContainer } from './restore.js';
import { readOptionsFile } from './options-file.js';
import { readJournal } from './journal.js';
import { parseOptions } from './options.js';

/** How many deleted containers' results a late `delete` may still ask for. */
const REMEMBERED_DELETES = 64;
const KILLED_STATUS = 128 + 9;

export interface ShimConfig {
  namespace: string;
  /** state roots are <root>/<namespace>, <root> from Create's options when they name one */
  root: string;
}

export class Shim {
  readonly #containers = new Map<string, ShimContainer>();
  readonly #creating = new Set<string>();
  /** the state roots in use (<root>/<namespace>), each with the library's runtime on it */
  readonly #runtimes = new Map<string, Runtime>();
  readonly #deleted = new Map<string, ExitInfo>();
  #exiting = false;

  constructor(
    readonly config: ShimConfig,
    readonly deps: ContainerDeps,
    /** called once the group is empty and containerd asked us to go */
    private readonly onEmpty: () => void,
  ) {}

  get size(): number {
    return this.#containers.size;
  }

  /** The state root of a container whose options name root (or none). */
  stateRoot(root: string | undefined): string {
    const dir = path.join(root ?? this.config.root, this.config.namespace);
    if (!this.#runtimes.has(dir)) this.#runtimes.set(dir, new Runtime({ root: dir }));
    return dir;
  }

  get(id: string): ShimContainer {
    const c = this.#containers.get(id);
    if (!c) throw new NotFound(`container ${id} not created`, { containerId: id });
    return c;
  }

  /** Like get, or undefined (Connect must not fail). */
  find(id: string): ShimContainer | undefined {
    return this.#containers.get(id);
  }

  async create(req: CreateTaskRequest): Promise<ShimContainer> {
    if (this.#containers.has(req.id) || this.#creating.has(req.id)) {
      throw new AlreadyExists(`container ${req.id} already exists`, { containerId: req.id });
    }
    this.#creating.add(req.id);
    try {
      const options = parseOptions(req.options);
      if (options.configPath) Object.assign(options, await readOptionsFile(options.configPath));
      // `delete` runs without us once we are gone: it must find the same state root.
      if (options.root) writeFileSync(path.join(req.bundle, 'runtime-root'), options.root);
      const c = await createContainer(this.deps, req, this.stateRoot(options.root), options);
      this.#containers.set(req.id, c);
      this.#deleted.delete(req.id);
      return c;
    } finally {
      this.#creating.delete(req.id);
    }
  }

  /** Delete of the init: the container is forgotten once it is gone. */
  async deleteContainer(id: string): Promise<ExitInfo> {
    const result = await this.get(id).delete();
    this.#forget(id, result);
    return result;
  }

  /**
   * What `containerd-shim-ts-v2 delete` asks a live server: make sure the container is gone.
   * One we deleted already answers with its result; one we never had, with what the runc
   * shim answers when it had to kill (137, now).
   */
  async cleanup(id: string): Promise<ExitInfo> {
    const c = this.#containers.get(id);
    if (c) {
      const result = await c.forceDelete();
      this.#forget(id, result);
      return result;
    }
    const remembered = this.#deleted.get(id);
    if (remembered) return remembered;
    // State a previous server of this group left (it was killed, and we took its place).
    let pid = 0;
    this.stateRoot(undefined);
    for (const rt of this.#runtimes.values()) {
      try {
        pid = (await rt.state(id)).pid ?? 0;
      } catch {
        // none here, or a create that died half-way: no state file
      }
      // (a forced delete of none succeeds)
      await rt.delete(id, { force: true });
    }
    return { pid, exitStatus: KILLED_STATUS, exitedAt: new Date() };
  }

  #forget(id: string, result: ExitInfo): void {
    this.#containers.delete(id);
    this.#deleted.set(id, result);
    while (this.#deleted.size > REMEMBERED_DELETES) this.#deleted.delete(this.#deleted.keys().next().value as string);
  }

  /** Takes over the containers the group's journal holds: a brain taking the group over
   *  from one that died or retired (restore.ts). */
  async adopt(records: ReadonlyArray<{ key: string; value: Uint8Array }>): Promise<void> {
    const { containers, execs, unread } = readJournal(records);
    for (const key of unread) logger.warn(`journal line ${key}: written by a brain this one cannot read; left alone`);
    for (const line of containers) {
      try {
        const c = await restoreContainer(this.deps, line, execs.get(line.id) ?? [], this.stateRoot(line.options.root));
        if (c) this.#containers.set(line.id, c);
      } catch (err) {
        logger.error(`take over container ${line.id}: ${messageOf(err)}`);
      }
    }
  }

  /** The group's keeper is gone: every container is let go (see ShimContainer.abandon). */
  abandon(): void {
    this.#exiting = true;
    for (const c of this.#containers.values()) c.abandon();
    this.#containers.clear();
  }

  /** Shutdown: the server goes once it holds no container; until then this is a no-op. */
  shutdown(): void {
    if (this.#exiting || this.#containers.size > 0 || this.#creating.size > 0) return;
    this.#exiting = true;
    // After the reply has gone out.
    setImmediate(() => this.onEmpty());
  }
}
