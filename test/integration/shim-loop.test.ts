// Many containers in a row through the shim leave nothing behind: no keeper, no brain (but
// the one warm spare), mount, fifo, cgroup, state or zombie. `npm test` runs 20; TSRUN_SHIM_LOOP=100 runs the full
// hundred of the acceptance criteria.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mountsUnder } from '../helpers/containerd.js';
import { leftoverCgroups } from '../helpers/leaks.js';
import { containerId, IMAGE, NAMESPACE, processesMatching, shimContainerdForFile, TS } from '../helpers/shim.js';

const LOOP = Number(process.env.TSRUN_SHIM_LOOP ?? 20);
const FIFO_DIR = '/run/containerd/fifo';

const shim = shimContainerdForFile();

/** Zombies whose parent is one of pids. */
function zombieChildrenOf(pids: number[]): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z' && pids.includes(Number(rest[1]))) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** ctr's fifos (<dir>/<random>/<id>-stdin...) of these containers that still exist. */
function leftoverFifos(ids: string[]): string[] {
  if (!existsSync(FIFO_DIR)) return [];
  const found: string[] = [];
  for (const d of readdirSync(FIFO_DIR)) {
    try {
      for (const f of readdirSync(path.join(FIFO_DIR, d))) if (ids.some((id) => f.startsWith(`${id}-`))) found.push(path.join(FIFO_DIR, d, f));
    } catch {
      // removed meanwhile
    }
  }
  return found;
}

describe(`${LOOP} containers in a row`, () => {
  it('are started and removed, each with its output, and leave nothing behind', async () => {
    const ids: string[] = [];
    for (let i = 0; i < LOOP; i++) {
      const id = containerId(`loop${i}`);
      ids.push(id);
      // A background child too, so that every container has more than its init to clean up.
      const r = await shim().run(TS, id, ['sh', '-c', `sleep 10 & echo loop-${i}`]);
      if (r.stdout !== `loop-${i}\n` || r.code !== 0) {
        throw new Error(`container ${i}: ${JSON.stringify(r)}\n${shim().ctd.log().slice(-4000)}`);
      }
    }
    const deadline = Date.now() + 10_000;
    while ((shim().servers().length > 0 || shim().keepers().length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(shim().servers()).toEqual([]);
    expect(shim().keepers()).toEqual([]);
    // What stays is one warm spare for the next container, and its socket (an idle spare
    // exits on its own: shim-spare.test.ts).
    expect(shim().spares().length).toBeLessThanOrEqual(1);
    expect(readdirSync(shim().socketDir).filter((f) => !f.startsWith('spare-'))).toEqual([]);
    expect(readdirSync(shim().socketDir).length).toBeLessThanOrEqual(1);
    expect(readdirSync(path.join(shim().stateRoot, NAMESPACE))).toEqual([]);
    expect(mountsUnder(shim().ctd.dir)).toEqual([]);
    expect(leftoverFifos(ids)).toEqual([]);
    expect(ids.flatMap((id) => leftoverCgroups(id))).toEqual([]);
    expect(ids.flatMap((id) => processesMatching(id))).toEqual([]);
    expect(zombieChildrenOf([process.pid, shim().ctd.pid])).toEqual([]);
    expect(shim().ctr(['task', 'ls']).trim().split('\n')).toHaveLength(1);
  }, 60_000 + LOOP * 5000);

  it('reaps the orphans containers without a pid namespace leave to their group\'s keeper', async () => {
    const group = ['--annotation', `io.containerd.ts.v2.group=${containerId('group')}`];
    const holder = containerId('holder');
    expect((await shim().ctrRun(['run', '-d', '--runtime', TS, ...group, IMAGE, holder, 'sleep', '1000'])).code).toBe(0);
    const server = shim().keeperOf(holder);
    expect(server).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) {
      const id = containerId(`orphans${i}`);
      // In the host's pid namespace, the sleeps outlive their parent and are reparented
      // to the keeper (the subreaper); the init's exit kills them, leaving zombies to reap.
      const r = await shim().run(TS, id, ['sh', '-c', 'sleep 100 & sleep 100 & echo spawned'], { flags: [...group, '--with-ns', `pid:/proc/${process.pid}/ns/pid`] });
      expect(r.stdout).toBe('spawned\n');
    }
    const deadline = Date.now() + 5000;
    while (zombieChildrenOf([server as number]).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(zombieChildrenOf([server as number])).toEqual([]);
    expect(shim().keeperOf(holder)).toBe(server);
    shim().ctr(['task', 'kill', '-s', 'SIGKILL', holder]);
    await shim().waitEvent(holder, '/tasks/exit');
    shim().ctr(['task', 'delete', holder]);
    shim().ctr(['container', 'rm', holder]);
  });
});
