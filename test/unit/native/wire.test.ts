// The wire formats walked from the generated schema: a plan with every field set comes back
// as it went, and the sync records read at the offsets sync.def gives.
import { describe, expect, it } from 'vitest';
import { decodePlan, encodePlan, messageHeader, readSyncRecord, STEP_NAMES, SYNC_RECORD_SIZE, WIRE_HASH } from '../../../src/native/wire.js';
import { samplePlan } from '../../helpers/wire-sample.js';

describe('plan wire', () => {
  it('round-trips a plan with every field set, and with every optional field absent', () => {
    for (const plan of [samplePlan(true), samplePlan(false)]) {
      const bytes = encodePlan(plan);
      expect(bytes.readUInt32LE(0)).toBe(WIRE_HASH);
      expect(decodePlan(bytes)).toEqual(plan);
    }
  });

  it('refuses a value an enum does not have, a plan of another description, and trailing bytes', () => {
    expect(() => encodePlan({ ...samplePlan(), mode: 'attach' as never })).toThrow('wire: Mode has no value "attach"');
    const bytes = encodePlan(samplePlan());
    const other = Buffer.from(bytes);
    other.writeUInt32LE((WIRE_HASH + 1) >>> 0, 0);
    expect(() => decodePlan(other)).toThrow(/a plan of description/);
    expect(() => decodePlan(Buffer.concat([bytes, Buffer.from([0])]))).toThrow('trailing bytes');
  });
});

describe('sync records', () => {
  it('reads a record at the offsets of sync.def', () => {
    const rec = Buffer.alloc(SYNC_RECORD_SIZE);
    rec.writeUInt32LE(3, 0);
    rec.writeUInt32LE(STEP_NAMES.indexOf('mount'), 4);
    rec.writeInt32LE(1, 8);
    rec.writeInt32LE(2, 12);
    rec.writeBigInt64LE(-5n, 16);
    rec.write('mount proc on /proc\0garbage', 24);
    expect(readSyncRecord(rec)).toEqual({ kind: 'error', step: STEP_NAMES.indexOf('mount'), err: 1, index: 2, value: -5n, detail: 'mount proc on /proc' });
    rec.writeUInt32LE(99, 0);
    expect(() => readSyncRecord(rec)).toThrow('wire: RecordKind has no code 99');
  });

  it('heads a message with its kind and length', () => {
    expect(messageHeader('plan', 7)).toEqual(Buffer.from([0x54, 0x50, 0x4c, 0x4e, 7, 0, 0, 0]));
    expect(messageHeader('hooks-done', 300)).toEqual(Buffer.from([2, 0, 0, 0, 44, 1, 0, 0]));
  });
});
