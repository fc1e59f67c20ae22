// conmon is a child subreaper that waits for every child it has before it exits. A tsrun call
// conmon makes must not start the CLI server: the server's double fork would leave it to
// conmon, which would then wait for it (up to its 10 idle minutes). The stand-in for conmon
// is a Node process that is a subreaper and whose comm is "conmon" (libuv sets it with the
// title); the same process under another name does adopt the server it starts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot, tsrunBin } from '../helpers/paths.js';

interface Seen {
  code: number | null;
  comm: string;
  adopted: number[];
}

function callFrom(title: string, serverDir: string, root: string): Seen {
  const script = `
    const { setChildSubreaper } = await import(${JSON.stringify(path.join(repoRoot, 'dist', 'native', 'index.js'))});
    const { spawnSync } = await import('node:child_process');
    const fs = await import('node:fs');
    process.title = ${JSON.stringify(title)};
    setChildSubreaper(true);
    const r = spawnSync(${JSON.stringify(tsrunBin)}, ['--root', ${JSON.stringify(root)}, 'list'], { env: { ...process.env, TSRUN_SERVER_DIR: ${JSON.stringify(serverDir)} } });
    await new Promise((done) => setTimeout(done, 500));
    const adopted = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
      try { return /^PPid:\\s+(\\d+)$/m.exec(fs.readFileSync('/proc/' + p + '/status', 'utf8'))?.[1] === String(process.pid); } catch { return false; }
    }).map(Number);
    console.log(JSON.stringify({ code: r.status, comm: fs.readFileSync('/proc/self/comm', 'utf8').trim(), adopted }));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as Seen;
}

/** The servers the calls started: their title hides their socket, their environment does not. */
function killServersOf(dir: string): void {
  for (const p of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${p}/environ`, 'utf8').includes(`TSRUN_SERVER_DIR=${dir}`)) process.kill(Number(p), 'SIGKILL');
    } catch {
      // gone
    }
  }
}

it('a call from conmon starts no CLI server for conmon to wait for; another subreaper adopts the one its call starts', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'tsrun-subreaper-'));
  const root = path.join(work, 'root');
  try {
    const fromConmon = callFrom('conmon', path.join(work, 'a'), root);
    expect(fromConmon).toEqual({ code: 0, comm: 'conmon', adopted: [] });
    const fromOther = callFrom('not-conmon', path.join(work, 'b'), root);
    expect(fromOther.code).toBe(0);
    expect(fromOther.adopted).toHaveLength(1);
  } finally {
    killServersOf(work);
    rmSync(work, { recursive: true, force: true });
  }
});
