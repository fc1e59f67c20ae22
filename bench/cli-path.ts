// The CLI path: tsrun driven as callers drive runc, one container after another.
//   (g) `podman run --rm` busybox `true`, --runtime tsrun vs runc (conmon runs create, podman
//       start, state, delete...)                                            target <= 1.0
//   (h) `ctr run --rm` through containerd's runc shim, --runc-binary tsrun vs runc (go-runc
//       runs create, start, delete: docker's path)                           target <= 1.0
//   (i) `docker run --rm` busybox `true`, --runtime tsrun (daemon.json's runtimes) vs runc,
//       through a private dockerd (test/helpers/docker.ts)                    shown
// Both run and timed from the bench's shell.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packageRoot } from '../src/package.js';
import { dockerAvailable, startDocker } from '../test/helpers/docker.js';
import { podmanAvailable, startPodman } from '../test/helpers/podman.js';
import { IMAGE, NAMESPACE, RUNC, type ShimContainerd } from '../test/helpers/shim-containerd.js';
import { interleaved, table, type Ratio, type Section, type Stats } from './lib.js';
import type { Shell } from './shell.js';

const tsrun = path.join(packageRoot, 'bin/tsrun');

export async function cliPathSection(shim: ShimContainerd, shell: Shell, rounds: number): Promise<Section> {
  const rows: Stats[] = [];
  const ratios: Ratio[] = [];
  const notes: string[] = [];
  const pair = (found: Stats[], section: string, measure: string, target: number | undefined = 1): void => {
    rows.push(...found);
    ratios.push({ section, measure, ours: found[0]!.median, theirs: found[1]!.median, unit: 'ms', target });
  };

  if (podmanAvailable()) {
    const pm = startPodman();
    try {
      const run = (runtime: string) => () => shell.time(pm.runArgv(runtime, ['true']), { CONTAINERS_CONF: pm.env.CONTAINERS_CONF ?? '' });
      pair(
        await interleaved(
          [
            { name: '(g) podman run --rm, tsrun', once: run(tsrun) },
            { name: '(g) podman run --rm, runc', once: run('/usr/sbin/runc') },
          ],
          rounds,
        ),
        '(g)',
        '`podman run --rm` busybox `true`',
      );
    } finally {
      pm.stop();
    }
  } else {
    notes.push('(g) not run: podman or conmon is not installed.');
  }

  if (dockerAvailable()) {
    const dk = startDocker();
    try {
      const run = (runtime: string) => () => shell.time(dk.runArgv(runtime, ['true']));
      pair(
        await interleaved(
          [
            { name: '(i) docker run --rm, tsrun', once: run('tsrun') },
            { name: '(i) docker run --rm, runc', once: run('runc') },
          ],
          rounds,
        ),
        '(i)',
        '`docker run --rm` busybox `true`',
        undefined,
      );
    } finally {
      dk.stop();
    }
  } else {
    notes.push('(i) not run: dockerd (Debian\'s docker.io) is not installed.');
  }

  const roots = mkdtempSync(path.join(tmpdir(), 'tsrun-bench-runcshim-'));
  try {
    let n = 0;
    const run = (binary: string, tag: string) => () =>
      shell.time([
        'ctr', '--address', shim.ctd.address, '--namespace', NAMESPACE,
        'run', '--rm', '--runtime', RUNC, '--runc-binary', binary, '--runc-root', path.join(roots, tag),
        IMAGE, `bench-${process.pid}-h-${tag}-${n++}`, 'true',
      ]);
    pair(
      await interleaved(
        [
          { name: '(h) ctr run --rm, runc shim, --runc-binary tsrun', once: run(tsrun, 'tsrun') },
          { name: '(h) ctr run --rm, runc shim, --runc-binary runc', once: run('runc', 'runc') },
        ],
        rounds,
      ),
      '(h)',
      '`ctr run --rm` via the runc shim, tsrun as its runc',
    );
  } finally {
    rmSync(roots, { recursive: true, force: true });
  }
  return { text: ['### (g), (h), (i) the CLI path: podman, containerd\'s runc shim, docker', '', table(rows), ...notes.map((l) => `\n${l}`)].join('\n'), ratios, rows };
}
