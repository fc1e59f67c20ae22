// Escape class CVE-2024-21626 (first half): a host fd that reaches the container. The
// container's init, a process exec'd into it, and pid 1 seen from an exec list their fds:
// only 0-2 and the fds the caller preserved may be there. runc 1.1.5 as Debian ships it
// (with the backported fix) behaves the same here, so its run shows the check holding for a
// correct runtime; the cwd test beside this file shows the fd-to-cwd escape itself.
import { closeSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { RUNTIMES } from '../helpers/runtimes.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

/** fd number -> link target, from `ls -l /proc/<pid>/fd` output. */
function fds(ls: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of ls.matchAll(/ (\d+) -> (.*)$/gm)) out.set(Number(m[1]), m[2] ?? '');
  return out;
}

describe.each(RUNTIMES)('fds in a container under $name', (rt) => {
  it('are only stdio and the preserved ones, in an exec and in pid 1 (the init)', async () => {
    const b = new TestBundle(`fds-${rt.name}`, ['sleep', '100000']);
    bundles.push(b);
    b.edit((c) => (c.root.readonly = false));
    const root = path.join(b.dir, `${rt.name}-state`);
    const preserved = path.join(b.dir, 'preserved');
    writeFileSync(preserved, '');
    const fd = openSync(preserved, 'r');
    try {
      const r = await rt.cli(root, ['run', '-d', '--preserve-fds', '1', '--bundle', b.dir, b.id], { extraFds: [fd] });
      expect(r.code, r.stderr).toBe(0);
    } finally {
      closeSync(fd);
    }
    try {
      const exec = await rt.cli(root, ['exec', b.id, 'sh', '-c', 'ls -l /proc/$$/fd']);
      expect(exec.code, exec.stderr).toBe(0);
      expect([...fds(exec.stdout).keys()].sort()).toEqual([0, 1, 2]);
      const pid1 = await rt.cli(root, ['exec', b.id, 'ls', '-l', '/proc/1/fd']);
      expect(pid1.code, pid1.stderr).toBe(0);
      const one = fds(pid1.stdout);
      expect([...one.keys()].sort()).toEqual([0, 1, 2, 3]);
      expect(one.get(3)).toBe(preserved);
      // stdio is what the caller gave: pipes or /dev/null, never a runtime file.
      for (const m of [fds(exec.stdout), one]) {
        for (const n of [0, 1, 2]) expect(m.get(n)).toMatch(/^(pipe:\[\d+\]|\/dev\/null|socket:\[\d+\])$/);
      }
    } finally {
      await rt.cli(root, ['delete', '--force', b.id]);
    }
  });
});
