// The addon's spawn starts a process in a cgroup v2 directory it is given (clone3's
// CLONE_INTO_CGROUP, on its vfork-style path): the process is there from its first
// instruction, with no move by pid; a directory that does not exist fails the spawn, naming it,
// and starts nothing.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pidfdSendSignal, spawnHere, waitExit } from '../../src/native/index.js';
import { TEST_CGROUP_PARENT } from '../helpers/paths.js';

const unified = existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
const dir = path.join(unified, TEST_CGROUP_PARENT, `spawn-${process.pid}`);

afterAll(() => {
  if (existsSync(dir)) rmdirSync(dir);
});

describe('spawn into a cgroup', () => {
  it('starts the process in the directory, and says so', async () => {
    mkdirSync(dir, { recursive: true });
    const exe = openSync('/bin/sleep', 'r');
    try {
      const child = spawnHere({ exeFd: exe, argv: ['sleep', '30'], env: [], fds: [-1, -1, -1], cgroup: dir });
      expect(child.inCgroup).toBe(true);
      expect(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8')).toContain(`0::/${TEST_CGROUP_PARENT}/spawn-${process.pid}\n`);
      pidfdSendSignal(child.pidfd, 9);
      expect((await waitExit(child.pidfd)).signal).toBe(9);
      closeSync(child.pidfd);
    } finally {
      closeSync(exe);
    }
    expect(readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')).toBe('');
  });

  it('refuses a directory that is not there, naming it, and starts nothing', () => {
    const exe = openSync('/bin/sleep', 'r');
    try {
      const gone = path.join(dir, 'gone');
      expect(() => spawnHere({ exeFd: exe, argv: ['sleep', '30'], env: [], fds: [-1, -1, -1], cgroup: gone })).toThrow(gone);
    } finally {
      closeSync(exe);
    }
  });
});
