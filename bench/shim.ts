// (a) `ctr run --rm` of busybox `true`, (b) 20 of them side by side, (c) `ctr task exec` of
// `true` in a running container: io.containerd.ts.v2 next to io.containerd.runc.v2, through
// one private containerd (the tests' helper), in the default grouping (a server per
// container). Targets: ts/runc <= 0.8, <= 0.8, <= 1.0. Beside (a), containerd's floor: the
// same `ctr run --rm` through a shim that answers every Task call at once and runs nothing
// (test/floor-shim), so that what each shim costs above it is its own. Every command runs
// and is timed from the bench's shell (bench/shell.ts).
import { FLOOR, IMAGE, NAMESPACE, RUNC, TS, type ShimContainerd } from '../test/helpers/shim-containerd.js';
import { interleaved, table, timeCommand, type Section, type Stats } from './lib.js';
import type { Shell } from './shell.js';

const PARALLEL = 20;

export async function shimSection(shim: ShimContainerd, shell: Shell, rounds: number): Promise<Section> {
  const base = ['ctr', '--address', shim.ctd.address, '--namespace', NAMESPACE];
  let n = 0;
  const id = (tag: string): string => `bench-${process.pid}-${tag}-${n++}`;
  const runArgs = (runtime: string, name: string): string[] => [...base, 'run', '--rm', '--runtime', runtime, IMAGE, name, 'true'];
  const one = (runtime: string, tag: string) => () => shell.time(runArgs(runtime, id(tag)));
  // Side by side, as a shell runs them: each in the background, then `wait`.
  const many = (runtime: string, tag: string) => () => {
    const cmds = Array.from({ length: PARALLEL }, () => `${runArgs(runtime, id(tag)).join(' ')} & `).join('');
    return shell.time(['bash', '-c', `${cmds}fail=0; for j in $(jobs -p); do wait $j || fail=1; done; exit $fail`]);
  };

  const single = await interleaved(
    [
      { name: '(a) ctr run --rm, ts', once: one(TS, 'a-ts') },
      { name: '(a) ctr run --rm, runc', once: one(RUNC, 'a-runc') },
      { name: '(a) ctr run --rm, floor shim', once: one(FLOOR, 'a-floor') },
    ],
    rounds,
  );
  const parallel = await interleaved(
    [
      { name: `(b) ${PARALLEL} × ctr run --rm side by side, ts`, once: many(TS, 'b-ts') },
      { name: `(b) ${PARALLEL} × ctr run --rm side by side, runc`, once: many(RUNC, 'b-runc') },
    ],
    Math.max(3, Math.round(rounds / 5)),
    1,
  );
  const keepers = { ts: id('c-ts'), runc: id('c-runc') };
  const env = shim.ctd.env;
  const exec = (runtime: 'ts' | 'runc') => () => shell.time([...base, 'task', 'exec', '--exec-id', `e${n++}`, keepers[runtime], 'true']);
  const execs = await interleaved(
    [
      {
        name: '(c) ctr task exec, ts',
        once: exec('ts'),
        setup: () => void timeCommand(base[0]!, [...base.slice(1), 'run', '-d', '--runtime', TS, IMAGE, keepers.ts, 'sleep', '100000'], { env }),
        teardown: () => shim.removeAll(),
      },
      {
        name: '(c) ctr task exec, runc',
        once: exec('runc'),
        setup: () => void timeCommand(base[0]!, [...base.slice(1), 'run', '-d', '--runtime', RUNC, IMAGE, keepers.runc, 'sleep', '100000'], { env }),
      },
    ],
    rounds,
  );
  const pair = (rows: Stats[]): [number, number] => [rows[0]!.median, rows[1]!.median];
  const [a, aRunc] = pair(single);
  const floor = single[2]!.median;
  const [b, bRunc] = pair(parallel);
  const [c, cRunc] = pair(execs);
  return {
    text: ['### (a), (b), (c) through containerd, default grouping', '', table([...single, ...parallel, ...execs])].join('\n'),
    rows: single,
    ratios: [
      { section: '(a)', measure: '`ctr run --rm` busybox `true`', ours: a, theirs: aRunc, unit: 'ms', target: 0.8 },
      { section: '(a)', measure: `the shim's own share: above the floor shim's ${floor.toFixed(1)} ms`, ours: a - floor, theirs: aRunc - floor, unit: 'ms' },
      { section: '(b)', measure: `${PARALLEL} × \`ctr run --rm\` side by side`, ours: b, theirs: bRunc, unit: 'ms', target: 0.8 },
      { section: '(c)', measure: '`ctr task exec` `true`', ours: c, theirs: cRunc, unit: 'ms', target: 1 },
    ],
  };
}
