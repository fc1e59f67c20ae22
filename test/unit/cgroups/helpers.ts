// A temporary directory shaped like a cgroup: the files a controller would offer, empty or
// with a value, so that writers can be checked without a kernel.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class FakeCgroup {
  readonly dir: string;

  constructor(files: Record<string, string>) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-fakecg-'));
    this.add(files);
  }

  add(files: Record<string, string>, sub = ''): this {
    const dir = path.join(this.dir, sub);
    mkdirSync(dir, { recursive: true });
    for (const [name, value] of Object.entries(files)) writeFileSync(path.join(dir, name), value);
    return this;
  }

  read(name: string): string {
    return readFileSync(path.join(this.dir, name), 'utf8');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function emptyFiles(names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, '']));
}
