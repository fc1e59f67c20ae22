// Rootless mode (CONFORMANCE_USER=<name>): the runtime is called as that unprivileged user
// (setpriv, with the user's XDG_RUNTIME_DIR), every bundle is the user's, and the base config
// gains what a rootless container needs: a user namespace mapping the user's uid and gid to
// 0 and its subordinate ranges (/etc/subuid, /etc/subgid) from 1 up. Cgroups go to a subtree
// delegated to the user (tsrun-test/<user>, made and chowned by the suite, which still runs
// as root to look at the container from the host). Checks that need root (joining
// namespaces root made, device cgroup rules, ids outside the ranges...) fail under every
// runtime: the two counts show what applies without root.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';
import type { Host } from './host.js';

export interface RootlessUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  runtimeDir: string;
  subuid: { start: number; count: number };
  subgid: { start: number; count: number };
}

function range(file: string, name: string, uid: number): { start: number; count: number } {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [owner, start, count] = line.split(':');
    if ((owner === name || owner === String(uid)) && start && count) return { start: Number(start), count: Number(count) };
  }
  throw new Error(`CONFORMANCE_USER ${name} has no subordinate range in ${file}`);
}

/** The user CONFORMANCE_USER names, or undefined (the suite then runs the runtime as root). */
export function rootlessUser(name: string | undefined): RootlessUser | undefined {
  if (!name) return undefined;
  const entry = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
  const uid = Number(entry[2]);
  return {
    name,
    uid,
    gid: Number(entry[3]),
    home: entry[5] ?? '/',
    runtimeDir: `/run/user/${uid}`,
    subuid: range('/etc/subuid', name, uid),
    subgid: range('/etc/subgid', name, uid),
  };
}

/** argv put before the runtime's, and its environment, to run it as the user. */
export function asUser(u: RootlessUser): { prefix: string[]; env: NodeJS.ProcessEnv } {
  return {
    prefix: ['setpriv', '--reuid', String(u.uid), '--regid', String(u.gid), '--init-groups', '--'],
    env: {
      HOME: u.home,
      USER: u.name,
      LOGNAME: u.name,
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      XDG_RUNTIME_DIR: u.runtimeDir,
    },
  };
}

/**
 * What `spec --rootless` would add to a config, with the user's ranges mapped too: a user
 * namespace and maps, unless the config has its own.
 */
export function makeRootless(c: Config, u: RootlessUser): void {
  c.linux ??= {};
  c.linux.namespaces ??= [];
  const namespaces = c.linux.namespaces as Array<{ type: string }>;
  if (!namespaces.some((n) => n.type === 'user')) namespaces.push({ type: 'user' });
  if (c.linux.uidMappings || c.linux.gidMappings) return;
  c.linux.uidMappings = [
    { containerID: 0, hostID: u.uid, size: 1 },
    { containerID: 1, hostID: u.subuid.start, size: u.subuid.count },
  ];
  c.linux.gidMappings = [
    { containerID: 0, hostID: u.gid, size: 1 },
    { containerID: 1, hostID: u.subgid.start, size: u.subgid.count },
  ];
}

/** Gives a directory tree to the user. */
export function chownTo(u: RootlessUser, dir: string): void {
  execFileSync('chown', ['-R', `${u.uid}:${u.gid}`, dir]);
}

/**
 * Makes `parent` (the test parent, tsrun-test/<user>) in every hierarchy and gives it to the
 * user, as an administrator delegating a subtree does (a v1 cpuset one gets cpus and mems
 * to hand out). Returns the directories it made, deepest last.
 */
export function delegate(host: Host, u: RootlessUser, parent: string): string[] {
  const made: string[] = [];
  for (const h of host.hierarchies) {
    const dir = path.join(h.mountpoint, parent);
    const missing: string[] = [];
    for (let d = dir; !existsSync(d); d = path.dirname(d)) missing.unshift(d);
    mkdirSync(dir, { recursive: true });
    made.push(...missing);
    if (h.controllers.includes('cpuset')) {
      for (let d = h.mountpoint, rest = parent.split('/'); rest.length; ) {
        d = path.join(d, rest.shift() ?? '');
        for (const f of ['cpuset.cpus', 'cpuset.mems']) {
          if (readFileSync(path.join(d, f), 'utf8').trim() === '') writeFileSync(path.join(d, f), readFileSync(path.join(path.dirname(d), f), 'utf8').trim());
        }
      }
    }
    execFileSync('chown', [`${u.uid}:${u.gid}`, dir]);
  }
  return made;
}
