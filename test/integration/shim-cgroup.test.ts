// ShimCgroup: containerd writes the task's runtime options on start's stdin, and runc's
// shim moves itself into the cgroup they name; ours moves the group's keeper there (the
// process that stands for the pod). A cgroup that exists nowhere fails the start, as runc's
// shim fails it, with nothing left behind.
import { create, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OptionsSchema } from '../../src/gen/containerd/runc/v1/options_pb.js';
import { repoRoot, TEST_CGROUP_PARENT } from '../helpers/paths.js';
import { processesMatching } from '../helpers/shim-containerd.js';

const launcher = path.join(repoRoot, 'bin', 'containerd-shim-ts-v2');
const work = mkdtempSync(path.join(os.tmpdir(), 'tsrun-shimcg-'));
const cgroupName = `${TEST_CGROUP_PARENT}/shimcg-${process.pid}`;
/** Each cgroup hierarchy once (cpu and cpuacct are one), as the launcher sees them. */
const hierarchies = [...new Set(readdirSync('/sys/fs/cgroup').map((h) => realpathSync(path.join('/sys/fs/cgroup', h))))].filter((h) =>
  existsSync(path.join(h, 'cgroup.procs')),
);

afterAll(() => {
  for (const pid of processesMatching(realpathSync(launcher), work)) process.kill(pid, 'SIGKILL');
  for (const pid of processesMatching(path.join(work, 'fake-node'))) process.kill(pid, 'SIGKILL');
  spawnSync('sleep', ['0.3']);
  for (const h of hierarchies) if (existsSync(path.join(h, cgroupName))) rmdirSync(path.join(h, cgroupName));
  rmSync(work, { recursive: true, force: true });
});

function start(id: string, shimCgroup: string): ReturnType<typeof spawnSync> {
  const fakeNode = path.join(work, 'fake-node');
  writeFileSync(fakeNode, '#!/bin/sh\nexec sleep 60\n');
  chmodSync(fakeNode, 0o755);
  const bundle = path.join(work, 'bundles', id);
  mkdirSync(bundle, { recursive: true });
  writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ ociVersion: '1.0.2' }));
  const options = create(AnySchema, { typeUrl: 'containerd.runc.v1.Options', value: toBinary(OptionsSchema, create(OptionsSchema, { shimCgroup })) });
  return spawnSync(launcher, ['-namespace', 'ns1', '-address', '/run/ctd.sock', '-publish-binary', '/bin/false', '-id', id, 'start'], {
    cwd: bundle,
    input: Buffer.from(toBinary(AnySchema, options)),
    env: { PATH: process.env.PATH, TSRUN_NODE: fakeNode, TSRUN_SHIM_SOCKET_DIR: path.join(work, 's'), TSRUN_SHIM_SPARE: '0' },
    timeout: 10_000,
  });
}

describe('ShimCgroup', () => {
  it('puts the group\'s keeper in the cgroup the options name, in every hierarchy that has it', () => {
    for (const h of hierarchies) {
      mkdirSync(path.join(h, cgroupName), { recursive: true });
      // A v1 cpuset takes tasks only once it has cpus and mems (as an operator's would).
      if (existsSync(path.join(h, 'cpuset.cpus'))) {
        for (const dir of [TEST_CGROUP_PARENT, cgroupName]) {
          for (const f of ['cpuset.cpus', 'cpuset.mems']) {
            if (readFileSync(path.join(h, dir, f), 'utf8').trim() === '') writeFileSync(path.join(h, dir, f), readFileSync(path.join(h, f), 'utf8'));
          }
        }
      }
    }
    const r = start('c1', `/${cgroupName}`);
    expect(r.stderr.toString()).toBe('');
    expect(r.status).toBe(0);
    const [keeper] = processesMatching(realpathSync(launcher), '-id c1 ', ' keep');
    expect(keeper).toBeGreaterThan(0);
    const lines = readFileSync(`/proc/${keeper}/cgroup`, 'utf8').trim().split('\n');
    // Every hierarchy of this host: the named cgroup (v1 lines and the unified 0:: line alike).
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      if (l.endsWith(':/')) continue; // a hierarchy with no such directory (none were left out here)
      expect(l.split(':').slice(2).join(':'), l).toBe(`/${cgroupName}`);
    }
    expect(lines.filter((l) => l.endsWith(`/${cgroupName}`)).length).toBe(lines.length);
  });

  it('fails the start when the cgroup is nowhere, naming it, and leaves no keeper or socket', () => {
    const r = start('c2', '/no/such/cgroup');
    expect(r.status).toBe(1);
    expect(r.stderr.toString()).toContain('shim cgroup /no/such/cgroup: no cgroup hierarchy has /no/such/cgroup');
    expect(r.stdout.toString()).toBe('');
    expect(processesMatching(realpathSync(launcher), '-id c2 ', ' keep')).toEqual([]);
    // The group's socket went with the failed start (the first test's group is still there).
    const c2 = readdirSync(path.join(work, 's')).filter((f) => !f.startsWith('host-') && !f.startsWith('brain-'));
    expect(c2).toHaveLength(1);
  });
});
