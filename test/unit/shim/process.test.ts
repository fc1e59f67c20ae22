// The process state machine: which transitions exist, and that the events containerd sees
// come out of them in order, with an exit held until Start has made its transition.
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { FailedPrecondition } from '../../../src/errors.js';
import type { EventSink } from '../../../src/shim/events.js';
import { Process, TRANSITIONS, type ProcessEvent, type ProcessStatus } from '../../../src/shim/process.js';

class Recorder implements EventSink {
  readonly events: Array<{ topic: string; message: Record<string, unknown> }> = [];
  publish<D extends DescMessage>(topic: string, _schema: D, message: MessageInitShape<D>): void {
    this.events.push({ topic, message: message as Record<string, unknown> });
  }
  get topics(): string[] {
    return this.events.map((e) => e.topic);
  }
}

const stdio = { stdin: '', stdout: '/fifo/out', stderr: '/fifo/err', terminal: false };

function init(rec: Recorder): Process {
  return new Process('init', 'c1', 'c1', stdio, rec);
}

function exec(rec: Recorder): Process {
  return new Process('exec', 'c1', 'e1', stdio, rec);
}

describe('process state machine', () => {
  it('runs an init through create, start, pause, resume, exit and delete with one event each', async () => {
    const rec = new Recorder();
    const p = init(rec);
    p.created(42, { bundle: '/b', rootfs: [], checkpoint: '' });
    expect(p.status).toBe('created');
    await p.start(async () => 42);
    p.transition('pause');
    expect(p.status).toBe('pausing');
    p.transition('paused');
    p.transition('resume');
    p.exited(137, new Date(1000));
    p.transition('delete');
    expect(p.status).toBe('deleted');
    expect(rec.topics).toEqual(['/tasks/create', '/tasks/start', '/tasks/paused', '/tasks/resumed', '/tasks/exit', '/tasks/delete']);
    expect(rec.events[0]?.message).toMatchObject({ containerId: 'c1', bundle: '/b', pid: 42, io: { stdout: '/fifo/out' } });
    expect(rec.events[4]?.message).toMatchObject({ containerId: 'c1', id: 'c1', pid: 42, exitStatus: 137 });
    expect(rec.events[5]?.message).toMatchObject({ containerId: 'c1', pid: 42, exitStatus: 137 });
  });

  it('publishes exec-added, exec-started and exit for an exec, and nothing on its delete', async () => {
    const rec = new Recorder();
    const p = exec(rec);
    p.created(0);
    await p.start(async () => 77);
    p.exited(3, new Date());
    p.transition('delete');
    expect(rec.topics).toEqual(['/tasks/exec-added', '/tasks/exec-started', '/tasks/exit']);
    expect(rec.events[1]?.message).toMatchObject({ containerId: 'c1', execId: 'e1', pid: 77 });
    expect(rec.events[2]?.message).toMatchObject({ containerId: 'c1', id: 'e1', pid: 77, exitStatus: 3 });
  });

  it('refuses transitions the table does not have, with FailedPrecondition and no event', () => {
    const rec = new Recorder();
    const p = init(rec);
    p.created(1);
    expect(() => p.transition('delete')).toThrow(FailedPrecondition);
    expect(() => p.transition('pause')).toThrow(/cannot pause task c1: it is created/);
    p.exited(0, new Date());
    expect(() => p.exited(0, new Date())).toThrow(FailedPrecondition);
    expect(() => p.transition('resume')).toThrow(FailedPrecondition);
    expect(rec.topics).toEqual(['/tasks/create', '/tasks/exit']);
  });

  it('lets an exec that never started be deleted, but not an init', () => {
    const rec = new Recorder();
    const e = exec(rec);
    e.created(0);
    e.transition('delete');
    expect(e.status).toBe('deleted');
    const i = init(rec);
    i.created(5);
    expect(i.can('delete')).toBe(false);
  });

  it('has no pause states for execs (they report their container\'s)', () => {
    for (const from of Object.keys(TRANSITIONS.exec) as ProcessStatus[]) {
      for (const ev of ['pause', 'paused', 'resume', 'pauseFailed'] as ProcessEvent[]) {
        expect(TRANSITIONS.exec[from][ev]).toBeUndefined();
      }
    }
  });

  it('holds an exit that arrives while Start runs until the start event is out', async () => {
    const rec = new Recorder();
    const p = init(rec);
    p.created(9);
    let finishStart!: () => void;
    const started = p.start(() => new Promise<number>((resolve) => (finishStart = () => resolve(9))));
    // The exit handler, as the container runs it: wait for Start, then report.
    const exitHandled = (async () => {
      await p.startSettled();
      p.exited(0, new Date());
    })();
    await new Promise((r) => setTimeout(r, 10));
    expect(rec.topics).toEqual(['/tasks/create']);
    finishStart();
    await started;
    await exitHandled;
    expect(rec.topics).toEqual(['/tasks/create', '/tasks/start', '/tasks/exit']);
  });

  it('releases a held exit when Start fails, and refuses a second Start meanwhile', async () => {
    const rec = new Recorder();
    const p = init(rec);
    p.created(9);
    let fail!: (e: Error) => void;
    const started = p.start(() => new Promise<number>((_, reject) => (fail = reject)));
    await expect(p.start(async () => 9)).rejects.toThrow(/it is starting/);
    const exitHandled = (async () => {
      await p.startSettled();
      p.exited(255, new Date());
    })();
    fail(new Error('boom'));
    await expect(started).rejects.toThrow('boom');
    await exitHandled;
    expect(rec.topics).toEqual(['/tasks/create', '/tasks/exit']);
    expect(p.status).toBe('stopped');
  });

  it('wakes every waiter at the exit, and answers later waiters at once', async () => {
    const rec = new Recorder();
    const p = init(rec);
    p.created(1);
    await p.start(async () => 1);
    let woken = 0;
    const waiters = Array.from({ length: 5 }, () => p.wait().then(() => woken++));
    await new Promise((r) => setTimeout(r, 5));
    expect(woken).toBe(0);
    p.exited(1, new Date());
    await Promise.all(waiters);
    expect(woken).toBe(5);
    await p.wait();
  });
});
