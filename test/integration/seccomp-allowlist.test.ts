// Allow-list seccomp profiles (defaultAction SCMP_ACT_ERRNO) as real callers send them:
// containerd's and Docker's defaults, and an older ~300-syscall list without the syscalls
// newer than runc 1.1's init (close_range, faccessat2, openat2, clone3, pidfd_*). With
// noNewPrivileges false the filter is loaded before tsrun-init's last steps, which must then
// make only what runc 1.1's init makes or fall back when refused. Create, start, a
// startContainer hook and exec go through runc 1.1.5 and tsrun alike.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle, type AnyConfig } from '../helpers/bundle.js';
import { runc, tsrun, type Result } from '../helpers/cli.js';
import { leftoverCgroups, leftoverMounts } from '../helpers/leaks.js';
import { containerdDefault, dockerStyle, olderAllowlist, type Profile } from '../helpers/seccomp-profiles.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

const profiles: Array<[string, (bounding: string[]) => Profile]> = [
  ['containerd default', containerdDefault],
  ['docker default', dockerStyle],
  ['older allow-list', olderAllowlist],
];
const cases = profiles.flatMap(([name, profile]) => [true, false].map((noNewPrivileges) => ({ name, profile, noNewPrivileges })));

interface Outcome {
  create: number;
  start: number;
  probe: { code: number; status: string[]; fds: string[] };
  shell: Pick<Result, 'code' | 'stdout'>;
  delete: number;
}

async function lifecycle(cli: (args: string[]) => Promise<Result>, b: TestBundle): Promise<Outcome> {
  const create = await cli(['create', '--bundle', b.dir, b.id]);
  expect(create.stderr).toBe('');
  const start = await cli(['start', b.id]);
  const probe = await cli(['exec', b.id, '/usr/local/bin/probe']);
  const shell = await cli(['exec', b.id, 'sh', '-c', 'echo exec ok; id -u']);
  const del = await cli(['delete', '--force', b.id]);
  return {
    create: create.code,
    start: start.code,
    probe: {
      code: probe.code,
      status: probe.stdout.split('\n').filter((l) => /^status (Seccomp|NoNewPrivs)/.test(l)),
      // the fds the process got: those above stdio went at exec (close_range or its fallback)
      fds: probe.stdout.split('\n').flatMap((l) => /^fd (\d+) /.exec(l)?.[1] ?? []),
    },
    shell: { code: shell.code, stdout: shell.stdout },
    delete: del.code,
  };
}

describe('allow-list seccomp profiles, as under runc 1.1.5', () => {
  it.each(cases)('$name, noNewPrivileges $noNewPrivileges: create, start hook, exec', async (c) => {
    const b = new TestBundle(`allowlist-${c.noNewPrivileges}`, ['/usr/local/bin/probe', 'sleep', '60']);
    bundles.push(b);
    b.edit((cfg: AnyConfig) => {
      cfg.linux.seccomp = c.profile(cfg.process.capabilities.bounding as string[]);
      cfg.process.noNewPrivileges = c.noNewPrivileges;
      // runs after the filter, in the container: its fork, fds and wait are filtered too
      cfg.hooks = { startContainer: [{ path: '/bin/true' }] };
    });
    const viaRunc = await lifecycle((args) => runc(path.join(b.dir, 'runc-state'), args), b);
    const viaTsrun = await lifecycle((args) => tsrun(b.root, args), b);
    expect(viaTsrun).toEqual(viaRunc);
    expect(viaTsrun).toEqual({
      create: 0,
      start: 0,
      probe: { code: 0, status: [`status NoNewPrivs ${c.noNewPrivileges ? 1 : 0}`, 'status Seccomp 2'], fds: ['0', '1', '2'] },
      shell: { code: 0, stdout: 'exec ok\n0\n' },
      delete: 0,
    });
    expect(leftoverCgroups(b.id)).toEqual([]);
    expect(leftoverMounts(b.dir)).toEqual([]);
  });
});
