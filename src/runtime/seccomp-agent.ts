// SCMP_ACT_NOTIFY: the filter's listener goes to the seccomp agent listening at
// linux.seccomp.listenerPath, with the "container process state" of runtime-spec
// config-linux.md: one connection, the JSON as payload, the fd by SCM_RIGHTS, then close.
//
// The parent does the sending (cpp/plan/sync.h): it takes the listener out of tsrun-init
// with pidfd_getfd, so no host socket is ever opened inside the container.
import { closeSync } from 'node:fs';
import { messageOf, withContext } from '../errors.js';
import { pidfdGetfd, sendWithFds } from '../native/index.js';
import { OCI_VERSION } from '../oci/defaults.js';
import type { Status } from '../oci/state.js';
import type { SeccompListener } from './plan/seccomp.js';

export interface ListenerOwner {
  /** the container */
  id: string;
  bundle: string;
  annotations: Record<string, string>;
  /** the container's init, and its status: "creating" for the init itself, "running" for exec */
  initPid: number;
  status: Status;
  /** the process that loaded the filter (the init, or an exec'd process) */
  pid: number;
}

/** The document the agent receives; field order and omissions follow runtime-spec's Go types. */
export function containerProcessState(listener: SeccompListener, owner: ListenerOwner): Record<string, unknown> {
  const annotations = Object.keys(owner.annotations).length ? { annotations: owner.annotations } : {};
  return {
    ociVersion: OCI_VERSION,
    fds: ['seccompFd'],
    pid: owner.pid,
    ...(listener.metadata ? { metadata: listener.metadata } : {}),
    state: {
      ociVersion: OCI_VERSION,
      id: owner.id,
      status: owner.status,
      pid: owner.initPid,
      bundle: owner.bundle,
      ...annotations,
    },
  };
}

/**
 * Copies fd `listenerFd` out of the process behind pidfd and sends it to the agent. The
 * caller then answers the init (InitProcess.seccompDone) so that it closes its copy.
 */
export function handOverListener(listener: SeccompListener, owner: ListenerOwner, pidfd: number, listenerFd: number): void {
  const fd = pidfdGetfd(pidfd, listenerFd);
  try {
    const payload = Buffer.from(JSON.stringify(containerProcessState(listener, owner)));
    sendWithFds(listener.path, payload, [fd]);
  } catch (err) {
    // runc's words for each, which callers match
    const connecting = /^connect /.test(messageOf(err));
    throw withContext(
      `linux.seccomp.listenerPath: ${connecting ? 'failed to connect with seccomp agent specified in the seccomp profile' : 'cannot send seccomp fd'} (${listener.path})`,
      err,
    );
  } finally {
    closeSync(fd);
  }
}
