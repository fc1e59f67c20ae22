// The fork-safety contract of architecture.md, checked rather than hoped: between the
// vfork-style clone in the addon (clone, or clone3 into the cgroup) and the execveat of the sealed tsrun-init, the child (which
// shares Node's memory) makes only the fd moves and the exec, nothing that could take a lock
// or run a handler.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { tsrunNodeBin } from '../helpers/paths.js';

const b = new TestBundle('forksafety', ['true']);
afterAll(() => b.remove());

it('the spawned child runs only fcntl, dup2 and execveat before it becomes tsrun-init', () => {
  const log = path.join(b.dir, 'strace.log');
  execFileSync('strace', ['-f', '-qq', '-o', log, process.execPath, tsrunNodeBin, '--root', b.root, 'run', '--bundle', b.dir, b.id]);
  const lines = readFileSync(log, 'utf8').split('\n');
  const clone = lines.find((l) => /clone3?\(.*CLONE_VFORK/.test(l));
  expect(clone).toBeDefined();
  const child = lines.slice(lines.indexOf(clone!)).map((l) => /^\d+ +<\.\.\. clone3? resumed>.*= (\d+)$/.exec(l)?.[1]).find(Boolean);
  expect(child).toBeDefined();
  const calls: string[] = [];
  for (const l of lines) {
    if (!l.startsWith(`${child} `)) continue;
    const name = /^\d+ +(\w+)\(/.exec(l)?.[1];
    if (!name) continue;
    calls.push(name);
    if (name === 'execveat') break;
  }
  expect(calls[calls.length - 1]).toBe('execveat');
  expect(new Set(calls)).toEqual(new Set(['fcntl', 'dup2', 'execveat']));
  // stdin, stdout, stderr, the sync socket, the exec fifo: lifted, placed, then the exec.
  expect(calls.length).toBeLessThanOrEqual(16);
});
