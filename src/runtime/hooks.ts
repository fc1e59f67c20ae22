// OCI hooks that run in the runtime's namespaces: prestart and createRuntime (at create,
// when tsrun-init reaches the HOOKS point), poststart (after start), poststop (at delete).
// Each gets the container state on stdin, exactly its own env and args, and its timeout.
// They run in the bundle, as runc's create and run do (they chdir there), unless the caller
// says otherwise: runc's delete runs poststop hooks wherever it was called.
import { childProcess } from '../native/index.js';
import { HookFailed, messageOf } from '../errors.js';
import { logger } from '../log.js';
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

function runHook(hook: HookSpec, field: string, state: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const [argv0, ...args] = hook.args ?? [hook.path];
    const child = childProcess().spawn(hook.path, args, { argv0, cwd, env: Object.fromEntries((hook.env ?? []).map(splitEnv)), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer): void => {
      if (output.length < 300) output += d.toString();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = hook.timeout && hook.timeout > 0 ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), hook.timeout * 1000) : undefined;
    child.stdin.on('error', () => undefined); // a hook need not read its stdin
    child.stdin.end(state);
    const fail = (what: string): void => {
      const detail = output.trim() ? `: ${output.trim().replace(/\s*\n\s*/g, '; ')}` : '';
      reject(new HookFailed(`${field} ${JSON.stringify(hook.path)}: ${what}${detail}`, { field, path: hook.path }));
    };
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(messageOf(err));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) fail(`did not finish in ${hook.timeout}s`);
      else if (signal) fail(`killed by ${signal}`);
      else if (code !== 0) fail(`exited with ${code}`);
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
  for (const [i, hook] of hooks.entries()) await runHook(hook, `hooks.${kind}[${i}]`, json, cwd);
}

/** For poststart and poststop: a failure is a warning and the rest still run (the spec's rule). */
export async function runHooksWarning(config: Config, kind: HookKind, state: HookState, cwd = state.bundle): Promise<void> {
  const hooks = config.hooks?.[kind] ?? [];
  const json = stateJson(state);
  for (const [i, hook] of hooks.entries()) {
    try {
      await runHook(hook, `hooks.${kind}[${i}]`, json, cwd);
    } catch (err) {
      logger.warn(messageOf(err));
    }
  }
}
