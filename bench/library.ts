// (j) the library (issue 23): containers of busybox `true` run, waited for and deleted from
// one Node process through `import { Runtime } from 'tsrun'`, against what a Node program
// does without it: spawning `runc run --keep` and `runc delete` (the reference;
// target: at most half its time per container), and, for information, `runc run` alone
// (which deletes as it exits) and `crun run`. One bundle, the cases interleaved container by
// container, BENCH_LIBRARY_CONTAINERS of each (50 by default), timed in this process.
//
// crun 1.8 refuses this machine's hybrid cgroup layout, so it runs in a private mount
// namespace where /sys/fs/cgroup/unified is unmounted (`unshare -m`, whose cost is measured
// alone and shown).
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultSpec } from '../src/oci/defaults.js';
import { packageRoot } from '../src/package.js';
import { fmt, interleaved, since, table, type Section } from './lib.js';

type Library = typeof import('../src/api/index.js');

/** Spawns a command and resolves with its wall time once it has exited (0, or it throws). */
function timeSpawn(cmd: string, args: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(since(t0)) : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`))));
  });
}

function bundle(dir: string): string {
  cpSync(path.join(packageRoot, '.cache/fixtures/busybox/rootfs'), path.join(dir, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  const spec = defaultSpec() as { ociVersion: string; process: { terminal: boolean; args: string[] }; linux: { cgroupsPath?: string } };
  // crun 1.8 knows runtime-spec versions up to 1.0.x only.
  spec.ociVersion = '1.0.2-dev';
  spec.process.terminal = false;
  spec.process.args = ['true'];
  spec.linux.cgroupsPath = '/tsrun-bench/lib';
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return dir;
}

export async function librarySection(containers: number): Promise<Section> {
  // The library as its users get it: the built package's entry (dist/), which finds the
  // native core from where it sits.
  const { Runtime } = (await import(path.join(packageRoot, 'dist', 'api', 'index.js'))) as Library;
  const work = mkdtempSync(path.join(tmpdir(), 'tsrun-bench-lib-'));
  try {
    const b = bundle(work);
    const rt = new Runtime({ root: `${work}/tsrun` });
    let n = 0;
    const id = (): string => `lib-${process.pid}-${n++}`;
    const runc = (...args: string[]): Promise<number> => timeSpawn('runc', ['--root', `${work}/runc`, ...args]);
    const crunScript = `umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root ${work}/crun run --bundle ${b} $0`;
    const rows = await interleaved(
      [
        {
          name: 'library: run, wait, delete',
          once: async () => {
            const t0 = process.hrtime.bigint();
            const c = await rt.run(id(), { bundle: b, stdio: 'ignore' });
            const { exitCode } = await c.wait();
            await c.delete();
            if (exitCode !== 0) throw new Error(`true exited with ${exitCode}`);
            return since(t0);
          },
        },
        {
          name: 'spawn runc run --keep, runc delete',
          once: async () => {
            const i = id();
            return (await runc('run', '--keep', '--bundle', b, i)) + (await runc('delete', i));
          },
        },
        { name: 'spawn runc run', once: () => runc('run', '--bundle', b, id()) },
        { name: 'spawn unshare -m true', once: () => timeSpawn('unshare', ['-m', 'true']) },
        { name: 'spawn crun run (in unshare -m)', once: () => timeSpawn('unshare', ['-m', 'sh', '-c', crunScript, id()]) },
      ],
      containers,
    );
    const get = (name: string): number => rows.find((r) => r.name === name)!.median;
    const lib = get('library: run, wait, delete');
    const text = [
      `### (j) the library: ${containers} containers of \`true\`, run, waited for and deleted from one Node process`,
      '',
      table(rows),
      '',
      `Per container: the library ${fmt(lib)} ms; spawning \`runc run --keep\` + \`runc delete\` ${fmt(get('spawn runc run --keep, runc delete'))} ms, ` +
        `\`runc run\` alone ${fmt(get('spawn runc run'))} ms, \`crun run\` ${fmt(get('spawn crun run (in unshare -m)'))} ms ` +
        `(of which \`unshare -m\` ${fmt(get('spawn unshare -m true'))} ms).`,
    ].join('\n');
    return {
      text,
      ratios: [
        { section: '(j)', measure: 'library run+wait+delete vs spawning `runc run` + `runc delete`', ours: lib, theirs: get('spawn runc run --keep, runc delete'), unit: 'ms', target: 0.5 },
        { section: '(j)', measure: 'library run+wait+delete vs spawning `runc run` (deletes itself)', ours: lib, theirs: get('spawn runc run'), unit: 'ms' },
        { section: '(j)', measure: 'library run+wait+delete vs spawning `crun run` (in unshare -m)', ours: lib, theirs: get('spawn crun run (in unshare -m)'), unit: 'ms' },
      ],
    };
  } finally {
    execFileSync('sh', ['-c', 'for d in /sys/fs/cgroup/*/tsrun-bench; do rmdir $d/lib $d 2>/dev/null; done; true']);
    rmSync(work, { recursive: true, force: true });
  }
}
