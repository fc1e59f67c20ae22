// The keeper channel is described once, in proto/tsrun/keeper/v1/keeper.proto; the keeper
// (C++, no generated code) mirrors its field numbers in cpp/keeper/wire.h. This reads the
// header and holds every constant there to the proto's descriptor: kHelloGroup is field
// `group` of message Hello, kKeeperHello field `hello` of KeeperMessage, kBrainWelcome
// field `welcome` of BrainMessage, and a constant naming no message (kConn) is that field
// in every message that has it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DescMessage } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { file_tsrun_keeper_v1_keeper } from '../../../src/gen/tsrun/keeper/v1/keeper_pb.js';
import { repoRoot } from '../../helpers/paths.js';

const header = readFileSync(path.join(repoRoot, 'cpp', 'keeper', 'wire.h'), 'utf8');
const constants = [...header.matchAll(/constexpr int (k\w+) = (\d+);/g)].map((m) => ({ name: m[1] as string, value: Number(m[2]) }));
const messages = file_tsrun_keeper_v1_keeper.messages;
/** The message a constant's name starts with: KeeperMessage and BrainMessage go by Keeper and Brain. */
const prefixes = messages
  .map((m) => ({ prefix: m.name.replace(/^(Keeper|Brain)Message$/, '$1'), message: m }))
  .sort((a, b) => b.prefix.length - a.prefix.length);
const pascal = (snake: string): string => snake.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());

function fieldNumber(message: DescMessage, name: string): number | undefined {
  return message.fields.find((f) => pascal(f.name) === name)?.number;
}

describe('cpp/keeper/wire.h', () => {
  it('has constants to check', () => {
    expect(constants.length).toBeGreaterThan(20);
  });

  for (const { name, value } of constants) {
    it(`${name} = ${value} is the proto's`, () => {
      const bare = name.slice(1);
      const owner = prefixes.find((p) => bare.startsWith(p.prefix) && fieldNumber(p.message, bare.slice(p.prefix.length)) !== undefined);
      if (owner) {
        expect(fieldNumber(owner.message, bare.slice(owner.prefix.length))).toBe(value);
        return;
      }
      const holders = messages.filter((m) => fieldNumber(m, bare) !== undefined);
      expect(holders.map((m) => m.name), `no message has a field for ${name}`).not.toEqual([]);
      for (const m of holders) expect(fieldNumber(m, bare), `${m.name}.${bare}`).toBe(value);
    });
  }

  it('says the version the brain speaks', async () => {
    const { KEEPER_VERSION } = await import('../../../src/shim/keeper/link.js');
    expect(Number(/constexpr uint32_t kVersion = (\d+);/.exec(header)?.[1])).toBe(KEEPER_VERSION);
  });
});
