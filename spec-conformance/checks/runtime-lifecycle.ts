// runtime.md#lifecycle and #errors: config.json is read once, and an operation that fails
// leaves the environment as if it had never been attempted.
import { existsSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { testCgroupDirs } from '../lib/cgroups.js';
import { probeArgs } from '../lib/config.js';
import { mountsUnder } from '../lib/host.js';
import { scenario } from '../lib/scenario.js';

export const config_updates_without_affect = scenario({
  section: 'runtime.md#lifecycle',
  name: 'config_updates_without_affect',
  checks: {
    'rewritten-config': 'changes to config.json after create do not affect the container',
  },
  async run(s) {
    const b = await s.bundle((c) => (c.process.args = probeArgs(['echo', 'original'])));
    const c = s.container(b);
    await c.createOk();
    writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify({ ociVersion: '1.0.0', process: { args: ['/bin/false'], cwd: '/' } }));
    const started = await c.start();
    s.succeeded('rewritten-config', started, 'start after config.json was rewritten');
    await c.waitStopped();
    s.ok('rewritten-config', c.output().has('echo original'), `the container did not run the original program; it printed: ${c.output().text}`);
  },
});

export const create_error = scenario({
  section: 'runtime.md#errors',
  name: 'create_error',
  checks: {
    error: 'create generates an error when it cannot make the environment (a bind mount of a missing source)',
    state: 'the failed create leaves no container for state to report',
    cgroups: 'the failed create leaves no cgroup',
    mounts: 'the failed create leaves no mount on the host',
    processes: 'the failed create leaves no process in the rootfs',
  },
  async run(s) {
    const b = await s.bundle((c) => {
      c.mounts.push({ destination: '/missing', type: 'bind', source: path.join(s.work, 'does-not-exist'), options: ['rbind'] });
    });
    const c = s.container(b);
    const r = await c.create();
    s.failed('error', r, 'create with a bind mount of a missing source');
    s.ok('state', (await c.state()) === undefined, 'state still reports the container');
    const cg = testCgroupDirs(s.host, c.id).filter((d) => existsSync(d));
    s.ok('cgroups', cg.length === 0, `left: ${cg.join(' ')}`);
    s.equal('mounts', mountsUnder(b.dir), []);
    s.equal('processes', processesRootedIn(b.rootfs), []);
  },
});

/** Processes whose root directory is the rootfs (or under it): a container's. */
export function processesRootedIn(rootfs: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const root = readlinkSync(`/proc/${name}/root`);
      if (root === rootfs || root.startsWith(rootfs + '/')) pids.push(Number(name));
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}
