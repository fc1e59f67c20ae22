// The package, as a user gets it: `npm pack`, installed into a fresh project offline (npm's
// cache only), a consumer type-checked against its declarations with tsc --noEmit and run:
// a container with piped output and exit code 3; create/state/start/state/exec/list/kill/
// delete; the installed CLI and the library each seeing the other's containers; typed errors
// that leave nothing behind. Then the native core's three ways in: the prebuilt binary with
// or without npm's install step (npm 12 runs none unless approved), a build from source at
// install, and the message when neither works.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { leftoverCgroups, leftoverMounts } from '../helpers/leaks.js';
import { installPackage, packRepository } from '../helpers/package-install.js';
import { fixtureRootfs, repoRoot, TEST_CGROUP_PARENT } from '../helpers/paths.js';

const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const CONSUMER_TSCONFIG = {
  compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], outDir: 'out', skipLibCheck: false },
  files: ['consumer.ts', 'code-runner.ts'],
};

let dir: string;
let tarball: string;
let app: string;
const bundles: TestBundle[] = [];

function bundle(name: string, args: string[], edit?: (c: TestBundle['config']) => void): { id: string; dir: string } {
  const b = new TestBundle(name, args);
  if (edit) b.edit(edit);
  bundles.push(b);
  return { id: b.id, dir: b.dir };
}

/** A small program run in project against the installed package: its stdout and exit status. */
function runScript(project: string, source: string, env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  writeFileSync(path.join(project, 'script.mjs'), source);
  const r = spawnSync(process.execPath, ['script.mjs'], { cwd: project, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsrun-package-'));
  tarball = packRepository(dir);
  app = path.join(dir, 'app');
  mkdirSync(app);
  installPackage(app, tarball);
}, 240_000);

afterAll(() => {
  for (const b of bundles) b.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('installs offline from its tarball: entry, declarations, the prebuilt native core, the CLI; no sources or tests', () => {
    const pkg = path.join(app, 'node_modules', 'tsrun');
    for (const f of ['dist/api/index.js', 'dist/api/index.d.ts', 'prebuilds/linux-x64/tsrun_native.node', 'prebuilds/linux-x64/tsrun-init', 'bin/tsrun.cjs', 'CMakeLists.txt']) {
      expect(existsSync(path.join(pkg, f)), f).toBe(true);
    }
    for (const f of ['src', 'test', 'build']) expect(existsSync(path.join(pkg, f)), f).toBe(false);
    expect(existsSync(path.join(app, 'node_modules', '.bin', 'tsrun'))).toBe(true);
  });

  it("a consumer type-checks against the package's declarations (tsc --noEmit), and runs", () => {
    copyFileSync(path.join(repoRoot, 'test', 'package', 'consumer.ts'), path.join(app, 'consumer.ts'));
    copyFileSync(path.join(repoRoot, 'examples', 'code-runner.ts'), path.join(app, 'code-runner.ts'));
    writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG));
    const check = spawnSync(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
    // A type error is caught there: the check is not one that cannot fail.
    writeFileSync(path.join(app, 'wrong.ts'), "import { Runtime } from 'tsrun';\nawait new Runtime().kill('c', { all: 'yes' });\n");
    const wrong = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2022', '--types', 'node', 'wrong.ts'], { cwd: app, encoding: 'utf8' });
    expect(wrong.status).not.toBe(0);
    rmSync(path.join(app, 'wrong.ts'));

    // Checked above; run as JavaScript (Node 20 runs no TypeScript).
    mkdirSync(path.join(app, 'out'));
    for (const name of ['consumer', 'code-runner']) {
      const js = ts.transpileModule(readFileSync(path.join(app, `${name}.ts`), 'utf8'), { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
      writeFileSync(path.join(app, 'out', `${name}.js`), js);
    }
    const root = path.join(dir, 'state');
    const params = {
      root,
      cli: path.join(app, 'node_modules', '.bin', 'tsrun'),
      run: bundle('pkg-run', ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']),
      life: bundle('pkg-life', ['/bin/sleep', '1000']),
      fromCli: bundle('pkg-cli', ['/bin/sleep', '1000']),
      taken: bundle('pkg-taken', ['/bin/sleep', '1000']),
      bad: bundle('pkg-bad', ['/bin/true'], (c) => (c.process.cwd = 'relative')),
    };
    const out = execFileSync(process.execPath, [path.join(app, 'out', 'consumer.js'), JSON.stringify(params)], { cwd: app, encoding: 'utf8' });
    const report = JSON.parse(out) as Record<string, unknown>;
    expect(report).toEqual({
      run: { out: 'out\n', err: 'err\n', exit: { exitCode: 3 } },
      life: {
        created: 'created',
        createdPid: true,
        started: 'running',
        exec: { out: 'exec-out\n', exit: { exitCode: 4 } },
        listed: [[params.life.id, 'running']],
        cliSees: { state: 'running', list: `${params.life.id}\n`, exec: 'cli-exec\n' },
        exit: { exitCode: 137, signal: 'SIGKILL' },
        killed: 'stopped',
      },
      // not the consumer's child: the exit is seen, its status was another's to reap
      fromCli: { status: 'running', exec: 'library-exec\n', exit: { exitCode: null } },
      errors: { unknown: true, taken: true, bad: { field: 'process.cwd', message: 'config.json: process.cwd: must be an absolute path, not "relative"' } },
    });
    // Nothing is left: no state, cgroup or mount of any of them.
    expect(readdirSync(root)).toEqual([]);
    for (const b of Object.values(params)) {
      if (typeof b === 'string') continue;
      expect(leftoverCgroups(b.id)).toEqual([]);
      expect(leftoverMounts(b.dir)).toEqual([]);
    }
  });

  it("the example code runner (examples/code-runner.ts, checked above): output, exit code, memory limit, timeout", () => {
    const r = runScript(
      app,
      `import { runSnippet } from './out/code-runner.js';
       const opts = { rootfs: ${JSON.stringify(fixtureRootfs)}, stateRoot: ${JSON.stringify(path.join(dir, 'runner-state'))}, cgroupParent: '/${TEST_CGROUP_PARENT}' };
       console.log(JSON.stringify([
         await runSnippet('echo hello from $(hostname) as $(id -u); echo oops >&2; exit 2', opts),
         await runSnippet('dd if=/dev/zero of=/dev/null bs=64M count=1', { ...opts, memoryBytes: 32 << 20 }),
         await runSnippet('echo started; sleep 30', { ...opts, timeoutMs: 300 }),
         await runSnippet('ping -c1 -W1 1.1.1.1 >/dev/null 2>&1 || echo no network; touch /etc/x 2>/dev/null || echo read-only', opts),
       ]));`,
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([
      { stdout: 'hello from sandbox as 65534\n', stderr: 'oops\n', exitCode: 2, timedOut: false, oomKilled: false },
      { stdout: '', stderr: '', exitCode: 137, signal: 'SIGKILL', timedOut: false, oomKilled: true },
      { stdout: 'started\n', stderr: '', exitCode: 137, signal: 'SIGKILL', timedOut: true, oomKilled: false },
      { stdout: 'no network\nread-only\n', stderr: '', exitCode: 0, timedOut: false, oomKilled: false },
    ]);
    expect(readdirSync(path.join(dir, 'runner-state'))).toEqual([]);
  });

  it('runs containers with its prebuilt core when npm ran no install step (--ignore-scripts, as npm 12 does unapproved)', () => {
    const bare = path.join(dir, 'bare');
    mkdirSync(bare);
    installPackage(bare, tarball, ['--ignore-scripts']);
    const b = bundle('pkg-bare', ['/bin/sh', '-c', 'exit 7']);
    const r = runScript(
      bare,
      `import { Runtime } from 'tsrun';
       const rt = new Runtime({ root: ${JSON.stringify(path.join(dir, 'bare-state'))} });
       const c = await rt.run(${JSON.stringify(b.id)}, { bundle: ${JSON.stringify(b.dir)}, stdio: 'ignore' });
       const { exitCode } = await c.wait();
       await c.delete();
       console.log(exitCode);`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('7\n');

    // Without it (another platform's install), the first container call says what to do.
    const prebuilt = path.join(bare, 'node_modules', 'tsrun', 'prebuilds', 'linux-x64');
    renameSync(prebuilt, `${prebuilt}.away`);
    const missing = runScript(
      bare,
      `import { Runtime, FailedPrecondition } from 'tsrun';
       const err = await new Runtime({ root: ${JSON.stringify(path.join(dir, 'bare-state'))} }).run('x', { bundle: ${JSON.stringify(b.dir)} }).catch((e) => e);
       console.log(err instanceof FailedPrecondition, err.message);`,
    );
    expect(missing.stdout).toMatch(/^true the native core is not built: neither .*build\/Release nor a prebuilt one for linux-x64 .*npm rebuild tsrun/);
    renameSync(`${prebuilt}.away`, prebuilt);
  });

  it('says why and what to install when neither the prebuilt core nor a build from source works', () => {
    const script = path.join(app, 'node_modules', 'tsrun', 'scripts', 'install-native.cjs');
    // Building from source asked for, with nothing but node on the PATH (no cmake, no compiler).
    const bin = path.join(dir, 'node-only');
    mkdirSync(bin);
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const r = spawnSync(process.execPath, [script], { cwd: path.dirname(path.dirname(script)), encoding: 'utf8', env: { ...process.env, TSRUN_BUILD_FROM_SOURCE: '1', PATH: bin } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('tsrun: no native core for linux-x64:');
    expect(r.stderr).toContain('prebuilt: skipped: building from source was asked for');
    expect(r.stderr).toMatch(/from source: cmake-js failed/);
    expect(r.stderr).toContain('libseccomp-dev');
  });

  it('builds its native core from source with cmake-js at install (npm rebuild --build-from-source)', () => {
    const pkg = path.join(app, 'node_modules', 'tsrun');
    execFileSync('npm', ['rebuild', 'tsrun', '--build-from-source', '--offline', '--loglevel=error'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(existsSync(path.join(pkg, 'build', 'Release', 'tsrun_native.node'))).toBe(true);
    expect(existsSync(path.join(pkg, 'build', 'Release', 'tsrun-probe'))).toBe(false); // no test helpers
    const b = bundle('pkg-built', ['/bin/sh', '-c', 'exit 5']);
    const r = runScript(
      app,
      `import { Runtime } from 'tsrun';
       const c = await new Runtime({ root: ${JSON.stringify(path.join(dir, 'built-state'))} }).run(${JSON.stringify(b.id)}, { bundle: ${JSON.stringify(b.dir)}, stdio: 'ignore' });
       const { exitCode } = await c.wait();
       await c.delete();
       // the addon built here, not the prebuilt one
       console.log(exitCode, (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8').includes('/tsrun/build/Release/tsrun_native.node'));`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('5 true\n');
  }, 600_000);
});
