// Huge page statistics, one entry per page size: v1 names its files usage_in_bytes,
// max_usage_in_bytes and failcnt; v2 has current (and counts failures in .events).
import { existsSync, readdirSync } from 'node:fs';
import { hasFile, readUint } from './fs.js';
import type { Stats } from './stats.js';

export interface HugetlbFiles {
  usage: string;
  max?: string;
  failcnt?: string;
}

const V1_HUGETLB: HugetlbFiles = { usage: 'usage_in_bytes', max: 'max_usage_in_bytes', failcnt: 'failcnt' };

/** One entry per page size that has a usage file (hugetlb.<size>.<usage>). */
export function hugetlbStats(dir: string, s: Stats, files: HugetlbFiles = V1_HUGETLB): void {
  if (!existsSync(dir)) return;
  const value = (size: string, suffix: string | undefined): bigint =>
    suffix && hasFile(dir, `hugetlb.${size}.${suffix}`) ? readUint(dir, `hugetlb.${size}.${suffix}`) : 0n;
  for (const name of readdirSync(dir)) {
    const m = /^hugetlb\.([^.]+)\.(.+)$/.exec(name);
    if (!m || m[2] !== files.usage) continue;
    const size = m[1] ?? '';
    s.hugetlb.set(size, { usage: value(size, files.usage), max: value(size, files.max), failcnt: value(size, files.failcnt) });
  }
}
