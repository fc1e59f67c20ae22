// --debug and --log, side by side with runc 1.1.5: debug lines trace create (tsrun-init's
// steps among them, as runc's trace nsexec's), exec and the rest, in text and JSON, on stderr
// or in the --log file alone; --log is opened at start, whether or not anything is logged,
// and one that cannot be opened fails the command.
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { errorOf, runc, tsrun, type Result, type RunOptions } from '../helpers/cli.js';
import { leftoverCgroups } from '../helpers/leaks.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

type Cli = (args: string[], o?: RunOptions) => Promise<Result>;
const clis = (b: TestBundle): Array<['runc' | 'tsrun', Cli]> => [
  ['runc', (args, o) => runc(path.join(b.dir, 'runc-state'), args, o)],
  ['tsrun', (args, o) => tsrun(b.root, args, o)],
];

interface Line {
  level: string;
  msg: string;
}

const textLines = (s: string): Line[] =>
  s.split('\n').flatMap((l) => {
    const m = /^time="[^"]+" level=(\w+) msg=("(?:[^"\\]|\\.)*")/.exec(l);
    return m ? [{ level: m[1] as string, msg: JSON.parse(m[2] as string) as string }] : [];
  });
const jsonLines = (s: string): Line[] => s.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);

describe('--debug and --log, as runc 1.1.5', () => {
  it('debug lines for create (with the init\'s own steps), start, exec and delete, in text on stderr and JSON in --log', async () => {
    const b = new TestBundle('debuglog', ['/bin/sleep', '1000']);
    bundles.push(b);
    const seen: Record<string, { create: Line[]; exec: Line[]; start: Line[]; delete: Line[]; stdoutClean: boolean }> = {};
    for (const [name, cli] of clis(b)) {
      const log = path.join(b.dir, `${name}.log`);
      rmSync(log, { force: true });
      // create's stdio stays with the container: its trace is read from --log
      const create = await cli(['--debug', '--log', log, '--log-format', 'json', 'create', '--bundle', b.dir, b.id]);
      expect(create.code).toBe(0);
      expect(create.stderr).toBe('');
      const createLines = jsonLines(readFileSync(log, 'utf8'));
      const start = await cli(['--debug', 'start', b.id]);
      const exec = await cli(['--debug', 'exec', b.id, 'true']);
      const del = await cli(['--debug', 'delete', '--force', b.id]);
      for (const r of [start, exec, del]) expect(r.code).toBe(0);
      seen[name] = { create: createLines, start: textLines(start.stderr), exec: textLines(exec.stderr), delete: textLines(del.stderr), stdoutClean: exec.stdout === '' };
    }
    for (const name of ['runc', 'tsrun'] as const) {
      const s = seen[name];
      expect(s?.create.length, name).toBeGreaterThan(3);
      expect(s?.create.every((l) => l.level === 'debug'), name).toBe(true);
      expect(s?.exec.filter((l) => l.level === 'debug').length, name).toBeGreaterThan(3);
      expect(s?.stdoutClean).toBe(true);
    }
    // the init's own set-up steps are in the trace: runc's nsexec stages, tsrun-init's steps
    expect(seen.runc?.create.some((l) => l.msg.startsWith('nsexec'))).toBe(true);
    const ts = seen.tsrun;
    for (const lines of [ts?.create ?? [], ts?.exec ?? []]) {
      expect(lines.some((l) => /^tsrun-init\[\d+\]: bootstrap: plan of \d+ bytes/.test(l.msg))).toBe(true);
      expect(lines.some((l) => /^tsrun-init\[\d+\]: ready: /.test(l.msg))).toBe(true);
    }
    expect(ts?.create.some((l) => /^tsrun-init\[1\]: enter the rootfs \(pivot_root\)$/.test(l.msg))).toBe(true);
    // tsrun says what start and delete do too (runc has nothing to say there)
    expect(ts?.start.map((l) => l.level)).toContain('debug');
    expect(ts?.delete.map((l) => l.level)).toContain('debug');
    expect(leftoverCgroups(b.id)).toEqual([]);
  });

  it('--log is created at start even when nothing is logged, and one that cannot be opened fails', async () => {
    const b = new TestBundle('logopen', ['/bin/true']);
    bundles.push(b);
    for (const [name, cli] of clis(b)) {
      const log = path.join(b.dir, `${name}-quiet.log`);
      const list = await cli(['--log', log, 'list']);
      expect(list.code, name).toBe(0);
      expect(existsSync(log), name).toBe(true);
      expect(statSync(log).size, name).toBe(0);
      const bad = await cli(['--log', path.join(b.dir, 'no-such-dir', 'x.log'), 'list']);
      expect(bad.code, name).toBe(1);
      expect(errorOf(bad), name).toBe(`open ${path.join(b.dir, 'no-such-dir', 'x.log')}: no such file or directory`);
    }
  });
});
