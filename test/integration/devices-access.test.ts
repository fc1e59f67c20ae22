// Device cgroup rules' `access` as runc 1.1.5 reads it: required, the r, w and m in it, any
// other character ignored. The container's devices.list and what the container may do with
// the device must be the same under both runtimes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { errorOf, runc, tsrun, type Result } from '../helpers/cli.js';
import { leftoverCgroups } from '../helpers/leaks.js';
import { TEST_CGROUP_PARENT } from '../helpers/paths.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

// /dev/fuse: a device outside runc's default allow-list, so the rule alone decides
const FUSE = { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666 };

function bundleWith(access: string | undefined): TestBundle {
  const b = new TestBundle('devaccess', ['/bin/sleep', '1000']);
  bundles.push(b);
  return b.edit((c) => {
    c.linux.devices = [FUSE];
    c.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, ...(access === undefined ? {} : { access }) }] };
  });
}

interface View {
  code: number;
  rule?: string;
  read?: string;
}

async function view(cli: (args: string[]) => Promise<Result>, b: TestBundle): Promise<View & { error: string }> {
  const run = await cli(['run', '-d', '--bundle', b.dir, b.id]);
  if (run.code !== 0) return { code: run.code, error: errorOf(run) };
  try {
    const list = readFileSync(path.join('/sys/fs/cgroup/devices', TEST_CGROUP_PARENT, b.id, 'devices.list'), 'utf8');
    const rule = list.split('\n').find((l) => l.startsWith('c 10:229 ')) ?? '(none)';
    const read = await cli(['exec', b.id, 'sh', '-c', '(exec 3</dev/fuse) 2>/dev/null && echo opened || echo refused']);
    return { code: 0, rule, read: read.stdout.trim(), error: '' };
  } finally {
    await cli(['delete', '--force', b.id]);
  }
}

describe('device rule access strings, as runc 1.1.5 reads them', () => {
  it.each([
    ['rwa', 'c 10:229 rw', 'opened'],
    ['mw', 'c 10:229 wm', 'refused'],
    ['rwmz', 'c 10:229 rwm', 'opened'],
  ])('%s', async (access, rule, read) => {
    const b = bundleWith(access);
    const viaRunc = await view((args) => runc(path.join(b.dir, 'runc-state'), args), b);
    const viaTsrun = await view((args) => tsrun(b.root, args), b);
    expect(viaTsrun).toEqual(viaRunc);
    expect(viaTsrun).toEqual({ code: 0, rule, read, error: '' });
    expect(leftoverCgroups(b.id)).toEqual([]);
  });

  it('refuses an access with none of r, w and m, as runc does here', async () => {
    const b = bundleWith('RWM');
    const viaRunc = await view((args) => runc(path.join(b.dir, 'runc-state'), args), b);
    const viaTsrun = await view((args) => tsrun(b.root, args), b);
    expect([viaTsrun.code, viaRunc.code]).toEqual([1, 1]);
    expect(viaRunc.error).toMatch(/resulting devices cgroup doesn't precisely match target$/);
    expect(viaTsrun.error).toBe('linux.resources.devices[1].access: "RWM" holds none of r, w and m');
    expect(leftoverCgroups(b.id)).toEqual([]);
  });

  it.each([[''], [undefined]])('refuses access %j with runc\'s words, leaving nothing', async (access) => {
    const b = bundleWith(access);
    const viaRunc = await view((args) => runc(path.join(b.dir, 'runc-state'), args), b);
    const viaTsrun = await view((args) => tsrun(b.root, args), b);
    expect(viaTsrun.code).toBe(viaRunc.code);
    expect(viaRunc.error).toBe('runc run failed: device access at 1 field cannot be empty');
    expect(viaTsrun.error).toBe('linux.resources.devices[1].access: device access at 1 field cannot be empty');
    expect(leftoverCgroups(b.id)).toEqual([]);
  });
});
