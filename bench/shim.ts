// (a) `ctr run --rm` of busybox `true`, (b) 20 of them side by side, (c) `ctr task exec` of
// `true` in a running container: io.containerd.ts.v2 next to io.containerd.runc.v2, through
// one private containerd (the tests' helper), in the default grouping (a server per
// container). Targets: ts/runc <= 0.8, <= 0.8, <= 1.0.
import { IMAGE, NAMESPACE, RUNC, TS, type ShimContainerd } from '../test/helpers/shim-containerd.js';
import { interleaved, runCommand, since, table, timeCommand, type Section, type Stats } from './lib.js';

const PARALLEL = 20;

export async function shimSection(shim: ShimContainerd, rounds: number): Promise<Section> {
  const base = ['--address', shim.ctd.address, '--namespace', NAMESPACE];
  const env = shim.ctd.env;
  let n = 0;
  const id = (tag: string): string => `bench-${process.pid}-${tag}-${n++}`;
  const runArgs = (runtime: string, name: string): string[] => [...base, 'run', '--rm', '--runtime', runtime, IMAGE, name, 'true'];
  const one = (runtime: string, tag: string) => (): number => timeCommand('ctr', runArgs(runtime, id(tag)), { env });
  const many = (runtime: string, tag: string) => async (): Promise<number> => {
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: PARALLEL }, () => runCommand('ctr', runArgs(runtime, id(tag)), env)));
    return since(t0);
  };

  const single = await interleaved(
    [
      { name: '(a) ctr run --rm, ts', once: one(TS, 'a-ts') },
      { name: '(a) ctr run --rm, runc', once: one(RUNC, 'a-runc') },
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
  const exec = (runtime: 'ts' | 'runc') => (): number => timeCommand('ctr', [...base, 'task', 'exec', '--exec-id', `e${n++}`, keepers[runtime], 'true'], { env });
  const execs = await interleaved(
    [
      {
        name: '(c) ctr task exec, ts',
        once: exec('ts'),
        setup: () => void timeCommand('ctr', [...base, 'run', '-d', '--runtime', TS, IMAGE, keepers.ts, 'sleep', '100000'], { env }),
        teardown: () => shim.removeAll(),
      },
      {
        name: '(c) ctr task exec, runc',
        once: exec('runc'),
        setup: () => void timeCommand('ctr', [...base, 'run', '-d', '--runtime', RUNC, IMAGE, keepers.runc, 'sleep', '100000'], { env }),
      },
    ],
    rounds,
  );
  const pair = (rows: Stats[]): [number, number] => [rows[0]!.median, rows[1]!.median];
  const [a, aRunc] = pair(single);
  const [b, bRunc] = pair(parallel);
  const [c, cRunc] = pair(execs);
  return {
    text: ['### (a), (b), (c) through containerd, default grouping', '', table([...single, ...parallel, ...execs])].join('\n'),
    ratios: [
      { section: '(a)', measure: '`ctr run --rm` busybox `true`', ours: a, theirs: aRunc, unit: 'ms', target: 0.8 },
      { section: '(b)', measure: `${PARALLEL} × \`ctr run --rm\` side by side`, ours: b, theirs: bRunc, unit: 'ms', target: 0.8 },
      { section: '(c)', measure: '`ctr task exec` `true`', ours: c, theirs: cRunc, unit: 'ms', target: 1 },
    ],
  };
}
