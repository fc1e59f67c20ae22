// The error model: restating keeps the class and details and leaves the original alone;
// every kind has its exit code; Node's errors are classified by their code.
import { describe, expect, it } from 'vitest';
import { exitCodeFor, withExitCode } from '../../src/cli/exit.js';
import {
  AlreadyExists,
  ERROR_KINDS,
  FailedPrecondition,
  HookFailed,
  Internal,
  InvalidArgument,
  NotFound,
  PermissionDenied,
  SystemError,
  Timeout,
  Unavailable,
  Unimplemented,
  withContext,
} from '../../src/errors.js';

describe('errors', () => {
  it('within() makes a new error of the same class and details, the original its cause', () => {
    const original = new SystemError('mount proc on /proc: operation not permitted', { errno: 1, syscall: 'mount', step: 'mount', index: 2 });
    const outer = original.within('create c1');
    expect(outer).toBeInstanceOf(SystemError);
    expect(outer).toMatchObject({ kind: 'SystemError', errno: 1, syscall: 'mount', step: 'mount', index: 2, cause: original });
    expect(outer.message).toBe('create c1: mount proc on /proc: operation not permitted');
    expect(original.message).toBe('mount proc on /proc: operation not permitted');
    const hook = new HookFailed('hooks.prestart[0] "/x": exited with 1', { field: 'hooks.prestart[0]', path: '/x' }).within('create c1');
    expect(hook).toBeInstanceOf(HookFailed);
    expect(hook).toMatchObject({ field: 'hooks.prestart[0]', path: '/x' });
  });

  it('under() names a field from a wider model only when the field leads the message', () => {
    const e = InvalidArgument.at('memory.swap', 'must be at least memory.limit').under('linux.resources');
    expect(e).toMatchObject({ field: 'linux.resources.memory.swap', message: 'linux.resources.memory.swap: must be at least memory.limit' });
    // After within() the field no longer leads: it is left as it is.
    const wrapped = InvalidArgument.at('memory.swap', 'x').within('update');
    expect(wrapped.under('linux.resources')).toBe(wrapped);
  });

  it("withContext classifies Node's errors by their code", () => {
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', errno: -2 });
    expect(withContext('read state of c1', enoent)).toMatchObject({ kind: 'NotFound', message: 'read state of c1: ENOENT: no such file' });
    const eacces = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', errno: -13, syscall: 'open' });
    expect(withContext('save state', eacces)).toMatchObject({ kind: 'SystemError', errno: 13, syscall: 'open' });
    expect(withContext('list', 'text')).toMatchObject({ kind: 'Internal', message: 'list: text' });
    const own = new NotFound('container c1 does not exist');
    expect(withContext('delete', own)).toMatchObject({ kind: 'NotFound', message: 'delete: container c1 does not exist', cause: own });
  });

  it('every kind exits 1 as in runc; a command gives its own code without rewriting the error', () => {
    const each = [
      new InvalidArgument('a'), new NotFound('b'), new AlreadyExists('c'), new FailedPrecondition('d'), new PermissionDenied('e'),
      new Unavailable('f'), new Unimplemented('g'), new Timeout('h'), new HookFailed('i', { field: 'hooks.poststart[0]' }),
      new Internal('j'), new SystemError('k', { errno: 5 }),
    ];
    expect(each.map((e) => e.kind).sort()).toEqual([...ERROR_KINDS].sort());
    for (const e of each) expect([e.kind, exitCodeFor(e)]).toEqual([e.kind, 1]);
    const cause = new Timeout('late');
    const failed = withExitCode(cause, 255, 'exec failed');
    expect(exitCodeFor(failed)).toBe(255);
    expect(failed).toMatchObject({ kind: 'Timeout', message: 'exec failed: late', cause });
    expect(cause.message).toBe('late');
    expect(withExitCode(new TypeError('bug'), 255, 'exec failed')).toMatchObject({ kind: 'Internal', message: 'exec failed: bug' });
  });
});
