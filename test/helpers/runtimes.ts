// The runtimes escape tests run against: ours, and Debian's runc 1.1.5 (with Debian's
// security backports), to show what a test sees on a runtime whose behaviour is known.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { runc, tsrun, type Result, type RunOptions } from './cli.js';
import { repoRoot } from './paths.js';
import { execFileSync } from 'node:child_process';

export interface Runtime {
  name: 'tsrun' | 'runc';
  cli(root: string, args: string[], opts?: RunOptions): Promise<Result>;
}

export const RUNTIMES: Runtime[] = [
  { name: 'tsrun', cli: tsrun },
  { name: 'runc', cli: runc },
];

/** dev:ino of every executable on the host that runs while a container is set up. */
export function hostBinaryIds(): Map<string, string> {
  const files = [
    process.execPath,
    path.join(repoRoot, 'build', 'Release', 'tsrun-init'),
    path.join(repoRoot, 'build', 'Release', 'tsrun'),
    path.join(repoRoot, 'build', 'Release', 'containerd-shim-ts-v2'),
    execFileSync('which', ['runc'], { encoding: 'utf8' }).trim(),
  ];
  const ids = new Map<string, string>();
  for (const f of files) {
    const real = realpathSync(f);
    const s = statSync(real);
    ids.set(`${s.dev}:${s.ino}`, real);
  }
  return ids;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until fn() is true, or throws after ms (a guard, not a timing assertion). */
export async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
