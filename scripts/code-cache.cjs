// Writes dist/bundle/tsrun.cjs.cache, the V8 code cache bin/tsrun compiles the CLI bundle
// with (npm run build, scripts/setup.sh). V8 compiles a function on its first call, and the
// cache holds what was compiled when it is made: so it is made after a few commands that
// touch neither containers nor cgroups, in a child process whose output nobody needs to
// see: version, spec, a run refused for its missing rootfs (commander, the config schemas
// and checks, the error path), one refused because its id is taken (all that comes before
// the state directory: cgroup paths, the plan), state and delete of that id.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

async function warmAndWrite() {
  const { load, cacheFile } = require('../bin/tsrun.cjs');
  const { main, script, key } = load();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-code-cache-'));
  try {
    const argv = (...args) => [process.execPath, 'tsrun', ...args];
    await main(argv('--version'));
    await main(argv('spec', '--bundle', dir));
    const root = path.join(dir, 'state');
    const run = argv('--root', root, '--log', path.join(dir, 'log'), '--log-format', 'json', 'run', '--bundle', dir, 'warm');
    await main(run);
    fs.mkdirSync(path.join(dir, 'rootfs'));
    fs.mkdirSync(path.join(root, 'warm'), { recursive: true });
    await main(run);
    await main(argv('--root', root, 'state', 'warm'));
    await main(argv('--root', root, 'list'));
    await main(argv('--root', root, 'delete', 'warm'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const tmp = `${cacheFile}.${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat([Buffer.from(key, 'latin1'), script.createCachedData()]));
  fs.renameSync(tmp, cacheFile);
}

if (process.argv[2] === 'child') {
  warmAndWrite().catch((err) => {
    process.stderr.write(`code cache: ${err.stack}\n`);
    process.exit(2);
  });
} else {
  // The commands print and fail as they should; only the child's own failure matters.
  const r = spawnSync(process.execPath, [__filename, 'child'], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.stderr.write(`scripts/code-cache.cjs: failed (${r.status ?? r.signal})\n`);
    process.exit(1);
  }
}
