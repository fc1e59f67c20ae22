// linux.seccomp -> the filter tsrun-init loads. The profile is judged here, where the field
// names are known, so that a bad rule is refused before anything is created, naming the
// rule; src/seccomp then compiles what passed.
import { InvalidArgument } from '../../errors.js';
import { logger } from '../../log.js';
import type { Config } from '../../oci/spec.js';
import { compileSeccomp, type CompiledSeccomp } from '../../seccomp/compile.js';
import {
  ACT_NOTIFY,
  ACTIONS,
  ACTIONS_WITH_ERRNO,
  actionValue,
  ARCHITECTURES,
  FILTER_FLAGS,
  MAX_ARG_INDEX,
  OPERATORS,
} from '../../seccomp/names.js';
import type { SeccompCondition, SeccompRequest, SeccompRule } from '../../seccomp/request.js';

type OciSeccomp = NonNullable<NonNullable<Config['linux']>['seccomp']>;
type OciSyscall = NonNullable<OciSeccomp['syscalls']>[number];

const FIELD = 'linux.seccomp';

/** Where the agent of SCMP_ACT_NOTIFY listens, and what it is told about the container. */
export interface SeccompListener {
  path: string;
  metadata: string;
}

/** "rule for mkdir, mkdirat": which syscalls a message is about. */
function ruleFor(names: string[]): string {
  const shown = names.slice(0, 3).join(', ');
  return `rule for ${shown || 'no syscall'}${names.length > 3 ? ', ...' : ''}`;
}

function action(name: string, errnoRet: number | undefined, field: string, errnoField: string, what: string): number {
  if (ACTIONS[name] === undefined) throw InvalidArgument.at(field, `unknown action "${name}"${what}`);
  if (errnoRet !== undefined && !ACTIONS_WITH_ERRNO.has(name)) {
    throw InvalidArgument.at(errnoField, `${name} returns no errno: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one${what}`);
  }
  return actionValue(name, errnoRet) as number;
}

function conditions(call: OciSyscall, field: string, what: string): SeccompCondition[] {
  return (call.args ?? []).map((arg, k) => {
    const at = `${field}.args[${k}]`;
    if (arg.index < 0 || arg.index > MAX_ARG_INDEX) {
      throw InvalidArgument.at(`${at}.index`, `${arg.index} is out of range: syscalls have arguments 0 to ${MAX_ARG_INDEX} (${what})`);
    }
    const op = OPERATORS[arg.op];
    if (op === undefined) throw InvalidArgument.at(`${at}.op`, `unknown operator "${arg.op}" (${what})`);
    return { index: arg.index, op, value: arg.value, valueTwo: arg.valueTwo ?? 0n };
  });
}

function rules(s: OciSeccomp): SeccompRule[] {
  return (s.syscalls ?? []).map((call, i) => {
    const field = `${FIELD}.syscalls[${i}]`;
    const what = ruleFor(call.names);
    if (call.names.length === 0) throw InvalidArgument.at(`${field}.names`, 'must name at least one syscall');
    call.names.forEach((name, j) => {
      if (!name) throw InvalidArgument.at(`${field}.names[${j}]`, `must not be empty (${what})`);
    });
    const act = action(call.action, call.errnoRet, `${field}.action`, `${field}.errnoRet`, ` (${what})`);
    if (act === ACT_NOTIFY) {
      // tsrun-init writes the listener's number to the runtime once the filter is in: a
      // write waiting on an agent that has no listener yet would never return.
      if (call.names.includes('write')) {
        throw InvalidArgument.at(`${field}.action`, `SCMP_ACT_NOTIFY cannot be used for the write syscall: the runtime needs it to hand the listener over (${what})`);
      }
      if (!s.listenerPath) throw InvalidArgument.at(`${FIELD}.listenerPath`, `required by SCMP_ACT_NOTIFY in ${field}`);
    }
    return { names: call.names, action: act, args: conditions(call, field, what), label: field };
  });
}

/** The profile as src/seccomp takes it; null when it asks for no filter (as runc reads it). */
export function seccompRequest(s: OciSeccomp | undefined): SeccompRequest | null {
  if (!s || (s.defaultAction === '' && !s.syscalls?.length)) return null;
  const defaultAction = action(s.defaultAction, s.defaultErrnoRet, `${FIELD}.defaultAction`, `${FIELD}.defaultErrnoRet`, '');
  if (defaultAction === ACT_NOTIFY) {
    throw InvalidArgument.at(`${FIELD}.defaultAction`, 'SCMP_ACT_NOTIFY cannot be the default action: the runtime must write to its sync socket after loading the filter');
  }
  if (s.listenerMetadata && !s.listenerPath) {
    throw InvalidArgument.at(`${FIELD}.listenerMetadata`, 'must not be set without listenerPath');
  }
  const architectures = (s.architectures ?? []).map((name, i) => {
    const arch = ARCHITECTURES[name];
    if (!arch) throw InvalidArgument.at(`${FIELD}.architectures[${i}]`, `unknown architecture "${name}"`);
    return arch;
  });
  let flags = 0;
  (s.flags ?? []).forEach((name, i) => {
    const bit = FILTER_FLAGS[name];
    if (bit === undefined) throw InvalidArgument.at(`${FIELD}.flags[${i}]`, `unknown flag "${name}"`);
    flags |= bit;
  });
  return { defaultAction, architectures, flags, rules: rules(s), label: FIELD };
}

/** The compiled filter for config, or null when it has none. */
export function planSeccomp(config: Config): CompiledSeccomp | null {
  const req = seccompRequest(config.linux?.seccomp);
  if (!req) return null;
  const compiled = compileSeccomp(req);
  // Names this libseccomp does not know are syscalls this kernel cannot have: runc skips them too.
  for (const name of compiled.skipped) logger.debug(`unknown seccomp syscall "${name}" ignored`);
  return compiled;
}

/** The agent to hand the listener to; null when no rule notifies. */
export function seccompListener(config: Config): SeccompListener | null {
  const s = config.linux?.seccomp;
  const notifies = s?.syscalls?.some((c) => c.action === 'SCMP_ACT_NOTIFY');
  if (!s?.listenerPath || !notifies) return null;
  return { path: s.listenerPath, metadata: s.listenerMetadata ?? '' };
}
