// One process of a container (its init, or an exec) as containerd sees it: a small state
// machine whose transitions are the only place task events are published, so the events
// come out in the order the states changed.
//
//   init: new -create-> created -start-> running -pause-> pausing -paused-> paused
//                                                  <-pauseFailed-          -resume-> running
//         created|running|pausing|paused -exit-> stopped -delete-> deleted
//   exec: new -create-> created -start-> running -exit-> stopped -delete-> deleted
//         created -delete-> deleted (never started)
//
// An exit that arrives while Start is still running is held until Start's transition is
// made, so TaskStart always comes before TaskExit. Each transition is also the moment the
// process's line of the group's journal is written (onChange), in the same commit as the
// event it publishes.
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import {
  TaskCreateSchema,
  TaskDeleteSchema,
  TaskExecAddedSchema,
  TaskExecStartedSchema,
  TaskExitSchema,
  TaskPausedSchema,
  TaskResumedSchema,
  TaskStartSchema,
} from '../gen/containerd/events/task_pb.js';
import type { Mount } from '../gen/containerd/types/mount_pb.js';
import { FailedPrecondition } from '../errors.js';
import type { EventSink } from './events.js';
import { exitTimestamp } from './timestamps.js';

export type ProcessKind = 'init' | 'exec';
export type ProcessStatus = 'new' | 'created' | 'running' | 'pausing' | 'paused' | 'stopped' | 'deleted';
export type ProcessEvent = 'create' | 'start' | 'pause' | 'paused' | 'pauseFailed' | 'resume' | 'exit' | 'delete';

type Table = Record<ProcessStatus, Partial<Record<ProcessEvent, ProcessStatus>>>;

export const TRANSITIONS: Record<ProcessKind, Table> = {
  init: {
    new: { create: 'created' },
    created: { start: 'running', exit: 'stopped' },
    running: { pause: 'pausing', exit: 'stopped' },
    pausing: { paused: 'paused', pauseFailed: 'running', exit: 'stopped' },
    paused: { resume: 'running', exit: 'stopped' },
    stopped: { delete: 'deleted' },
    deleted: {},
  },
  exec: {
    new: { create: 'created' },
    created: { start: 'running', delete: 'deleted' },
    running: { exit: 'stopped' },
    pausing: {},
    paused: {},
    stopped: { delete: 'deleted' },
    deleted: {},
  },
};

export interface Stdio {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

/** A Create's or an Exec's stdio, from its request. */
export const stdioOf = (r: Stdio): Stdio => ({ stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal });

/** What TaskCreate reports besides the process itself. */
export interface CreateDetails {
  bundle: string;
  rootfs: Mount[];
  checkpoint: string;
}

type Published = { topic: string; schema: DescMessage; message: MessageInitShape<DescMessage> };

function event<D extends DescMessage>(topic: string, schema: D, message: MessageInitShape<D>): Published {
  return { topic, schema, message: message as MessageInitShape<DescMessage> };
}

/** The event each transition publishes, if any. */
const PUBLISH: Record<ProcessKind, Partial<Record<ProcessEvent, (p: Process) => Published>>> = {
  init: {
    create: (p) =>
      event('/tasks/create', TaskCreateSchema, {
        containerId: p.containerId,
        bundle: p.details?.bundle ?? '',
        rootfs: p.details?.rootfs ?? [],
        io: { stdin: p.stdio.stdin, stdout: p.stdio.stdout, stderr: p.stdio.stderr, terminal: p.stdio.terminal },
        checkpoint: p.details?.checkpoint ?? '',
        pid: p.pid,
      }),
    start: (p) => event('/tasks/start', TaskStartSchema, { containerId: p.containerId, pid: p.pid }),
    paused: (p) => event('/tasks/paused', TaskPausedSchema, { containerId: p.containerId }),
    resume: (p) => event('/tasks/resumed', TaskResumedSchema, { containerId: p.containerId }),
    exit: (p) => exitEvent(p),
    delete: (p) =>
      event('/tasks/delete', TaskDeleteSchema, {
        containerId: p.containerId,
        pid: p.pid,
        exitStatus: p.exitStatus,
        exitedAt: exitTimestamp(p.exitedAt),
      }),
  },
  exec: {
    create: (p) => event('/tasks/exec-added', TaskExecAddedSchema, { containerId: p.containerId, execId: p.id }),
    start: (p) => event('/tasks/exec-started', TaskExecStartedSchema, { containerId: p.containerId, execId: p.id, pid: p.pid }),
    exit: (p) => exitEvent(p),
  },
};

function exitEvent(p: Process): Published {
  return event('/tasks/exit', TaskExitSchema, {
    containerId: p.containerId,
    id: p.id,
    pid: p.pid,
    exitStatus: p.exitStatus,
    exitedAt: exitTimestamp(p.exitedAt),
  });
}

export class Process {
  #status: ProcessStatus = 'new';
  pid = 0;
  exitStatus = 0;
  exitedAt: Date | undefined;
  details: CreateDetails | undefined;
  #starting: Promise<void> | undefined;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(
    readonly kind: ProcessKind,
    readonly containerId: string,
    /** the container id for the init, the exec id for an exec */
    readonly id: string,
    readonly stdio: Stdio,
    private readonly events: EventSink,
    /** after each transition (and restore) */
    private readonly onChange: (p: Process) => void = () => undefined,
  ) {
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /** Takes the state a journal kept (a new brain adopting the group): nothing is published. */
  restore(state: { status: ProcessStatus; pid: number; exitStatus: number; exitedAt: Date | undefined }): void {
    this.#status = state.status;
    this.pid = state.pid;
    this.exitStatus = state.exitStatus;
    this.exitedAt = state.exitedAt;
    if (state.status === 'stopped' || state.status === 'deleted') this.#resolveDone();
  }

  get status(): ProcessStatus {
    return this.#status;
  }

  /** Whether the transition is allowed now. */
  can(event: ProcessEvent): boolean {
    return TRANSITIONS[this.kind][this.#status][event] !== undefined;
  }

  /** Makes a transition: checks it, applies `update`, changes state, publishes. */
  transition(event: ProcessEvent, update?: () => void): void {
    const next = TRANSITIONS[this.kind][this.#status][event];
    if (next === undefined) {
      throw new FailedPrecondition(`cannot ${event} ${this.#describe()}: it is ${this.#status}`, { containerId: this.containerId });
    }
    update?.();
    this.#status = next;
    const published = PUBLISH[this.kind][event]?.(this);
    if (published) this.events.publish(published.topic, published.schema, published.message);
    this.onChange(this);
    if (next === 'stopped' || next === 'deleted') this.#resolveDone();
  }

  created(pid: number, details?: CreateDetails): void {
    this.transition('create', () => {
      this.pid = pid;
      this.details = details;
    });
  }

  exited(status: number, at: Date): void {
    this.transition('exit', () => {
      this.exitStatus = status;
      this.exitedAt = at;
    });
  }

  /**
   * Runs start, which resolves with the pid, and makes the start transition. Until then an
   * exit handler waiting on startSettled() holds its exit.
   */
  async start(run: () => Promise<number>): Promise<number> {
    if (!this.can('start') || this.#starting) {
      throw new FailedPrecondition(`cannot start ${this.#describe()}: it is ${this.#starting ? 'starting' : this.#status}`, {
        containerId: this.containerId,
      });
    }
    let settle!: () => void;
    this.#starting = new Promise((resolve) => (settle = resolve));
    try {
      const pid = await run();
      this.transition('start', () => (this.pid = pid));
      return pid;
    } finally {
      this.#starting = undefined;
      settle();
    }
  }

  /** Resolves once no Start is running. */
  startSettled(): Promise<void> {
    return this.#starting ?? Promise.resolve();
  }

  /** Resolves when the process has stopped (or was deleted without ever running). */
  wait(): Promise<void> {
    return this.#done;
  }

  #describe(): string {
    return this.kind === 'init' ? `task ${this.containerId}` : `exec ${this.id} of ${this.containerId}`;
  }
}
