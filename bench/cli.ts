// (d) `tsrun run` vs `runc run` vs `crun run` of one bundle, and tsrun's own cost above
// `node -e 0` (target: tsrun run - node -e 0 <= runc run).
//
// crun 1.8 refuses this machine's hybrid cgroup layout, so it runs in a private mount
// namespace where /sys/fs/cgroup/unified is unmounted (`unshare -m`, whose cost is measured
// alone and shown).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultSpec } from '../src/oci/defaults.js';
import { packageRoot } from '../src/native/addon.js';
import { fmt, interleaved, table, timeCommand, type Section } from './lib.js';

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

export async function cliSection(rounds: number): Promise<Section> {
  const work = mkdtempSync(path.join(tmpdir(), 'tsrun-bench-'));
  try {
    const b = bundle(work);
    const tsrun = path.join(packageRoot, 'bin/tsrun');
    let n = 0;
    const id = (): string => `bench-${process.pid}-${n++}`;
    const crunScript = `umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root ${work}/crun run --bundle ${b} $0`;
    const rows = await interleaved(
      [
        { name: 'node -e 0', once: () => timeCommand(process.execPath, ['-e', '0']) },
        { name: 'tsrun run', once: () => timeCommand(process.execPath, [tsrun, '--root', `${work}/tsrun`, 'run', '--bundle', b, id()]) },
        { name: 'runc run', once: () => timeCommand('runc', ['--root', `${work}/runc`, 'run', '--bundle', b, id()]) },
        { name: 'unshare -m true', once: () => timeCommand('unshare', ['-m', 'true']) },
        { name: 'crun run (in unshare -m)', once: () => timeCommand('unshare', ['-m', 'sh', '-c', crunScript, id()]) },
      ],
      rounds,
    );
    const get = (name: string): number => rows.find((r) => r.name === name)!.median;
    const own = get('tsrun run') - get('node -e 0');
    const text = [
      '### (d) one container, `run` of busybox `true`',
      '',
      table(rows),
      '',
      `tsrun's own cost above \`node -e 0\`: ${fmt(own)} ms; \`runc run\`: ${fmt(get('runc run'))} ms.`,
    ].join('\n');
    return { text, ratios: [{ section: '(d)', measure: '`tsrun run` − `node -e 0` vs `runc run`', ours: own, theirs: get('runc run'), unit: 'ms', target: 1 }] };
  } finally {
    execFileSync('sh', ['-c', 'for d in /sys/fs/cgroup/*/tsrun-bench; do rmdir $d 2>/dev/null; done; true']);
    rmSync(work, { recursive: true, force: true });
  }
}
