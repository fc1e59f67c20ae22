// A brain whose last group has gone waits TSRUN_SHIM_BRAIN_LINGER_MS for a next one: the next
// container of a script is served by the same brain, its code compiled, with no spare taken
// and none started; nobody coming, it leaves, its socket first, with nothing left behind.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { until } from '../helpers/runtimes.js';
import { containerId, shimContainerdForFile, TS } from '../helpers/shim.js';

const LINGER_MS = 1500;
const shim = shimContainerdForFile({ shimEnv: { TSRUN_SHIM_BRAIN_LINGER_MS: String(LINGER_MS) } });


const brainSockets = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('host-'));

describe('a brain after its last group', () => {
  it('serves the next container itself, then leaves with nothing behind', async () => {
    expect((await shim().run(TS, containerId('first'), ['true'])).code).toBe(0);
    await until('the spare the first start left', () => shim().spares().length === 1);
    const [brain] = shim().servers();
    const [spare] = shim().spares();
    expect(brain).toBeDefined();
    expect(brainSockets(shim().socketDir)).toHaveLength(1);

    const r = await shim().run(TS, containerId('second'), ['echo', 'same-brain']);
    expect(r).toMatchObject({ code: 0, stdout: 'same-brain\n', stderr: '' });
    expect(shim().servers()).toEqual([brain]);
    expect(shim().spares()).toEqual([spare]);

    const last = Date.now();
    await until('the brain gone', () => shim().servers().length === 0, LINGER_MS + 10_000);
    expect(Date.now() - last).toBeGreaterThanOrEqual(LINGER_MS - 200);
    expect(brainSockets(shim().socketDir)).toEqual([]);
    // and the next container is the spare's, as after any brain's end
    expect((await shim().run(TS, containerId('third'), ['true'])).code).toBe(0);
    expect(shim().servers()).toEqual([spare]);
  });
});
