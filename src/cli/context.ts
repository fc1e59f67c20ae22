// What every command gets from the global flags.
import type { Command } from 'commander';
import { Runtime, type RuntimeOptions } from '../api/runtime.js';
import { InvalidArgument } from '../errors.js';
import { callerPath } from '../api/invocation.js';

export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: string;
  debug?: boolean;
  systemdCgroup?: boolean;
  criu?: string;
  rootless?: string;
}

function top(cmd: Command): Command {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  return root;
}

export function globalsOf(cmd: Command): GlobalOptions {
  return top(cmd).opts<GlobalOptions>();
}

/** The library's runtime, as the global flags set it up. */
export function runtimeOf(cmd: Command): Runtime {
  const g = globalsOf(cmd);
  return new Runtime({
    // The default root is the library's own default, which an unprivileged caller's first
    // call makes (or is refused with the reason).
    root: top(cmd).getOptionValueSource('root') === 'default' ? undefined : callerPath(g.root),
    systemdCgroup: g.systemdCgroup ?? false,
    rootless: g.rootless as RuntimeOptions['rootless'],
  });
}

export function parseCount(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw InvalidArgument.at(flag, `${JSON.stringify(value)} is not a non-negative number`);
    return Number(value);
  };
}
