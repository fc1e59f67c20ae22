// The error texts callers and scripts match, side by side with runc 1.1.5: each case fails
// under both runtimes, both messages hold runc's words (tsrun names the field as well), and
// neither leaves a container or a cgroup behind.
import { rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle, type AnyConfig } from '../helpers/bundle.js';
import { errorOf, runc, tsrun } from '../helpers/cli.js';
import { leftoverCgroups, leftoverMounts } from '../helpers/leaks.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

interface Case {
  name: string;
  edit: (c: AnyConfig, b: TestBundle) => void;
  /** runc's words, in both messages */
  words: string[];
}

const hook = (args: string[], extra: AnyConfig = {}): AnyConfig => ({ path: '/bin/sh', args: ['sh', '-c', ...args], ...extra });

const cases: Case[] = [
  { name: 'unified on cgroup v1', edit: (c) => (c.linux.resources = { unified: { 'pids.max': '10' } }), words: ['invalid configuration: cannot use unified on cgroup v1'] },
  {
    name: '/proc a symlink',
    edit: (_c, b) => {
      rmSync(path.join(b.rootfs, 'proc'), { recursive: true, force: true });
      symlinkSync('/tmp', path.join(b.rootfs, 'proc'));
    },
    words: ['filesystem "proc" must be mounted on ordinary directory'],
  },
  {
    name: 'no seccomp agent at listenerPath',
    edit: (c, b) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: path.join(b.dir, 'no-agent.sock'), syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }),
    words: ['failed to connect with seccomp agent'],
  },
  {
    name: 'SCMP_ACT_NOTIFY on write',
    edit: (c, b) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: path.join(b.dir, 'agent.sock'), syscalls: [{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }] }),
    words: ['SCMP_ACT_NOTIFY cannot be used for the write syscall'],
  },
  { name: 'a prestart hook exits 3', edit: (c) => (c.hooks = { prestart: [hook(['exit 3'])] }), words: ['error running hook #0: ', 'exit status 3'] },
  { name: 'a createRuntime hook dies of SIGSYS', edit: (c) => (c.hooks = { createRuntime: [hook(['kill -SYS $$'])] }), words: ['error running hook #0: ', 'signal: bad system call'] },
  { name: 'a second createContainer hook exits 1', edit: (c) => (c.hooks = { createContainer: [hook(['true']), hook(['exit 1'])] }), words: ['error running hook #1: ', 'exit status 1'] },
  { name: 'a createContainer hook dies of SIGKILL', edit: (c) => (c.hooks = { createContainer: [hook(['kill -KILL $$'])] }), words: ['error running hook #0: ', 'signal: killed'] },
  { name: 'a hook past its timeout', edit: (c) => (c.hooks = { createRuntime: [hook(['exec sleep 10'], { timeout: 1 })] }), words: ['error running hook #0: ', 'hook ran past specified timeout of 1.0s'] },
];

describe("runc's error texts, side by side", () => {
  it.each(cases)('$name', async (c) => {
    const b = new TestBundle('errtext', ['/bin/true']);
    bundles.push(b);
    b.edit((cfg) => c.edit(cfg, b));
    for (const [name, cli] of [
      ['runc', (args: string[]) => runc(path.join(b.dir, 'runc-state'), args)],
      ['tsrun', (args: string[]) => tsrun(b.root, args)],
    ] as const) {
      const r = await cli(['run', '--bundle', b.dir, b.id]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(1);
      for (const w of c.words) expect(errorOf(r), name).toContain(w);
      expect((await cli(['list', '-q'])).stdout, name).toBe('');
      expect(leftoverCgroups(b.id), name).toEqual([]);
      expect(leftoverMounts(b.rootfs), name).toEqual([]);
    }
  });
});
