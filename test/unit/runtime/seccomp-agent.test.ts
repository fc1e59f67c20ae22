// The document a seccomp agent receives (runtime-spec config-linux.md, "The Container
// Process State"), for the init at create and for a process started by exec.
import { describe, expect, it } from 'vitest';
import { OCI_VERSION } from '../../../src/oci/defaults.js';
import { containerProcessState } from '../../../src/runtime/seccomp-agent.js';

describe('container process state', () => {
  it('describes the init while it is created', () => {
    const doc = containerProcessState({ path: '/run/agent.sock', metadata: 'k=v' }, { id: 'c1', bundle: '/b', annotations: { a: '1' }, initPid: 42, status: 'creating', pid: 42 });
    expect(JSON.stringify(doc)).toBe(
      JSON.stringify({
        ociVersion: OCI_VERSION,
        fds: ['seccompFd'],
        pid: 42,
        metadata: 'k=v',
        state: { ociVersion: OCI_VERSION, id: 'c1', status: 'creating', pid: 42, bundle: '/b', annotations: { a: '1' } },
      }),
    );
  });

  it('names an exec\'d process apart from the running container, leaving out what is empty', () => {
    const doc = containerProcessState({ path: '/a', metadata: '' }, { id: 'c1', bundle: '/b', annotations: {}, initPid: 42, status: 'running', pid: 77 });
    expect(doc).toEqual({ ociVersion: OCI_VERSION, fds: ['seccompFd'], pid: 77, state: { ociVersion: OCI_VERSION, id: 'c1', status: 'running', pid: 42, bundle: '/b' } });
  });
});
