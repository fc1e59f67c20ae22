// What every command gets from the global flags.
import type { Command } from 'commander';
import { Runtime, type RuntimeOptions } from '../api/runtime.js';
import { InvalidArgument } from '../errors.js';
import { prepareDefaultRoot, rootlessCgroups } from '../runtime/rootless.js';
import { StateStore } from '../runtime/state-store.js';

export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: string;
  debug?: boolean;
  systemdCgroup?: boolean;
  criu?: string;
  rootless?: string;
}

export function globalsOf(cmd: Command): GlobalOptions {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  return root.opts<GlobalOptions>();
}

export function storeOf(cmd: Command): StateStore {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  // An unprivileged caller's default root is made here, or refused with the reason.
  if (root.getOptionValueSource('root') === 'default') prepareDefaultRoot();
  return new StateStore(globalsOf(cmd).root);
}

/** The library's runtime, as the global flags set it up. */
export function runtimeOf(cmd: Command): Runtime {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  const g = globalsOf(cmd);
  return new Runtime({
    // The default root is the library's own, which an unprivileged caller's first call makes.
    root: root.getOptionValueSource('root') === 'default' ? undefined : g.root,
    systemdCgroup: g.systemdCgroup ?? false,
    rootless: g.rootless as RuntimeOptions['rootless'],
  });
}

/** --rootless (true, false, auto) as runc reads it: whether cgroups are best effort. */
export function rootlessOf(cmd: Command): boolean {
  return rootlessCgroups(globalsOf(cmd).rootless);
}

export function parseCount(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw InvalidArgument.at(flag, `${JSON.stringify(value)} is not a non-negative number`);
    return Number(value);
  };
}
