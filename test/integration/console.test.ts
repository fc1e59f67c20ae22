// process.terminal with --console-socket: the pty is made in the container's devpts, its
// master handed to the caller over SCM_RIGHTS, the slave becomes the container's stdio and
// controlling terminal, and consoleSize is applied. Checked against runc.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { runc, tsrun, type Result } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

async function withConsole(
  socket: string,
  drive: () => Promise<void>,
): Promise<{ output: string; info: string }> {
  const rx = spawn('python3', [path.join(repoRoot, 'test/helpers/console-receiver.py'), socket]);
  let output = '';
  let info = '';
  rx.stdout.on('data', (d: Buffer) => (output += d.toString()));
  const ready = new Promise<void>((resolve) =>
    rx.stderr.on('data', (d: Buffer) => {
      info += d.toString();
      if (info.includes('ready')) resolve();
    }),
  );
  const done = new Promise<void>((resolve) => rx.on('close', () => resolve()));
  await ready;
  await drive();
  await done;
  return { output, info };
}

async function runWith(kind: 'runc' | 'tsrun', b: TestBundle): Promise<{ output: string; info: string }> {
  const cli = kind === 'runc' ? runc : tsrun;
  const root = kind === 'runc' ? path.join(b.dir, 'runc-state') : b.root;
  const socket = path.join(b.dir, `${kind}.sock`);
  const ok = (r: Result): void => expect(r).toMatchObject({ code: 0, stderr: '' });
  const result = await withConsole(socket, async () => {
    ok(await cli(root, ['create', '--console-socket', socket, '--bundle', b.dir, b.id]));
    ok(await cli(root, ['start', b.id]));
  });
  await cli(root, ['delete', '--force', b.id]);
  return result;
}

describe('console', () => {
  it('hands over a pty with the asked size, as runc does', async () => {
    const b = new TestBundle('console', ['/bin/sh', '-c', 'tty; stty size; ls -l /dev/console | cut -c1; echo done']);
    bundles.push(b);
    b.edit((c) => {
      c.process.terminal = true;
      c.process.consoleSize = { height: 33, width: 101 };
    });
    const viaTsrun = await runWith('tsrun', b);
    expect(viaTsrun.info).toContain('name /dev/ptmx fds 1');
    expect(viaTsrun.output.replace(/\r/g, '')).toBe('/dev/pts/0\n33 101\nc\ndone\n');
    const viaRunc = await runWith('runc', b);
    expect(viaTsrun.output).toBe(viaRunc.output);
  });

  it('gives an exec\'d process its own pty, without touching /dev/console, as runc does', async () => {
    const b = new TestBundle('console-exec', ['sleep', '1000']);
    bundles.push(b);
    const results: string[] = [];
    for (const kind of ['tsrun', 'runc'] as const) {
      const cli = kind === 'runc' ? runc : tsrun;
      const root = kind === 'runc' ? path.join(b.dir, 'runc-state') : b.root;
      const id = `${b.id}-${kind}`;
      expect((await cli(root, ['run', '-d', '--bundle', b.dir, id])).code).toBe(0);
      const socket = path.join(b.dir, `exec-${kind}.sock`);
      const { output } = await withConsole(socket, async () => {
        const r = await cli(root, ['exec', '-t', '-d', '--console-socket', socket, id, 'sh', '-c', 'tty; test -e /dev/console || echo no-console']);
        expect(r).toMatchObject({ code: 0, stderr: '' });
      });
      results.push(output);
      await cli(root, ['delete', '--force', id]);
    }
    expect(results[0]?.replace(/\r/g, '')).toBe('/dev/pts/0\nno-console\n');
    expect(results[0]).toBe(results[1]);
  });
});
