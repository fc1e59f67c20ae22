import { describe, expect, it } from 'vitest';
import { deviceRulesOf } from '../../../src/runtime/cgroup-config.js';

describe('deviceRulesOf', () => {
  it('reads access as runc 1.1 does: the r, w and m in it, in that order, other characters ignored', () => {
    const access = (a: string): string[] => deviceRulesOf([{ allow: true, type: 'c', major: 10, minor: 229, access: a }]).map((r) => r.access);
    expect(access('rwa')).toEqual(['rw']);
    expect(access('mr')).toEqual(['rm']);
    expect(access('r w')).toEqual(['rw']);
    expect(access('rrr')).toEqual(['r']);
    expect(access('rwmz')).toEqual(['rwm']);
  });

  it('refuses an access with none of r, w and m (runc\'s emulator fails on it)', () => {
    expect(() => deviceRulesOf([{ allow: true, type: 'c', major: 10, minor: 229, access: 'RWM' }])).toThrow(
      'linux.resources.devices[0].access: "RWM" holds none of r, w and m',
    );
  });

  it('refuses an empty or missing access with runc\'s words, naming the field', () => {
    for (const access of ['', undefined]) {
      expect(() => deviceRulesOf([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access }])).toThrow(
        'linux.resources.devices[1].access: device access at 1 field cannot be empty',
      );
    }
  });
});
