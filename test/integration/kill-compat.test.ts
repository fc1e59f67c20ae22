// kill's signal argument as runc 1.1.5 reads it, side by side: 0 (kill(2)'s existence
// check, which callers use, also with --all), a signed number, one with no signal, and a
// stopped container.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBundle } from '../helpers/bundle.js';
import { errorOf, runc, tsrun, type Result } from '../helpers/cli.js';
import { leftoverCgroups } from '../helpers/leaks.js';
import { until } from '../helpers/runtimes.js';

const bundles: TestBundle[] = [];
afterAll(() => bundles.forEach((b) => b.remove()));

type Cli = (args: string[]) => Promise<Result>;

async function session(cli: Cli, b: TestBundle): Promise<Array<[string, number, string]>> {
  const seen: Array<[string, number, string]> = [];
  const step = async (what: string, args: string[]): Promise<void> => {
    const r = await cli(args);
    seen.push([what, r.code, r.code === 0 ? '' : errorOf(r)]);
  };
  expect((await cli(['run', '-d', '--bundle', b.dir, b.id])).code).toBe(0);
  try {
    await step('kill 0', ['kill', b.id, '0']);
    await step('kill --all 0', ['kill', '--all', b.id, '0']);
    await step('state after 0', ['state', b.id]);
    await step('kill 65', ['kill', b.id, '65']);
    await step('kill " 9"', ['kill', b.id, ' 9']);
    await step('kill +9', ['kill', b.id, '+9']);
    await until('the container to stop', async () => (await cli(['state', b.id])).stdout.includes('"stopped"'));
    await step('kill 0 when stopped', ['kill', b.id, '0']);
    await step('kill --all 0 when stopped', ['kill', '--all', b.id, '0']);
  } finally {
    await cli(['delete', '--force', b.id]);
  }
  return seen;
}

describe('kill, as runc 1.1.5 reads its signal', () => {
  it('0, --all 0, +9, 65 and " 9", running and stopped', async () => {
    const b = new TestBundle('kill0', ['/bin/sleep', '1000']);
    bundles.push(b);
    const viaRunc = await session((args) => runc(path.join(b.dir, 'runc-state'), args), b);
    const viaTsrun = await session((args) => tsrun(b.root, args), b);
    // the same steps succeed and fail; the texts are runc's, ours naming more after them
    expect(viaTsrun.map(([what, code]) => [what, code])).toEqual(viaRunc.map(([what, code]) => [what, code]));
    viaRunc.forEach(([, , text], i) => expect(viaTsrun[i]?.[2].startsWith(text)).toBe(true));
    expect(viaTsrun).toEqual([
      ['kill 0', 0, ''],
      ['kill --all 0', 0, ''],
      ['state after 0', 0, ''],
      ['kill 65', 1, 'unable to signal init: invalid argument: there is no signal 65'],
      ['kill " 9"', 1, 'unknown signal " 9"'],
      ['kill +9', 0, ''],
      ['kill 0 when stopped', 1, 'container not running'],
      ['kill --all 0 when stopped', 0, ''],
    ]);
    expect(leftoverCgroups(b.id)).toEqual([]);
  });
});
