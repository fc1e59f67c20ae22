// Fresh directories for a test file's tests, each removed after the test that made it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

/** Call at a file's top level: returns a maker of directories named tsrun-<prefix>-XXXXXX. */
export function tempDirsPerTest(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), `tsrun-${prefix}-`));
    dirs.push(dir);
    return dir;
  };
}
