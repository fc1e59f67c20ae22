// The plan as TypeScript encodes it, read by tsrun-init's own decoder (cpp/plan/decode.cc,
// in tsrun-plan-echo) and written back: the bytes and the plan come back unchanged, with
// every field set or every optional one absent. What the decoder refuses, it names.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildDir } from '../../src/native/index.js';
import { decodePlan, encodePlan, RECORDS, WIRE_HASH } from '../../src/native/wire.js';
import { tempDirsPerTest } from '../helpers/temp-dirs.js';
import { samplePlan } from '../helpers/wire-sample.js';

const tempDir = tempDirsPerTest('plan-wire');
const echo = path.join(buildDir, 'tsrun-plan-echo');

function throughDecoder(bytes: Buffer): { status: number | null; stdout: Buffer; stderr: string } {
  const file = path.join(tempDir(), 'plan');
  writeFileSync(file, bytes);
  const r = spawnSync(echo, [file]);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe('the plan through tsrun-init\'s decoder', () => {
  it('comes back byte for byte and field for field', () => {
    for (const plan of [samplePlan(true), samplePlan(false)]) {
      const bytes = encodePlan(plan);
      const { status, stdout: back } = throughDecoder(bytes);
      expect(status).toBe(0);
      expect(back.equals(bytes)).toBe(true);
      expect(decodePlan(back)).toEqual(plan);
    }
  });

  it('refuses a plan of another description, a truncated one, trailing bytes and an unknown enum code', () => {
    const bytes = encodePlan(samplePlan());
    const other = Buffer.from(bytes);
    other.writeUInt32LE((WIRE_HASH ^ 1) >>> 0, 0);
    expect(throughDecoder(other)).toMatchObject({ status: 1, stderr: expect.stringContaining('this tsrun-init reads') });
    expect(throughDecoder(bytes.subarray(0, bytes.length - 1))).toMatchObject({ status: 1, stderr: 'tsrun-plan-echo: truncated plan\n' });
    expect(throughDecoder(Buffer.concat([bytes, Buffer.from([0])]))).toMatchObject({ status: 1, stderr: 'tsrun-plan-echo: trailing bytes after the plan\n' });
    // The plan's namespaces list comes after the hash and the container id: its first
    // item's type is the byte after their lengths.
    const id = samplePlan().containerID;
    expect(RECORDS.Plan.slice(0, 2).map((f) => f.name)).toEqual(['containerID', 'namespaces']);
    const typeAt = 4 + 4 + Buffer.byteLength(id) + 4;
    const badEnum = Buffer.from(bytes);
    badEnum[typeAt] = 9;
    expect(throughDecoder(badEnum)).toMatchObject({ status: 1, stderr: 'tsrun-plan-echo: invalid NsType 9\n' });
  });
});
