// `run` must report the exit of a container that dies right after start: start() watches
// the init while it opens the exec fifo, and a watcher that reaped would steal the status
// from run (which then saw "not our child" and reported 0). Seen first with seccomp's
// SCMP_ACT_KILL_PROCESS, whose core dump makes the death land in start's watch.
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { tsrun } from '../helpers/cli.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

describe('run', () => {
  it('reports the status of a container that dies at once, every time', async () => {
    const b = new TestBundle('exit-race', ['/usr/local/bin/probe', 'syscall', 'mkdir', 's:/tmp/x', '0']);
    bundles.push(b);
    b.edit((c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL_PROCESS' }] };
    });
    for (let i = 0; i < 10; i++) {
      const r = await tsrun(b.root, ['run', '--bundle', b.dir, `${b.id}-${i}`]);
      expect(r.stderr).toBe('');
      expect(r.code, `run ${i}`).toBe(128 + 31);
    }
  }, 180_000);
});
