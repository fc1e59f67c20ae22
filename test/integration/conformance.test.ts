// The OCI conformance suite (spec-conformance/) against tsrun: every check must pass. On
// failure the message lists each failing check with the first line of its diagnostic, the
// to-do list of what tsrun still lacks.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tsrunBin } from '../helpers/paths.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'tsrun-conformance-root-'));

afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Tap {
  passed: number;
  failed: string[];
  summary: string;
  output: string;
}

/** The suite against tsrun; `rootless`: as an unprivileged user of its own, on some scenarios. */
function runSuite(rootless?: { only: string }): Promise<Tap> {
  execFileSync(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'spec-conformance/tsconfig.json'], { cwd: repoRoot, stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    // RUNTIME_ROOT: a state root of its own, so that nothing else of tsrun's is seen or
    // touched (rootless: the user's own $XDG_RUNTIME_DIR/tsrun, the user being the run's own)
    const [cmd, args, env] = rootless
      ? ['sh', [path.join(repoRoot, 'spec-conformance', 'rootless.sh')], { RUNTIME: tsrunBin, CONFORMANCE_ONLY: rootless.only }]
      : [process.execPath, [path.join(repoRoot, '.cache', 'conformance', 'run.js')], { RUNTIME: tsrunBin, RUNTIME_ROOT: root }];
    const child = spawn(cmd, args, {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      const lines = out.split('\n');
      const failed: string[] = [];
      lines.forEach((l, i) => {
        if (!l.startsWith('not ok ')) return;
        const diag = lines[i + 1]?.startsWith('#   ') ? ` -- ${lines[i + 1]?.slice(4)}` : '';
        failed.push(`${l.replace(/^not ok \d+ - /, '')}${diag}`);
      });
      resolve({
        passed: lines.filter((l) => l.startsWith('ok ')).length,
        failed,
        summary: lines.find((l) => /^\d+ passed, \d+ failed$/.test(l)) ?? '',
        output: out,
      });
    });
  });
}

describe('OCI runtime-spec conformance (spec-conformance/)', () => {
  it('tsrun passes every check', { timeout: 15 * 60_000 }, async () => {
    const tap = await runSuite();
    expect(tap.summary, tap.output.slice(-2000)).toMatch(/^\d+ passed, \d+ failed$/);
    expect(tap.passed).toBeGreaterThan(0);
    expect(tap.failed, `${tap.summary}; failing checks:\n${tap.failed.join('\n')}`).toEqual([]);
  });

  // The whole suite rootless (npm run conformance:rootless) takes minutes and has checks
  // that need root; here the scenarios of the lifecycle, the process and the delegated
  // cgroups, which all apply without root.
  it('tsrun run by an unprivileged user passes the checks of the lifecycle, the process and delegated cgroups', { timeout: 10 * 60_000 }, async () => {
    const tap = await runSuite({ only: ': (create|start|state|kill|delete|process|hostname|default_devices|linux_masked_paths|linux_cgroups_memory|linux_cgroups_cpus)$' });
    expect(tap.output).toContain('# rootless: the runtime runs as tsrl');
    expect(tap.passed).toBeGreaterThan(50);
    expect(tap.failed, `${tap.summary}; failing checks:\n${tap.failed.join('\n')}`).toEqual([]);
  });
});
