// The shim's Spawner (src/runtime/spawner.ts): tsrun-init is started by the group's keeper,
// which is the parent and subreaper of the processes it makes, so that they, and their
// exits, outlive a brain. A process claimed here waits, before its exit is reported, for the
// output of the stdio the keeper holds for it (io; 0 for none).
import { closeQuietly } from '../io/fds.js';
import type { Spawner } from '../../api/index.js';
import type { KeeperLink } from './link.js';

/** onClaim hears of the process's pid as soon as tsrun-init tells it, for the journal: a
 *  brain that dies before the process is ready leaves the next one a pid to stop. */
export function keeperSpawner(link: KeeperLink, io = 0, onClaim?: (pid: number) => void): Spawner {
  return {
    spawn: async (req) => {
      // The keeper gets the executable and each distinct fd once; fds[i] names which.
      const sent: number[] = [req.exeFd];
      const slots = req.fds.map((fd) => {
        if (fd < 0) return -1;
        sent.push(fd);
        return sent.length - 1;
      });
      const { reply, fds } = await link.call('spawn', { argv: req.argv, env: req.env, fds: slots, cgroup: req.cgroup ?? '' }, sent);
      // The keeper clones it into req.cgroup (CLONE_INTO_CGROUP), or fails the spawn.
      return { pid: reply.pid, pidfd: fds[0] ?? -1, inCgroup: Boolean(req.cgroup) };
    },
    claim: async (pid) => {
      onClaim?.(pid);
      link.expect(pid);
      const { reply, fds } = await link.call('claim', { pid, io });
      // Exited already: its Exit follows; a pidfd of nothing would be of no use.
      if (reply.exited) return -1;
      return fds[0] ?? -1;
    },
    // Processes the runtime waits for itself (the bootstrap, a create undone): their exit is
    // handled once known.
    exit: async (pid) => {
      const e = await link.exit(pid);
      link.ack(pid);
      return e;
    },
    exitNow: (pid) => link.exitNow(pid) ?? null,
  };
}

/** Closes a pidfd the keeper gave (one of -1 is none). */
export function closePidfd(pidfd: number): void {
  if (pidfd >= 0) closeQuietly(pidfd);
}
