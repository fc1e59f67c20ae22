// The group's journal as a new brain reads what an earlier one wrote: lines come back as
// they went (int64s of a spec read the Go way are BigInts, which plain JSON cannot carry),
// and lines of a journal version this brain does not know are left alone.
import { describe, expect, it } from 'vitest';
import { containerKey, encodeLine, execKey, readJournal, type ContainerLine, type ExecLine } from '../../../src/shim/journal.js';

const stdio = { stdin: '', stdout: '/run/fifo/out', stderr: '', terminal: false };

describe('the journal', () => {
  it('reads back containers and their execs, BigInts and all', () => {
    const c: ContainerLine = { v: 1, status: 'running', pid: 42, exitStatus: 0, io: 1, stdio, id: 'c1', bundle: '/b', options: { noPivot: false, noNewKeyring: false, systemdCgroup: false } };
    const x: ExecLine = { v: 1, status: 'created', pending: 'start', pid: 0, exitStatus: 0, io: 2, stdio, containerId: 'c1', execId: 'e1', spec: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 }, rlimits: [{ type: 'RLIMIT_NOFILE', hard: 18446744073709551615n, soft: 1024n }] } };
    const read = readJournal([
      { key: containerKey('c1'), value: encodeLine(c) },
      { key: execKey('c1', 'e1'), value: encodeLine(x) },
    ]);
    expect(read.containers).toEqual([c]);
    expect(read.execs.get('c1')).toEqual([x]);
    expect(read.unread).toEqual([]);
  });

  it('leaves alone what a later version wrote, or what does not parse', () => {
    const read = readJournal([
      { key: 'c/later', value: Buffer.from(JSON.stringify({ v: 99, id: 'later' })) },
      { key: 'c/broken', value: Buffer.from('{') },
      { key: 'z/other', value: Buffer.from('{"v":1}') },
    ]);
    expect(read.containers).toEqual([]);
    expect(read.unread).toEqual(['c/later', 'c/broken', 'z/other']);
  });
});
