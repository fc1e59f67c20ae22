// (x) The shell cross-check: bench/shell-check.sh times the same commands from bash alone
// (its own containerd and podman, no Node process of ours near them), and its medians are
// shown beside the bench's. The bench measures as a user does when the two agree; the
// target is within 10% on the reference (runc) rows, which nothing of ours can move.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../src/package.js';
import { fmt, type Section, type Stats } from './lib.js';

const REFERENCE = /runc|node -e 0/;

export function crossCheckSection(benchRows: Stats[], rounds: number): Section {
  const tsv = execFileSync('bash', [path.join(packageRoot, 'bench/shell-check.sh'), '--tsv', String(rounds)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const shell = new Map(
    tsv
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .map(([name, median]) => [name ?? '', Number(median)]),
  );
  const lines = ['### (x) cross-check: the same commands timed from bash alone (bench/shell-check.sh)', '', '| case | bench median ms | shell median ms | bench / shell | reference row within 10% |', '|---|---:|---:|---:|---|'];
  for (const row of benchRows) {
    const theirs = shell.get(row.name);
    if (theirs === undefined) continue;
    const ratio = row.median / theirs;
    const agree = REFERENCE.test(row.name) && !/tsrun/.test(row.name) ? (Math.abs(ratio - 1) <= 0.1 ? 'yes' : 'no') : '';
    lines.push(`| ${row.name} | ${fmt(row.median)} | ${fmt(theirs)} | ${ratio.toFixed(2)} | ${agree} |`);
  }
  return { text: lines.join('\n'), ratios: [] };
}
