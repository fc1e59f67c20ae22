// The shim across failures: containerd restarting under running containers (and missing
// an exit while away), a group's keeper killed outright (a brain killed is
// shim-survival.test.ts), and groups of containers, each with its keeper, sharing one brain.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Task } from '../../src/gen/containerd/task/v2/shim_pb.js';
import { Client } from '../../src/ttrpc/client.js';
import { mountsUnder } from '../helpers/containerd.js';
import { isAlive, leftoverCgroups } from '../helpers/leaks.js';
import { containerId, IMAGE, NAMESPACE, shimContainerdForFile, TS } from '../helpers/shim.js';

// debug: containerd logs each event a shim forwards, which shows an event that came in
// before `ctr events` could subscribe again after a restart.
const shim = shimContainerdForFile({ logLevel: 'debug' });

function task(id: string): { pid: number; status: string } | undefined {
  const line = shim().ctr(['task', 'ls']).split('\n').find((l) => l.startsWith(`${id} `));
  if (!line) return undefined;
  const [, pid, status] = line.trim().split(/\s+/);
  return { pid: Number(pid), status: status ?? '' };
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${shim().ctd.log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function bundleOf(id: string): string {
  return path.join(shim().ctd.state, 'io.containerd.runtime.v2.task', NAMESPACE, id);
}

async function runDetached(id: string, cmd: string[], flags: string[] = []): Promise<number> {
  const r = await shim().ctrRun(['run', '-d', '--runtime', TS, ...flags, IMAGE, id, ...cmd]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return task(id)?.pid ?? 0;
}

async function remove(id: string): Promise<void> {
  await shim().ctrRun(['task', 'delete', '-f', id]);
  await shim().ctrRun(['container', 'rm', id]);
}

describe('containerd restarts', () => {
  it('finds the task still running after a restart, and killing it then reports its exit and status', async () => {
    const id = containerId('restart');
    const pid = await runDetached(id, ['sh', '-c', 'trap "exit 42" TERM; while true; do sleep 0.05; done']);
    await shim().restart();
    expect(task(id)).toEqual({ pid, status: 'RUNNING' });
    shim().ctr(['task', 'kill', id]);
    const events = await shim().waitEvent(id, '/tasks/exit');
    expect(events.find((e) => e.topic === '/tasks/exit')?.payload).toMatchObject({ pid, exit_status: 42 });
    expect(task(id)?.status).toBe('STOPPED');
    shim().ctr(['task', 'delete', id]);
    await shim().waitEvent(id, '/tasks/delete');
    shim().ctr(['container', 'rm', id]);
  });

  it('delivers an exit that happened while containerd was away, once it is back', async () => {
    const id = containerId('away');
    const flag = path.join(bundleOf(id), 'rootfs', 'exit-now');
    const pid = await runDetached(id, ['sh', '-c', 'while [ ! -e /exit-now ]; do sleep 0.05; done; exit 7']);
    let logged = 0;
    await shim().restart(async () => {
      writeFileSync(flag, '');
      await until('the container to exit while containerd is down', () => !isAlive(pid));
      logged = shim().ctd.log().length;
    });
    // The shim's queue delivers it as soon as containerd listens, possibly before ctr
    // events has subscribed again: containerd's own log says it took it.
    await until('containerd to take the exit event', () => /msg="event forwarded" ns=tsrun-test topic=\/tasks\/exit /.test(shim().ctd.log().slice(logged)));
    expect(task(id)?.status).toBe('STOPPED');
    const client = new Client(readFileSync(path.join(bundleOf(id), 'address'), 'utf8'), { timeoutMs: 5000 });
    try {
      expect(await client.unary(Task.method.wait, { id })).toMatchObject({ exitStatus: 7 });
    } finally {
      client.destroy();
    }
    shim().ctr(['task', 'delete', id]);
    await shim().waitEvent(id, '/tasks/delete');
    expect(shim().events(id).find((e) => e.topic === '/tasks/delete')?.payload).toMatchObject({ pid, exit_status: 7 });
    shim().ctr(['container', 'rm', id]);
  });
});

describe('a keeper killed with SIGKILL', () => {
  it('is noticed by containerd, which cleans up through delete: exit 137, no process, state, mount, cgroup or socket left', async () => {
    const id = containerId('killed-keeper');
    const pid = await runDetached(id, ['sleep', '1000']);
    expect((await shim().ctrRun(['task', 'exec', '-d', '--exec-id', 'bg', id, 'sleep', '1000'])).code).toBe(0);
    const execPid = Number(/(\d+)\s+&ProcessDetails\{ExecID:bg/.exec(shim().ctr(['task', 'ps', id]))?.[1]);
    expect(execPid).toBeGreaterThan(0);
    // The keeper is the group's parent and holds its connections, as a runc shim does its pod's.
    const victim = shim().keeperOf(id);
    expect(victim).toBeGreaterThan(0);
    const socket = readFileSync(path.join(bundleOf(id), 'address'), 'utf8').replace('unix://', '');
    expect(existsSync(socket)).toBe(true);

    process.kill(victim as number, 'SIGKILL');
    const events = await shim().waitEvent(id, '/tasks/delete');
    expect(events.find((e) => e.topic === '/tasks/exit')?.payload).toMatchObject({ id, exit_status: 137 });
    await until('the container processes to die', () => !isAlive(pid) && !isAlive(execPid));
    expect(task(id)).toBeUndefined();
    expect(existsSync(path.join(shim().stateRoot, NAMESPACE, id))).toBe(false);
    expect(mountsUnder(bundleOf(id))).toEqual([]);
    expect(leftoverCgroups(id)).toEqual([]);
    expect(existsSync(socket)).toBe(false);
    shim().ctr(['container', 'rm', id]);
  });
});

describe('groups', () => {
  it('serves a pod on one socket and keeper until its last container is gone, next to a container of its own, all in the namespace\'s brain', async () => {
    const pod = containerId('pod');
    const a = containerId('pod-a');
    const b = containerId('pod-b');
    const c = containerId('alone');
    const sandbox = ['--annotation', `io.kubernetes.cri.sandbox-id=${pod}`];
    await runDetached(a, ['sleep', '1000'], sandbox);
    await runDetached(b, ['sleep', '1000'], sandbox);
    await runDetached(c, ['sleep', '1000']);
    const address = (id: string): string => readFileSync(path.join(bundleOf(id), 'address'), 'utf8');
    const shared = address(a);
    expect(address(b)).toBe(shared);
    expect(address(c)).not.toBe(shared);
    // A keeper per group, and one brain: the namespace's, which both keepers attached to.
    const podKeeper = shim().keeperOf(a);
    expect(podKeeper).toBeGreaterThan(0);
    expect(shim().keeperOf(b)).toBe(podKeeper);
    expect(shim().keeperOf(c)).not.toBe(podKeeper);
    const host = shim().serverOf(a);
    expect(host).toBeGreaterThan(0);
    expect(shim().serverOf(b)).toBe(host);
    expect(shim().serverOf(c)).toBe(host);

    // Each container's own requests reach it through the shared socket.
    expect((await shim().ctrRun(['task', 'exec', '--exec-id', 'x', b, 'sh', '-c', 'exit 9'])).code).toBe(9);
    shim().ctr(['task', 'kill', '-s', 'SIGKILL', a]);
    await shim().waitEvent(a, '/tasks/exit');
    expect(task(b)?.status).toBe('RUNNING');
    await remove(a);
    await shim().waitEvent(a, '/tasks/delete');
    // The pod's socket serves b still.
    expect(shim().serverOf(b)).toBe(host);
    expect(task(b)?.status).toBe('RUNNING');

    // The pod's group ends with b, while the host goes on serving c.
    shim().ctr(['task', 'kill', '-s', 'SIGKILL', b]);
    await shim().waitEvent(b, '/tasks/exit');
    await remove(b);
    await until('the pod\'s socket to go', () => !existsSync(shared.replace('unix://', '')));
    await until('the pod\'s keeper to exit', () => !shim().keepers().includes(podKeeper as number));
    expect(shim().serverOf(c)).toBe(host);
    expect((await shim().ctrRun(['task', 'exec', '--exec-id', 'y', c, 'sh', '-c', 'exit 5'])).code).toBe(5);
    shim().ctr(['task', 'kill', '-s', 'SIGKILL', c]);
    await shim().waitEvent(c, '/tasks/exit');
    const alone = address(c).replace('unix://', '');
    await remove(c);
    await until('the brain and the keepers to exit', () => !shim().servers().includes(host as number) && shim().keepers().length === 0);
    expect(existsSync(alone)).toBe(false);
    expect(readdirSync(shim().socketDir).filter((f) => !f.startsWith('spare-'))).toEqual([]);
  });
});
