// A checked profile -> the BPF program tsrun-init loads, compiled in the parent with
// libseccomp (cpp/napi/seccomp.cc) and kept by a hash of the request: a long-lived shim
// compiles each distinct profile once.
//
// The rules mean what they mean under runc (libcontainer/seccomp/seccomp_linux.go): a rule
// whose action is the default action is left out; a syscall libseccomp does not know is
// skipped; conditions on distinct arguments must all hold, while conditions that compare
// the same argument twice become separate rules, any of which may match; a profile of more
// than 32 syscalls asks libseccomp for a binary tree.
import { archToken, compileFilter, crypto, nativeArchToken, type NativeRule, resolveSyscalls, seccompFlagsSupported } from '../native/index.js';
import { FailedPrecondition, InvalidArgument, SystemError } from '../errors.js';
import { INSN_SIZE } from './bpf.js';
import { enosysStub, type ArchMax } from './enosys.js';
import {
  ACT_NOTIFY,
  FLAG_NEW_LISTENER,
  FLAG_TSYNC,
  FLAG_WAIT_KILLABLE_RECV,
  isPermissive,
  MAX_INSTRUCTIONS,
} from './names.js';
import type { SeccompCondition, SeccompRequest, SeccompRule } from './request.js';

export interface CompiledSeccomp {
  /** struct sock_filter[] for seccomp(2) */
  bpf: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits to load it with (NEW_LISTENER when a rule notifies) */
  flags: number;
  /** a rule is SCMP_ACT_NOTIFY: loading gives a listener fd for the agent */
  listener: boolean;
  /** syscall names libseccomp does not know, skipped as runc skips them */
  skipped: string[];
}

const CACHE_SIZE = 32;
const cache = new Map<string, CompiledSeccomp>();

function keyOf(req: SeccompRequest): string {
  const text = JSON.stringify(req, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  return crypto().createHash('sha256').update(text).digest('hex');
}

/** Compiles (or finds in the cache) the filter for req. */
export function compileSeccomp(req: SeccompRequest): CompiledSeccomp {
  const key = keyOf(req);
  const hit = cache.get(key);
  if (hit) {
    // Most recently used last: the oldest entry is the first to go.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const compiled = compileUncached(req);
  cache.set(key, compiled);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return compiled;
}

/** How many compiled filters the cache holds (for tests). */
export function cachedFilters(): number {
  return cache.size;
}

interface Expanded {
  native: NativeRule[];
  /** the profile rule each native rule came from */
  origin: SeccompRule[];
}

/** Conditions that must all hold, one list per native rule. */
function conditionGroups(rule: SeccompRule): SeccompCondition[][] {
  const indexes = new Set(rule.args.map((a) => a.index));
  return indexes.size === rule.args.length ? [rule.args] : rule.args.map((a) => [a]);
}

function expand(req: SeccompRequest): Expanded {
  const out: Expanded = { native: [], origin: [] };
  for (const rule of req.rules) {
    if (rule.action === req.defaultAction) continue;
    const groups = conditionGroups(rule);
    for (const name of rule.names) {
      for (const args of groups) {
        out.native.push({ name, action: rule.action, args });
        out.origin.push(rule);
      }
    }
  }
  return out;
}

function loadFlags(req: SeccompRequest, listener: boolean): number {
  // The init is one thread when it loads the filter: TSYNC has nothing to synchronise, and
  // the kernel refuses it next to NEW_LISTENER. runc leaves it out too.
  let flags = req.flags & ~FLAG_TSYNC;
  // Waiting killably applies to notifications, so without a listener it has no meaning
  // (and the kernel refuses it).
  if (listener) flags |= FLAG_NEW_LISTENER;
  else flags &= ~FLAG_WAIT_KILLABLE_RECV;
  if (flags && !seccompFlagsSupported(flags)) {
    const field = `${req.label}.flags`;
    throw new FailedPrecondition(`${field}: the running kernel does not support seccomp flags 0x${flags.toString(16)}`, { field });
  }
  return flags;
}

/** Per arch in the filter (the native one always), the largest syscall number the profile names. */
function archMaxima(req: SeccompRequest): ArchMax[] {
  const names = [...new Set(req.rules.flatMap((r) => r.names))];
  const tokens = new Set([nativeArchToken(), ...req.architectures.map(archToken)]);
  return [...tokens].map((token) => ({ token, max: Math.max(0, ...resolveSyscalls(token, names)) }));
}

function compileUncached(req: SeccompRequest): CompiledSeccomp {
  const { native, origin } = expand(req);
  const listener = native.some((r) => r.action === ACT_NOTIFY);
  const flags = loadFlags(req, listener);
  const nameCount = req.rules.reduce((n, r) => n + r.names.length, 0);
  let result;
  try {
    result = compileFilter({ defaultAction: req.defaultAction, arches: req.architectures, optimize: nameCount > 32, rules: native });
  } catch (err) {
    const index = err instanceof SystemError ? err.index : undefined;
    const rule = index === undefined ? undefined : origin[index];
    if (rule) throw InvalidArgument.at(rule.label, `syscall "${native[index as number]?.name}": ${(err as Error).message}`);
    throw err;
  }
  const stub = isPermissive(req.defaultAction) ? Buffer.alloc(0) : enosysStub(archMaxima(req));
  const bpf = Buffer.concat([stub, result.bpf]);
  const count = bpf.length / INSN_SIZE;
  if (count > MAX_INSTRUCTIONS) {
    throw InvalidArgument.at(req.label, `the filter takes ${count} BPF instructions, more than the kernel's ${MAX_INSTRUCTIONS}`);
  }
  const skipped = [...new Set(result.unknown.map((i) => native[i]?.name ?? ''))];
  return { bpf, flags, listener, skipped };
}
