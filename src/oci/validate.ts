// Reading and judging config.json. Every issue names the field at fault in the form
// `mounts[2].destination`, so the runtime can say exactly what to fix.
import type * as z from 'zod/mini';
import { capabilityNumber } from './capabilities.js';
import { parseGoJson } from './go-json.js';
import { RLIMITS } from './rlimits.js';
import { schemas, type Config, type ProcessSpec } from './spec.js';

export interface ConfigIssue {
  field: string;
  message: string;
}

export type ParseResult = { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] };

export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;

export const ROOTFS_PROPAGATIONS = ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable'];

export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(config)';
}

function zodIssues(error: z.core.$ZodError): ConfigIssue[] {
  return error.issues.map((i) => ({ field: fieldPath(i.path), message: i.message.toLowerCase() }));
}

/** Parses the text of a config.json: JSON syntax, then structure, then meaning. */
export function parseConfig(text: string): ParseResult {
  let json: unknown;
  try {
    json = parseGoJson(text);
  } catch (err) {
    return { ok: false, issues: [{ field: '(config)', message: `invalid JSON: ${(err as Error).message}` }] };
  }
  const parsed = schemas().Config.safeParse(json);
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error) };
  const issues = checkConfig(parsed.data);
  return issues.length ? { ok: false, issues } : { ok: true, config: parsed.data };
}

const isAbsolute = (p: string): boolean => p.startsWith('/');

// semver.org's grammar: MAJOR.MINOR.PATCH, optional -pre-release and +build.
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** What the schema cannot say: rules across fields, and values Linux will not take. */
export function checkConfig(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (field: string, message: string): void => {
    issues.push({ field, message });
  };

  if (!SEMVER.test(c.ociVersion)) add('ociVersion', `${JSON.stringify(c.ociVersion)} is not a SemVer 2.0.0 version`);
  for (const [kind, list] of Object.entries(c.hooks ?? {})) {
    (list ?? []).forEach((h, i) => {
      if (h.timeout !== undefined && h.timeout <= 0) add(`hooks.${kind}[${i}].timeout`, `must be greater than zero, not ${h.timeout}`);
      if (!isAbsolute(h.path)) add(`hooks.${kind}[${i}].path`, `must be an absolute path, not "${h.path}"`);
    });
  }

  if (!c.root) add('root', 'is required');
  else if (!c.root.path) add('root.path', 'must not be empty');

  const nsTypes = new Set<string>();
  (c.linux?.namespaces ?? []).forEach((ns, i) => {
    if (!(NAMESPACE_TYPES as readonly string[]).includes(ns.type)) {
      add(`linux.namespaces[${i}].type`, `unknown namespace type "${ns.type}"`);
    }
    if (nsTypes.has(ns.type)) add(`linux.namespaces[${i}].type`, `namespace "${ns.type}" is given twice`);
    nsTypes.add(ns.type);
    if (ns.path !== undefined && !isAbsolute(ns.path)) {
      add(`linux.namespaces[${i}].path`, `must be an absolute path, not "${ns.path}"`);
    }
  });

  if (c.hostname && !nsTypes.has('uts')) add('hostname', 'cannot be set without a private UTS namespace');
  if (c.domainname && !nsTypes.has('uts')) add('domainname', 'cannot be set without a private UTS namespace');

  if (c.process) issues.push(...checkProcess(c.process, 'process'));

  (c.mounts ?? []).forEach((m, i) => {
    if (!isAbsolute(m.destination)) add(`mounts[${i}].destination`, `must be an absolute path, not "${m.destination}"`);
  });

  const linux = c.linux;
  if (linux) {
    const paths = [
      ['maskedPaths', linux.maskedPaths],
      ['readonlyPaths', linux.readonlyPaths],
    ] as const;
    for (const [name, list] of paths) {
      (list ?? []).forEach((path, i) => {
        if (!isAbsolute(path)) add(`linux.${name}[${i}]`, `must be an absolute path, not "${path}"`);
      });
      if ((list ?? []).length > 0 && !nsTypes.has('mount')) {
        add(`linux.${name}`, 'cannot be applied without a private mount namespace');
      }
    }
    if (linux.rootfsPropagation !== undefined && !ROOTFS_PROPAGATIONS.includes(linux.rootfsPropagation)) {
      add('linux.rootfsPropagation', `unknown propagation "${linux.rootfsPropagation}"`);
    }
    if (linux.cgroupsPath !== undefined && linux.cgroupsPath.split('/').includes('..')) {
      add('linux.cgroupsPath', 'must not contain ".."');
    }
  }
  return issues;
}

/** The rules for a process, whether in config.json or in an `exec --process` file. */
export function checkProcess(p: ProcessSpec, prefix: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (field: string, message: string): void => {
    issues.push({ field: `${prefix}.${field}`, message });
  };
  if (!p.args || p.args.length === 0) add('args', 'must hold at least the program to run');
  if (!isAbsolute(p.cwd)) add('cwd', `must be an absolute path, not "${p.cwd}"`);
  for (const [set, names] of Object.entries(p.capabilities ?? {})) {
    (names ?? []).forEach((name, i) => {
      if (capabilityNumber(name) === undefined) add(`capabilities.${set}[${i}]`, `unknown capability "${name}"`);
    });
  }
  const seen = new Set<string>();
  (p.rlimits ?? []).forEach((r, i) => {
    if (RLIMITS[r.type] === undefined) add(`rlimits[${i}].type`, `unknown rlimit "${r.type}"`);
    if (seen.has(r.type)) add(`rlimits[${i}].type`, `rlimit "${r.type}" is given twice`);
    seen.add(r.type);
    if (r.soft > r.hard) add(`rlimits[${i}]`, `soft limit ${r.soft} is above hard limit ${r.hard}`);
  });
  if (p.user.umask !== undefined && p.user.umask > 0o777) add('user.umask', `${p.user.umask} is not a file mode mask`);
  return issues;
}

export type ProcessResult = { ok: true; process: ProcessSpec } | { ok: false; issues: ConfigIssue[] };

/** Parses a process.json as `exec --process` takes it; fields are named from its top. */
export function parseProcess(text: string): ProcessResult {
  let json: unknown;
  try {
    json = parseGoJson(text);
  } catch (err) {
    return { ok: false, issues: [{ field: '(process)', message: `invalid JSON: ${(err as Error).message}` }] };
  }
  return processFromJson(json);
}

/** A process given as a value (a library's caller's, or JSON decoded), judged as parseProcess judges it. */
export function processFromJson(json: unknown): ProcessResult {
  const parsed = schemas().Process.safeParse(json);
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error) };
  const issues = checkProcess(parsed.data, '').map((i) => ({ ...i, field: i.field.replace(/^\./, '') }));
  return issues.length ? { ok: false, issues } : { ok: true, process: parsed.data };
}
