// runc's command-line text where callers and tools read it, side by side with runc 1.1.5:
// --version's layout (tools parse commit: and spec:), -h on every command, an unknown help
// topic, the help's sections, and checkpoint's argument checks before its refusal.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { errorOf, runc, tsrun, type Result, type RunOptions } from '../helpers/cli.js';
import { leftoverCgroups } from '../helpers/leaks.js';

const bundles: TestBundle[] = [];
const scratch = mkdtempSync(path.join(os.tmpdir(), 'tsrun-clitext-'));
afterAll(() => {
  bundles.forEach((b) => b.remove());
  rmSync(scratch, { recursive: true, force: true });
});

type Cli = (args: string[], o?: RunOptions) => Promise<Result>;
const both = (root: string): Array<[string, Cli]> => [
  ['runc', (args, o) => runc(path.join(root, 'runc'), args, o)],
  ['tsrun', (args, o) => tsrun(path.join(root, 'tsrun'), args, o)],
];

const COMMANDS = ['checkpoint', 'create', 'delete', 'events', 'exec', 'kill', 'list', 'pause', 'ps', 'restore', 'resume', 'run', 'spec', 'start', 'state', 'update', 'features'];

describe("runc's command-line text", () => {
  it('--version: the same lines, in runc\'s layout', async () => {
    const keys: Record<string, string[]> = {};
    const lines: Record<string, string[]> = {};
    for (const [name, cli] of both(scratch)) {
      for (const flag of ['--version', '-v']) {
        const r = await cli([flag]);
        expect(r.code).toBe(0);
        lines[name] = r.stdout.trim().split('\n');
        keys[name] = (lines[name] ?? []).map((l) => (l.startsWith(`${name} version `) ? 'version' : l.split(':')[0] ?? ''));
      }
    }
    // runc's go: line is tsrun's node: line
    expect(keys.tsrun).toEqual(keys.runc?.map((k) => (k === 'go' ? 'node' : k)));
    expect(keys.tsrun).toEqual(['version', 'commit', 'spec', 'node', 'libseccomp']);
    const t = lines.tsrun ?? [];
    expect(t[0]).toMatch(/^tsrun version \d+\.\d+\.\d+/);
    expect(t[1]).toMatch(/^commit: [0-9a-f]{7,}(-dirty)?$|^commit: \S+$/);
    expect(t[2]).toBe('spec: 1.2.1');
    // the same libseccomp: both link Debian's
    expect(t[4]).toBe(lines.runc?.[4]);
  });

  it('-h and --help on every command: its help, status 0', async () => {
    for (const [name, cli] of both(scratch)) {
      for (const cmd of COMMANDS) {
        for (const flag of ['-h', '--help']) {
          const r = await cli([cmd, flag]);
          expect(r.code, `${name} ${cmd} ${flag}: ${r.stderr}`).toBe(0);
          expect(r.stdout).toMatch(new RegExp(`^NAME:\\n   ${name} ${cmd} - `));
          expect(r.stdout).toContain('\n\nUSAGE:\n');
        }
      }
    }
  });

  it('the main help: runc\'s sections in runc\'s order', async () => {
    for (const [name, cli] of both(scratch)) {
      const r = await cli(['--help']);
      expect(r.code).toBe(0);
      const sections = r.stdout.split('\n').filter((l) => /^[A-Z][A-Z ]+:$/.test(l));
      expect(sections, name).toEqual(['NAME:', 'USAGE:', 'VERSION:', 'COMMANDS:', 'GLOBAL OPTIONS:']);
      for (const cmd of COMMANDS) expect(r.stdout, `${name}: ${cmd}`).toMatch(new RegExp(`\\n   ${cmd}\\b`));
    }
  });

  it('a help topic that does not exist: runc\'s words, status 3', async () => {
    for (const args of [['foo', '-h'], ['foo'], ['help', 'foo'], ['--debug', 'foo', '--help']]) {
      const seen: Array<[number, string]> = [];
      for (const [, cli] of both(scratch)) {
        const r = await cli(args);
        seen.push([r.code, errorOf(r).trim()]);
      }
      expect(seen, args.join(' ')).toEqual([[3, "No help topic for 'foo'"], [3, "No help topic for 'foo'"]]);
    }
  });
});

describe('checkpoint checks its arguments as runc does before refusing', () => {
  it('with a running and a created container, called from an empty directory', async () => {
    const b = new TestBundle('ckpt', ['/bin/sleep', '1000']);
    bundles.push(b);
    const cases: Array<[string, string[], string]> = [
      ['no id', [], '"checkpoint" requires exactly 1 argument(s)'],
      ['two ids', [b.id, 'extra'], '"checkpoint" requires exactly 1 argument(s)'],
      ['no such container', ['nope'], 'does not exist'],
      ['absolute --parent-path', ['--parent-path', '/abs', b.id], '--parent-path must be relative'],
      ['missing --parent-path', ['--parent-path', 'missing', b.id], 'invalid --parent-path: stat '],
      ['bad --page-server', ['--page-server', 'nohostport', b.id], 'Use --page-server ADDRESS:PORT to specify page server'],
      ['bad --manage-cgroups-mode', ['--manage-cgroups-mode', 'bogus', b.id], 'Invalid manage cgroups mode'],
      ['bad --empty-ns', ['--empty-ns', 'bogus', b.id], 'namespace "bogus" is not supported'],
    ];
    for (const [name, cli] of both(b.dir)) {
      const cwd = mkdtempSync(path.join(scratch, `${name}-`));
      expect((await cli(['create', '--bundle', b.dir, b.id])).code).toBe(0);
      try {
        const created = await cli(['checkpoint', b.id], { cwd });
        expect([created.code, errorOf(created)]).toEqual([1, 'Container cannot be checkpointed in created state']);
        expect((await cli(['start', b.id])).code).toBe(0);
        for (const [what, args, text] of cases) {
          const r = await cli(['checkpoint', ...args], { cwd });
          expect(r.code, `${name}: ${what}`).toBe(1);
          expect(errorOf(r), `${name}: ${what}`).toContain(text);
        }
        const valid = await cli(['checkpoint', '--leave-running', b.id], { cwd });
        expect(valid.code).toBe(1);
        expect(errorOf(valid)).toBe(name === 'runc' ? 'CRIU version check failed: exec: "criu": executable file not found in $PATH' : 'checkpoint: not supported: tsrun has no CRIU checkpoint/restore');
        // the container is left as it was
        expect((await cli(['state', b.id])).stdout).toContain('"running"');
      } finally {
        await cli(['delete', '--force', b.id]);
      }
      // runc makes --image-path (./checkpoint) on the way; tsrun makes nothing
      expect(existsSync(path.join(cwd, 'checkpoint'))).toBe(name === 'runc');
      if (name === 'tsrun') expect(readdirSync(cwd)).toEqual([]);
    }
    expect(leftoverCgroups(b.id)).toEqual([]);
  });
});
