// OCI hooks that run in the runtime's namespaces: prestart and createRuntime (at create,
// when tsrun-init reaches the HOOKS point), poststart (after start), poststop (at delete).
// Each gets the container state on stdin, exactly its own env and args, and its timeout.
// They run in the bundle, as runc's create and run do (they chdir there), unless the caller
// says otherwise: runc's delete runs poststop hooks wherever it was called.
import { childProcess } from '../native/index.js';
import { HookFailed, messageOf } from '../errors.js';
import { logger } from '../log.js';
import { signalDescription } from './signals.js';
import { OCI_VERSION } from '../oci/defaults.js';
import type { Config } from '../oci/spec.js';
import type { Status } from '../oci/state.js';

type HookSpec = NonNullable<NonNullable<Config['hooks']>['prestart']>[number];
export type HookKind = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export interface HookState {
  id: string;
  status: Status;
  pid: number;
  bundle: string;
  annotations: Record<string, string>;
}

export function stateJson(s: HookState): string {
  const doc: Record<string, unknown> = { ociVersion: OCI_VERSION, id: s.id, status: s.status, pid: s.pid, bundle: s.bundle };
  if (Object.keys(s.annotations).length) doc.annotations = s.annotations;
  return JSON.stringify(doc);
}

/** runc's words for a failed hook, naming it as the config does. */
function hookError(index: number, field: string, hook: HookSpec, what: string, stdout = '', stderr = ''): HookFailed {
  const oneLine = (t: string): string => t.trim().replace(/\s*\n\s*/g, '; ');
  const output = stdout.trim() || stderr.trim() ? `, stdout: ${oneLine(stdout)}, stderr: ${oneLine(stderr)}` : '';
  return new HookFailed(`error running hook #${index}: ${field} ${JSON.stringify(hook.path)}: ${what}${output}`, { field, path: hook.path });
}

function runHook(hook: HookSpec, kind: HookKind, index: number, state: string, cwd: string): Promise<void> {
  const field = `hooks.${kind}[${index}]`;
  return new Promise((resolve, reject) => {
    const [argv0, ...args] = hook.args ?? [hook.path];
    const child = childProcess().spawn(hook.path, args, { argv0, cwd, env: Object.fromEntries((hook.env ?? []).map(splitEnv)), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < 300) stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 300) stderr += d.toString();
    });
    let timedOut = false;
    const timer = hook.timeout && hook.timeout > 0 ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), hook.timeout * 1000) : undefined;
    child.stdin.on('error', () => undefined); // a hook need not read its stdin
    child.stdin.end(state);
    const fail = (what: string): void => reject(hookError(index, field, hook, what, stdout, stderr));
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(messageOf(err));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // as Go's exec reports them in runc
      if (timedOut) fail(`hook ran past specified timeout of ${(hook.timeout ?? 0).toFixed(1)}s`);
      else if (signal) fail(`signal: ${signalDescription(signal)}`);
      else if (code !== 0) fail(`exit status ${code}`);
      else resolve();
    });
  });
}

function splitEnv(e: string): [string, string] {
  const i = e.indexOf('=');
  return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
}

/** Runs the hooks of one kind in order; the first failure stops them and is thrown. */
export async function runHooks(config: Config, kind: HookKind, state: HookState, cwd = state.bundle): Promise<void> {
  const hooks = config.hooks?.[kind] ?? [];
  const json = stateJson(state);
  for (const [i, hook] of hooks.entries()) await runHook(hook, kind, i, json, cwd);
}

/** For poststart and poststop: a failure is a warning and the rest still run (the spec's rule). */
export async function runHooksWarning(config: Config, kind: HookKind, state: HookState, cwd = state.bundle): Promise<void> {
  const hooks = config.hooks?.[kind] ?? [];
  const json = stateJson(state);
  for (const [i, hook] of hooks.entries()) {
    try {
      await runHook(hook, kind, i, json, cwd);
    } catch (err) {
      logger.warn(messageOf(err));
    }
  }
}
