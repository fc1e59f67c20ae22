// (d) `tsrun run` vs `runc run` vs `crun run` of one bundle, each run and timed from the
// bench's shell as a user runs it (target: tsrun run <= runc run), served by the warm CLI
// server as callers are; beside it, the same in a Node of its own (TSRUN_SERVER=0), and
// `node -e 0`, what a Node start costs here.
//
// crun 1.8 refuses this machine's hybrid cgroup layout, so it runs in a private mount
// namespace where /sys/fs/cgroup/unified is unmounted (`unshare -m`, whose cost is measured
// alone and shown).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultSpec } from '../src/oci/defaults.js';
import { packageRoot } from '../src/package.js';
import { fmt, interleaved, table, type Section } from './lib.js';
import type { Shell } from './shell.js';

function bundle(dir: string): string {
  cpSync(path.join(packageRoot, '.cache/fixtures/busybox/rootfs'), path.join(dir, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  const spec = defaultSpec() as { ociVersion: string; process: { terminal: boolean; args: string[] }; linux: { cgroupsPath?: string } };
  // crun 1.8 knows runtime-spec versions up to 1.0.x only.
  spec.ociVersion = '1.0.2-dev';
  spec.process.terminal = false;
  spec.process.args = ['true'];
  spec.linux.cgroupsPath = '/tsrun-bench/c';
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return dir;
}

export async function cliSection(shell: Shell, rounds: number): Promise<Section> {
  const work = mkdtempSync(path.join(tmpdir(), 'tsrun-bench-'));
  try {
    const b = bundle(work);
    const tsrun = path.join(packageRoot, 'bin/tsrun');
    let n = 0;
    const id = (): string => `bench-${process.pid}-${n++}`;
    const crunScript = `umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root ${work}/crun run --bundle ${b} $0`;
    const rows = await interleaved(
      [
        { name: 'node -e 0', once: () => shell.time(['node', '-e', '0']) },
        { name: 'tsrun run', once: () => shell.time([tsrun, '--root', `${work}/tsrun`, 'run', '--bundle', b, id()]) },
        { name: 'tsrun run, in Node (TSRUN_SERVER=0)', once: () => shell.time([tsrun, '--root', `${work}/tsrun`, 'run', '--bundle', b, id()], { TSRUN_SERVER: '0' }) },
        { name: 'runc run', once: () => shell.time(['runc', '--root', `${work}/runc`, 'run', '--bundle', b, id()]) },
        { name: 'unshare -m true', once: () => shell.time(['unshare', '-m', 'true']) },
        { name: 'crun run (in unshare -m)', once: () => shell.time(['unshare', '-m', 'sh', '-c', crunScript, id()]) },
      ],
      rounds,
    );
    const get = (name: string): number => rows.find((r) => r.name === name)!.median;
    const text = [
      '### (d) one container, `run` of busybox `true`',
      '',
      table(rows),
      '',
      `\`tsrun run\` ${fmt(get('tsrun run'))} ms, \`runc run\` ${fmt(get('runc run'))} ms; a Node start (\`node -e 0\`) costs ${fmt(get('node -e 0'))} ms here.`,
    ].join('\n');
    return { text, rows, ratios: [{ section: '(d)', measure: '`tsrun run` vs `runc run`', ours: get('tsrun run'), theirs: get('runc run'), unit: 'ms', target: 1 }] };
  } finally {
    execFileSync('sh', ['-c', 'for d in /sys/fs/cgroup/*/tsrun-bench; do rmdir $d 2>/dev/null; done; true']);
    rmSync(work, { recursive: true, force: true });
  }
}
