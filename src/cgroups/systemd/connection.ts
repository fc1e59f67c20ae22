// The systemd manager over D-Bus, as runc's driver talks to it: the system bus, or systemd's
// private socket as root when there is no bus daemon; one reconnection when the connection
// turns out closed (systemd was restarted, or re-executed itself) before the call is given
// up. Jobs are waited for: a unit is only there when its start job is done.
import { Timeout, Unavailable } from '../../errors.js';
import { busCall, busClose, busOpen, busWaitJob, DBusError, type BusValue } from '../../native/index.js';

const SYSTEMD = { destination: 'org.freedesktop.systemd1', path: '/org/freedesktop/systemd1', iface: 'org.freedesktop.systemd1.Manager' };
const PRIVATE_SOCKET = 'unix:path=/run/systemd/private';
/** runc waits 30 s for a job, and as long for a reply (go-systemd's context). */
const TIMEOUT_MS = 30_000;

/** A unit property as StartTransientUnit and SetUnitProperties take it: name, [signature, value]. */
export type UnitProperty = [string, [string, BusValue]];

/** errnos sd-bus returns for a connection the other end closed */
const DISCONNECTED = new Set([104 /* ECONNRESET */, 107 /* ENOTCONN */, 32 /* EPIPE */, 108 /* ESHUTDOWN */]);

export class SystemdConnection {
  private handle?: number;

  private open(): number {
    if (this.handle !== undefined) return this.handle;
    try {
      this.handle = busOpen(null);
    } catch (err) {
      if (process.getuid?.() !== 0) throw new Unavailable(`connecting to systemd over the system bus: ${(err as Error).message}`, { field: '--systemd-cgroup' });
      try {
        this.handle = busOpen(PRIVATE_SOCKET);
      } catch (err2) {
        throw new Unavailable(`connecting to systemd (system bus, then /run/systemd/private): ${(err2 as Error).message}`, { field: '--systemd-cgroup' });
      }
    }
    return this.handle;
  }

  close(): void {
    if (this.handle !== undefined) busClose(this.handle);
    this.handle = undefined;
  }

  /** Runs fn on the connection, once more on a fresh one if the first was closed under it. */
  private retry<T>(fn: (handle: number) => T): T {
    try {
      return fn(this.open());
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      if (errno === undefined || !DISCONNECTED.has(errno)) throw err;
      this.close();
      return fn(this.open());
    }
  }

  private call(member: string, signature: string, args: BusValue[]): BusValue[] {
    return this.retry((h) => busCall(h, SYSTEMD, member, signature, args, TIMEOUT_MS));
  }

  /**
   * StartTransientUnit and its job's result. A unit of that name that already exists may be a
   * failed leftover: as runc, it is reset and the start tried once more.
   */
  startTransientUnit(name: string, properties: UnitProperty[]): void {
    const start = (): BusValue[] => this.call('StartTransientUnit', 'ssa(sv)a(sa(sv))', [name, 'replace', properties, []]);
    try {
      this.runJob(name, 'creating', start);
    } catch (err) {
      if (!(err instanceof DBusError && err.dbusName === 'org.freedesktop.systemd1.UnitExists')) {
        if (err instanceof JobFailed) this.resetFailedUnit(name);
        throw err;
      }
      this.resetFailedUnit(name);
      this.runJob(name, 'creating', start);
    }
  }

  /** StopUnit and its job's result; a unit that is not loaded counts as stopped. */
  stopUnit(name: string): void {
    try {
      this.runJob(name, 'removing', () => this.call('StopUnit', 'ss', [name, 'replace']));
    } catch (err) {
      if (!(err instanceof DBusError && err.dbusName === 'org.freedesktop.systemd1.NoSuchUnit')) throw err;
    }
  }

  private runJob(unit: string, doing: string, start: () => BusValue[]): void {
    const job = String(start()[0]);
    let result: string;
    try {
      result = this.retry((h) => busWaitJob(h, job, TIMEOUT_MS));
    } catch (err) {
      if ((err as { errno?: number }).errno === 110 /* ETIMEDOUT */) throw new Timeout(`timed out waiting for systemd ${doing} unit ${unit}`);
      throw err;
    }
    if (result !== 'done') throw new JobFailed(`error ${doing} systemd unit \`${unit}\`: got \`${result}\``, unit, result);
  }

  /** Lets systemd forget a failed unit, so that its name can be used again. */
  resetFailedUnit(name: string): void {
    try {
      this.call('ResetFailedUnit', 's', [name]);
    } catch (err) {
      if (!(err instanceof DBusError)) throw err;
    }
  }

  /** SetUnitProperties in runtime mode (lost at reboot, as the unit itself). */
  setUnitProperties(name: string, properties: UnitProperty[]): void {
    if (properties.length > 0) this.call('SetUnitProperties', 'sba(sv)', [name, true, properties]);
  }

  /** One property of the manager (org.freedesktop.systemd1.Manager), e.g. Version. */
  managerProperty(name: string): BusValue {
    const [variant] = this.retry((h) =>
      busCall(h, { ...SYSTEMD, iface: 'org.freedesktop.DBus.Properties' }, 'Get', 'ss', [SYSTEMD.iface, name], TIMEOUT_MS),
    );
    return (variant as [string, BusValue])[1];
  }
}

/** A job that ended other than "done"; the unit is named, as runc names it. */
export class JobFailed extends Unavailable {
  constructor(
    message: string,
    readonly unit: string,
    readonly result: string,
  ) {
    super(message);
  }
}
