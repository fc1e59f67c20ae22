#!/usr/bin/env node
// tsrun in a Node of its own: what the native bin/tsrun (cpp/cli) runs for a call the warm
// CLI server does not serve, and for every call with TSRUN_SERVER=0. What it costs above
// Node's own start is kept small: the bundled CLI (dist/bundle/tsrun.cjs) is compiled
// with the V8 code cache the build made for it (scripts/code-cache.cjs), so V8 neither
// scans the source nor compiles the functions a command uses. Without the bundle, the
// compiled tree in dist/. A plain script (bin/package.json) skips Node's ESM loader.
'use strict';
const { isAscii } = require('node:buffer');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire, wrap } = require('node:module');

const bundle = path.join(__dirname, '..', 'dist', 'bundle', 'tsrun.cjs');
const cacheFile = `${bundle}.cache`;

// The cache's first line: which bundle file it was made from. V8 refuses a cache from
// another V8 or other flags, but of the source it checks only the length.
const cacheKey = (stat) => `tsrun code cache ${stat.size} ${stat.mtimeMs}\n`;

/** Compiles and runs the bundle; throws ENOENT when there is none. */
function load() {
  const fd = fs.openSync(bundle, 'r');
  let source, key;
  try {
    key = cacheKey(fs.fstatSync(fd));
    // ASCII (rolldown's charset option) read as latin1: the same one-byte string, made
    // without decoding UTF-8.
    const bytes = fs.readFileSync(fd);
    source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  } finally {
    fs.closeSync(fd);
  }
  let cachedData;
  try {
    const cache = fs.readFileSync(cacheFile);
    if (cache.toString('latin1', 0, key.length) === key) cachedData = cache.subarray(key.length);
  } catch {
    // no cache: V8 compiles from the source
  }
  const script = new vm.Script(wrap(source), { filename: bundle, cachedData });
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(bundle), mod, bundle, path.dirname(bundle));
  return { main: mod.exports.main, script, key };
}

async function cli() {
  let main;
  try {
    main = load().main;
  } catch (err) {
    if (err.code !== 'ENOENT' || err.path !== bundle) throw err;
    main = (await import('../dist/cli/main.js')).main;
  }
  process.exitCode = await main(process.argv);
}

if (require.main === module) {
  cli().catch((err) => {
    process.exitCode = 1;
    throw err;
  });
} else {
  module.exports = { load, cacheFile };
}
