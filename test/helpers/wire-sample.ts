// Plans that set every field the wire description has, each to a value of its own, made
// from the generated schema: a field added to cpp/plan/plan.def is covered without a test
// edit. `present` false leaves every optional field null instead.
import { ENUMS, RECORDS, type Plan, type WireType } from '../../src/native/wire.js';

export function samplePlan(present = true): Plan {
  let seed = 0;
  const sample = (type: WireType): unknown => {
    seed++;
    if (typeof type !== 'string') {
      if ('list' in type) return [sample(type.list), sample(type.list)];
      if ('enum' in type) {
        const values = Object.keys(ENUMS[type.enum].codes);
        return values[seed % values.length];
      }
      return Object.fromEntries(RECORDS[type.record].map((f) => [f.name, 'optional' in f && !present ? null : sample(f.type)]));
    }
    switch (type) {
      case 'u8':
        return seed % 256;
      case 'u32':
        return (0xfffff000 + seed) >>> 0;
      case 'i32':
        return -seed;
      case 'u64':
        return (1n << 63n) + BigInt(seed);
      case 'i64':
        return -(1n << 40n) - BigInt(seed);
      case 'flags64':
        return 2 ** 40 + seed;
      case 'bool':
        return seed % 2 === 1;
      case 'str':
        return `s${seed} é`;
      case 'bytes':
        return Buffer.from([seed, 0, 255]);
    }
  };
  return sample({ record: 'Plan' }) as Plan;
}
