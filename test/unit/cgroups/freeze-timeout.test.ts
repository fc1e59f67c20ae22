// A freeze the kernel does not complete reaches containerd as DeadlineExceeded, not Unknown.
import { afterEach, describe, expect, it } from 'vitest';
import { Timeout } from '../../../src/errors.js';
import { V2Manager } from '../../../src/cgroups/v2/manager.js';
import { toStatusError } from '../../../src/shim/status-map.js';
import { Code } from '../../../src/ttrpc/status.js';
import { FakeCgroup } from './helpers.js';

let cg: FakeCgroup | undefined;
afterEach(() => cg?.remove());

describe('freeze timeout', () => {
  it('is a Timeout that the shim answers with DeadlineExceeded', async () => {
    // cgroup.events never says "frozen 1", as when a task is stuck in an uninterruptible sleep.
    cg = new FakeCgroup({ 'cgroup.freeze': '', 'cgroup.events': 'populated 1\nfrozen 0\n' });
    const err: unknown = await new V2Manager({ v1: {}, unified: cg.dir, unifiedMount: cg.dir }).freeze().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Timeout);
    expect(err).toMatchObject({ message: `cgroup ${cg.dir} did not reach "frozen 1"`, path: cg.dir });
    expect(toStatusError(err).code).toBe(Code.DeadlineExceeded);
  });
});
