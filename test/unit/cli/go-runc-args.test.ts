// Every command line go-runc 1.0 (containerd 1.6's runc shim) builds, parsed by our CLI with
// no container behind it: each must get past flag parsing to the lookup of the container, and
// every failure must be a runc-style JSON line in --log, the last error line of which the
// shim shows its caller. The argument lists are the ones recorded from containerd 1.6.20's
// runc shim driving a logging wrapper, plus the options go-runc has and that shim leaves off.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import * as output from '../../../src/cli/output.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-gorunc-'));
  // Our error lines go to stderr too when --log is a file; keep the test output clean.
  vi.spyOn(output, 'err').mockImplementation(() => undefined);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

interface LogLine {
  level: string;
  msg: string;
  time: string;
}

let n = 0;
/** Runs the CLI with go-runc's globals and returns the exit code and the log's lines. */
async function run(args: string[], globals: string[] = []): Promise<{ code: number; lines: LogLine[] }> {
  const log = path.join(dir, `log-${++n}.json`);
  const root = path.join(dir, 'root');
  const code = await main(['node', 'tsrun', '--root', root, '--log', log, '--log-format', 'json', ...globals, ...args]);
  const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
  return { code, lines: text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine) };
}

/** What go-runc's getLastRuntimeError returns: the msg of the last line at level error. */
function lastError(lines: LogLine[]): string | undefined {
  return lines.filter((l) => l.level === 'error').at(-1)?.msg;
}

const BUNDLE = '/run/containerd/io.containerd.runtime.v2.task/k8s.io/c1';

describe("go-runc's command lines", () => {
  it.each([
    ['start', ['start', 'c1']],
    ['kill', ['kill', 'c1', '9']],
    ['kill --all', ['kill', '--all', 'c1', '15']],
    ['pause', ['pause', 'c1']],
    ['resume', ['resume', 'c1']],
    ['ps', ['ps', '--format', 'json', 'c1']],
    ['ps as a table (Top)', ['ps', '--format', 'table', 'c1', '-o', 'pid']],
    ['state', ['state', 'c1']],
    ['update', ['update', '--resources', '-', 'c1']],
    ['events --stats', ['events', '--stats', 'c1']],
    ['events --interval', ['events', '--interval=5s', 'c1']],
    ['delete', ['delete', 'c1']],
  ])('%s gets to the container lookup', async (_what, args) => {
    const r = await run(args);
    expect(r.code).toBe(1);
    // The runc shim keys on "does not exist" (delete, kill) to tell a gone container.
    expect(lastError(r.lines)).toBe('container "c1" does not exist');
    for (const l of r.lines) expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it.each([
    ['exec', ['exec', '--process', '/tmp/runc-process1', '--detach', '--pid-file', `${BUNDLE}/e1.pid`, 'c1']],
    ['exec with a terminal', ['exec', '--process', '/tmp/runc-process1', '--console-socket', '/tmp/pty1/pty.sock', '--detach', '--pid-file', `${BUNDLE}/e1.pid`, 'c1']],
    ['exec with extra fds', ['exec', '--process', '/tmp/runc-process1', '--preserve-fds', '2', 'c1']],
  ])('%s gets to the container lookup, and fails with 255 as runc exec does', async (_what, args) => {
    const r = await run(args);
    expect(r.code).toBe(255);
    expect(lastError(r.lines)).toBe('exec failed: container "c1" does not exist');
  });

  it("takes every global flag go-runc can pass, --rootless in go-runc's = form", async () => {
    const r = await run(['state', 'c1'], ['--debug', '--systemd-cgroup', '--criu', '/usr/sbin/criu', '--rootless=false']);
    expect(lastError(r.lines)).toBe('container "c1" does not exist');
    expect((await run(['state', 'c1'], ['--rootless=auto'])).code).toBe(1);
    expect(lastError((await run(['state', 'c1'], ['--rootless=maybe'])).lines)).toMatch(/^--rootless: must be true, false or auto/);
  });

  it('create takes the flags go-runc passes, and a bad bundle is named', async () => {
    const r = await run(['create', '--bundle', path.join(dir, 'nope'), '--pid-file', `${BUNDLE}/init.pid`, '--console-socket', '/tmp/pty/pty.sock', '--no-pivot', '--no-new-keyring', '--preserve-fds', '1', 'c1']);
    expect(r.code).toBe(1);
    expect(lastError(r.lines)).toContain('does not exist');
    expect(lastError(r.lines)).toContain(path.join(dir, 'nope'));
  });

  it('delete --force of a container that is gone succeeds, as the shim expects after delete', async () => {
    const r = await run(['delete', '--force', 'c1']);
    expect(r.code).toBe(0);
    expect(lastError(r.lines)).toBeUndefined();
  });

  it('puts usage errors in --log too, where go-runc reads them', async () => {
    const unknownFlag = await run(['create', '--bogus', 'c1']);
    expect(unknownFlag.code).toBe(1);
    expect(lastError(unknownFlag.lines)).toBe("unknown option '--bogus'");
    // runc's (urfave/cli's) answer to a command it does not have, and its exit status
    const unknownCommand = await run(['frobnicate', 'c1']);
    expect(unknownCommand.code).toBe(3);
    expect(lastError(unknownCommand.lines)).toBe("No help topic for 'frobnicate'");
  });

  it('takes checkpoint and restore with the flags go-runc gives them, and looks up what runc looks up first', async () => {
    const cp = await run(['checkpoint', '--image-path', '/tmp/ctd-checkpoint1', '--work-path', `${BUNDLE}/work`, '--leave-running', 'c1']);
    expect(cp.code).toBe(1);
    expect(lastError(cp.lines)).toBe('container "c1" does not exist');
    const restore = await run(['restore', '--image-path', '/tmp/ctd-checkpoint1', '--bundle', dir, '--detach', '--pid-file', `${BUNDLE}/init.pid`, '--no-subreaper', 'c1']);
    expect(restore.code).toBe(1);
    expect(lastError(restore.lines)).toBe(`${dir}/config.json: no config.json in the bundle`);
  });
});
