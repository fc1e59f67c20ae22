// The package as a user gets it: `npm pack` of the repository, installed into a fresh project
// offline. The project's package-lock.json is made from the repository's (the same versions,
// resolved and integrity), so that `npm ci --offline` takes every tarball from npm's cache,
// where the repository's own install put them, and nothing is downloaded.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  dev?: boolean;
  optional?: boolean;
  [k: string]: unknown;
}

/** npm pack of the repository into dir (its prepack builds the declarations and the prebuilt binaries); the tarball's path. */
export function packRepository(dir: string): string {
  const out = execFileSync('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return path.join(dir, out.trim().split('\n').pop() ?? '');
}

/** The lock entries of names and everything they need, as node would find them from the top. */
function closure(packages: Record<string, LockEntry>, names: string[]): Map<string, LockEntry> {
  const found = new Map<string, LockEntry>();
  const visit = (name: string, from: string): void => {
    // node's lookup: the nearest node_modules up from the requiring package
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      const entry = packages[key];
      if (entry) {
        if (found.has(key)) return;
        found.set(key, entry);
        for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) visit(dep, key);
        return;
      }
      if (!dir) return; // not in the lock: an optional dependency of another platform
    }
  };
  for (const n of names) visit(n, '');
  return found;
}

/**
 * A fresh project in dir with the tarball installed (and @types/node, for a consumer's
 * type-check), offline. Extra npm flags (--ignore-scripts) go to npm ci.
 */
export function installPackage(dir: string, tarball: string, npmFlags: string[] = []): void {
  const repoLock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; version: string; bin: Record<string, string> };
  const typesNode = repoLock.packages['node_modules/@types/node']?.version ?? '';
  const spec = `file:${path.relative(dir, tarball)}`;
  const packages: Record<string, LockEntry> = {
    '': { name: 'tsrun-consumer', dependencies: { tsrun: spec }, devDependencies: { '@types/node': typesNode } },
    'node_modules/tsrun': { version: pkg.version, resolved: spec, hasInstallScript: true, dependencies: pkg.dependencies, bin: pkg.bin },
  };
  for (const [key, entry] of closure(repoLock.packages, Object.keys(pkg.dependencies))) {
    const { dev: _dev, devOptional: _devOptional, ...rest } = entry;
    packages[key] = rest;
  }
  for (const [key, entry] of closure(repoLock.packages, ['@types/node'])) packages[key] = { ...entry, dev: true };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'tsrun-consumer', private: true, type: 'module', dependencies: { tsrun: spec }, devDependencies: { '@types/node': typesNode } }, null, 2));
  writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ name: 'tsrun-consumer', lockfileVersion: 3, requires: true, packages }, null, 2));
  execFileSync('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error', ...npmFlags], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}
