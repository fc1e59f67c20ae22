// npm's install step for the tsrun package (also `npm rebuild tsrun`): the native core is
// the prebuilt one shipped for this platform when it loads here, or is built from source
// with cmake-js (npm's --build-from-source, or TSRUN_BUILD_FROM_SOURCE=1, skips the
// prebuilt); when neither works the install fails saying why and what to install.
// TSRUN_SKIP_NATIVE=1 installs without a native core (types and pure code only): the first
// container call then says it is missing. In the repository, scripts/setup.sh builds it.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const platform = `${process.platform}-${process.arch}`;
const say = (line) => process.stderr.write(`tsrun: ${line}\n`);

/** Why the native core in dir does not load, or null when it does (tried in a child). */
function whyNot(dir) {
  const addon = path.join(dir, 'tsrun_native.node');
  if (!fs.existsSync(addon)) return `${addon} is not there`;
  if (!fs.existsSync(path.join(dir, 'tsrun-init'))) return `${path.join(dir, 'tsrun-init')} is not there`;
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)})`], { encoding: 'utf8' });
  if (r.status === 0) return null;
  return (r.stderr || r.error?.message || `exit ${r.status}`).split('\n').find((l) => /Error|error/.test(l))?.trim() ?? 'it does not load';
}

function main() {
  if (fs.existsSync(path.join(root, 'scripts', 'setup.sh'))) return 0;
  if (process.env.TSRUN_SKIP_NATIVE === '1') {
    say('TSRUN_SKIP_NATIVE=1: installed without the native core; containers need it (npm rebuild tsrun)');
    return 0;
  }
  const fromSource = process.env.TSRUN_BUILD_FROM_SOURCE === '1' || process.env.npm_config_build_from_source === 'true';
  const prebuilt = path.join(root, 'prebuilds', platform);
  const built = path.join(root, 'build', 'Release');
  let prebuiltWhy = 'skipped: building from source was asked for';
  if (!fromSource) {
    prebuiltWhy = fs.existsSync(prebuilt) ? whyNot(prebuilt) : `none is shipped for ${platform}`;
    if (prebuiltWhy === null) return 0;
    if (whyNot(built) === null) return 0;
  }
  say(`building the native core from source (prebuilt: ${prebuiltWhy})`);
  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  } catch {
    cmakeJs = null;
  }
  let builtWhy;
  if (!cmakeJs) {
    builtWhy = 'cmake-js is not installed';
  } else {
    const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build', '--CDTSRUN_TESTS=OFF', '--log-level', 'error'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    builtWhy = r.status === 0 ? whyNot(built) : `cmake-js failed (${r.error?.message ?? `exit ${r.status}`})`;
  }
  if (builtWhy === null) return 0;
  say(`no native core for ${platform}:`);
  say(`  prebuilt: ${prebuiltWhy}`);
  say(`  from source: ${builtWhy}`);
  say('tsrun runs containers on Linux; building it needs cmake (>= 3.18), a C++17 compiler, pkg-config, libseccomp-dev (>= 2.5) and libsystemd-dev');
  say('(Debian: apt-get install build-essential cmake pkg-config libseccomp-dev libsystemd-dev), then npm rebuild tsrun;');
  say('TSRUN_SKIP_NATIVE=1 installs without it');
  return 1;
}

process.exitCode = main();
