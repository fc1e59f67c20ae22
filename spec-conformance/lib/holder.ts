// Processes holding namespaces for checks that join one by path: `unshare <flags> --fork
// sleep`, as runtime-tools' linux_ns_path does.
import { spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { sleep, until } from './poll.js';

/** Starts a holder and waits until it has unshared (its namespace links changed). */
export async function startHolder(flags: string[]): Promise<Holder> {
  const child = spawn('unshare', [...flags, '--fork', '--kill-child', 'sleep', '600'], { stdio: 'ignore' });
  const h = new Holder(child);
  await until(() => {
    try {
      return flags.every((f) => {
        const type = UNSHARE_NS[f];
        if (!type) return true;
        return readlinkSync(h.nsPath(type)) !== readlinkSync(`/proc/self/ns/${type}`);
      });
    } catch {
      return false;
    }
  }, 5000);
  return h;
}

const UNSHARE_NS: Record<string, string> = {
  '--ipc': 'ipc',
  '--mount': 'mnt',
  '--net': 'net',
  '--pid': 'pid',
  '--uts': 'uts',
  '--user': 'user',
  '--cgroup': 'cgroup',
  '--time': 'time',
};

export class Holder {
  constructor(readonly child: ChildProcess) {}

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** the namespace file (by /proc name) to give config.json: the holder's own, or its children's for pid and time */
  nsPath(type: string): string {
    const proc = type === 'pid' ? 'pid_for_children' : type === 'time' ? 'time_for_children' : type;
    return `/proc/${this.pid}/ns/${proc}`;
  }

  nsLink(type: string): string {
    return readlinkSync(this.nsPath(type));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    // unshare ignores SIGTERM while it waits; --kill-child takes its child along
    this.child.kill('SIGKILL');
    await Promise.race([done, sleep(2000)]);
  }
}
