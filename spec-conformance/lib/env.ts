// What the suite is pointed at, from the environment. Nothing else configures it, so the
// same command line works for any runtime: RUNTIME=/usr/sbin/runc npm run conformance.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rootlessUser, type RootlessUser } from './rootless.js';

// Compiled to .cache/conformance/lib/: the repository is three levels up from there, two
// from the source file; look for package.json to tell.
function findRepo(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'spec-conformance'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the repository root from ' + fileURLToPath(import.meta.url));
}

export const repo = findRepo();

export interface SuiteEnv {
  /** the runtime executable (RUNTIME), default our bin/tsrun */
  runtime: string;
  /** optional state root passed as the one global flag, --root (RUNTIME_ROOT) */
  root?: string;
  /** rootfs copied into every bundle (CONFORMANCE_ROOTFS) */
  rootfs: string;
  /** static probe copied into every rootfs (CONFORMANCE_PROBE) */
  probe: string;
  /** scenarios run at once (CONFORMANCE_JOBS) */
  jobs: number;
  /** only scenarios whose "section: name" matches (CONFORMANCE_ONLY, a regular expression) */
  only?: RegExp;
  /** where bundles are made (CONFORMANCE_TMP; default /dev/shm when it is a tmpfs) */
  tmp: string;
  /** rootless mode: the unprivileged user the runtime is run as (CONFORMANCE_USER) */
  user?: RootlessUser;
}

// Every scenario copies a rootfs: on tmpfs that costs a tenth of what it costs on a disk.
function defaultTmp(): string {
  try {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    if (/ \/dev\/shm [^ ]+ [^-]*- tmpfs /.test(mounts) && !/ \/dev\/shm [^ ]*noexec/.test(mounts)) return '/dev/shm';
  } catch {
    // no /proc: fall back
  }
  return os.tmpdir();
}

export function readEnv(e: NodeJS.ProcessEnv = process.env): SuiteEnv {
  const jobs = Number(e.CONFORMANCE_JOBS ?? 4);
  return {
    runtime: e.RUNTIME || path.join(repo, 'bin', 'tsrun'),
    root: e.RUNTIME_ROOT || undefined,
    rootfs: e.CONFORMANCE_ROOTFS || path.join(repo, '.cache', 'fixtures', 'busybox', 'rootfs'),
    probe: e.CONFORMANCE_PROBE || path.join(repo, 'build', 'Release', 'oci-conformance-probe'),
    jobs: Number.isInteger(jobs) && jobs > 0 ? jobs : 4,
    only: e.CONFORMANCE_ONLY ? new RegExp(e.CONFORMANCE_ONLY) : undefined,
    tmp: e.CONFORMANCE_TMP || defaultTmp(),
    user: rootlessUser(e.CONFORMANCE_USER),
  };
}
