// Who is rootless and where its state goes, as runc 1.1 decides; the rootless config
// checks; subordinate ranges; which gid map gets setgroups "deny".
import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../../../src/oci/defaults.js';
import type { Config } from '../../../src/oci/spec.js';
import {
  checkRootlessConfig,
  defaultStateRoot,
  honorsXdgRuntimeDir,
  inUserNamespace,
  parseRootlessFlag,
  rootlessCgroups,
  type Caller,
} from '../../../src/runtime/rootless.js';
import { describeSubordinateIds, parseSubordinateIds } from '../../../src/runtime/subid.js';
import { mapsOwnGidOnly } from '../../../src/runtime/userns.js';

const host: Caller = { euid: 0, inUserNamespace: false, env: { XDG_RUNTIME_DIR: '/run/user/0' } };
const alice: Caller = { euid: 1000, inUserNamespace: false, env: { XDG_RUNTIME_DIR: '/run/user/1000' } };
const nsRoot: Caller = { euid: 0, inUserNamespace: true, env: { XDG_RUNTIME_DIR: '/run/user/1000', USER: 'alice' } };

describe('rootless: who and where', () => {
  it('reads the initial user namespace from its identity map only', () => {
    expect(inUserNamespace(() => '         0          0 4294967295\n')).toBe(false);
    expect(inUserNamespace(() => '         0       1000          1\n')).toBe(true);
    expect(inUserNamespace(() => '0 1000 1\n1 100000 65536\n')).toBe(true);
    expect(inUserNamespace(() => {
      throw new Error('no /proc');
    })).toBe(false);
  });

  it('keeps state in $XDG_RUNTIME_DIR/tsrun where runc would use $XDG_RUNTIME_DIR/runc', () => {
    expect(defaultStateRoot(host)).toBe('/run/tsrun');
    expect(defaultStateRoot(alice)).toBe('/run/user/1000/tsrun');
    expect(defaultStateRoot(nsRoot)).toBe('/run/user/1000/tsrun');
    expect(honorsXdgRuntimeDir({ ...nsRoot, env: { ...nsRoot.env, USER: 'root' } })).toBe(false);
    expect(honorsXdgRuntimeDir({ ...alice, env: {} })).toBe(false);
  });

  it('--rootless: true and false are taken as said; auto is an unprivileged caller or root in a user namespace', () => {
    expect(rootlessCgroups('true', host)).toBe(true);
    expect(rootlessCgroups('false', alice)).toBe(false);
    expect(rootlessCgroups('auto', host)).toBe(false);
    expect(rootlessCgroups(undefined, alice)).toBe(true);
    expect(rootlessCgroups(undefined, nsRoot)).toBe(true);
    expect(() => parseRootlessFlag('yes')).toThrow('--rootless: must be true, false or auto, not "yes"');
  });
});

describe('rootless: config checks (runc\'s rootlessEUIDCheck)', () => {
  const rootless = (): Config => defaultSpec({ rootless: true, uid: 1000, gid: 1000 }) as unknown as Config;

  it('passes runc spec --rootless, and anything for root', () => {
    expect(() => checkRootlessConfig(rootless(), alice)).not.toThrow();
    expect(() => checkRootlessConfig(defaultSpec() as unknown as Config, host)).not.toThrow();
  });

  it('names the field at fault', () => {
    const noUserns = rootless();
    noUserns.linux!.namespaces = noUserns.linux!.namespaces!.filter((n) => n.type !== 'user');
    expect(() => checkRootlessConfig(noUserns, alice)).toThrow(/^linux\.namespaces: rootless container requires user namespaces/);
    const noGids = rootless();
    noGids.linux!.gidMappings = [];
    expect(() => checkRootlessConfig(noGids, alice)).toThrow('linux.gidMappings: rootless containers requires at least one GID mapping');
    const groups = rootless();
    groups.process!.user.additionalGids = [5];
    expect(() => checkRootlessConfig(groups, alice)).toThrow('process.user.additionalGids: cannot set any additional groups in a rootless container');
    const uidOpt = rootless();
    uidOpt.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['uid=1000'] });
    expect(() => checkRootlessConfig(uidOpt, alice)).toThrow(/^mounts\[7\]\.options: cannot specify uid=1000 mount option for rootless container/);
    uidOpt.mounts![7]!.options = ['uid=0', 'gid=0'];
    expect(() => checkRootlessConfig(uidOpt, alice)).not.toThrow();
  });
});

describe('rootless: subordinate ranges and setgroups', () => {
  const subuid = 'alice:100000:65536\n1001:200000:10\nbob:300000:5\n#bad\n';

  it('finds the caller\'s ranges by name or uid', () => {
    expect(parseSubordinateIds(subuid, 'alice', 1000)).toEqual([{ start: 100000, count: 65536 }]);
    expect(parseSubordinateIds(subuid, 'carol', 1001)).toEqual([{ start: 200000, count: 10 }]);
    expect(parseSubordinateIds(subuid, 'dave', 1002)).toEqual([]);
  });

  it('says which ranges the caller has, or that it has none', () => {
    expect(describeSubordinateIds('uid', 0, () => subuid)).toBe('root has no subordinate uids in /etc/subuid');
    expect(describeSubordinateIds('gid', 0, () => 'root:5:2\nroot:10:1\n')).toBe('the subordinate gids of root in /etc/subgid: 5-6, 10-10');
  });

  it('denies setgroups only for the caller\'s own gid mapped alone as 0 (runc\'s requiresRootOrMappingTool)', () => {
    expect(mapsOwnGidOnly([{ containerID: 0, hostID: 1000, size: 1 }], 1000)).toBe(true);
    expect(mapsOwnGidOnly([{ containerID: 0, hostID: 1000, size: 2 }], 1000)).toBe(false);
    expect(mapsOwnGidOnly([{ containerID: 1, hostID: 1000, size: 1 }], 1000)).toBe(false);
    expect(mapsOwnGidOnly([{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 10 }], 1000)).toBe(false);
  });
});
