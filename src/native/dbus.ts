// D-Bus through sd-bus (cpp/napi/dbus.cc), for the systemd cgroup driver. The library is
// loaded by the first busOpen, so a command that never opens a bus never maps it.
import { SystemError } from '../errors.js';
import { call, type Addon, type AddonError } from './addon.js';

/**
 * A D-Bus value as the addon marshals it by signature: numbers or bigints for integers
 * (64-bit ones are read back as bigints), strings, booleans, arrays for arrays and structs,
 * [key, value] for dict entries and [signature, value] for variants.
 */
export type BusValue = number | bigint | string | boolean | BusValue[];

/** A failed D-Bus call; `dbusName` is the error systemd answered with, if it answered. */
export class DBusError extends SystemError {
  readonly dbusName?: string;

  constructor(message: string, errno: number, syscall: string | undefined, dbusName: string | undefined) {
    super(message, { errno, syscall });
    this.dbusName = dbusName;
  }
}

/** call(), except that an error systemd answered with keeps its D-Bus name. */
function bus<T>(fn: (a: Addon) => T): T {
  let named: DBusError | undefined;
  try {
    return call((a) => {
      try {
        return fn(a);
      } catch (err) {
        const e = err as AddonError & { dbusName?: string };
        if (typeof e?.errno === 'number' && e.dbusName) named = new DBusError(`${e.syscall}: ${e.dbusName}: ${e.detail}`, e.errno, e.syscall, e.dbusName);
        throw err;
      }
    });
  } catch (err) {
    throw named ?? err;
  }
}

/** The system bus when address is null (as a bus client), else a direct connection to it. */
export function busOpen(address: string | null): number {
  return bus((a) => a.busOpen(address));
}

export function busClose(handle: number): void {
  call((a) => a.busClose(handle));
}

/** A blocking method call; resolves to the reply's values. */
export function busCall(
  handle: number,
  target: { destination: string; path: string; iface: string },
  member: string,
  signature: string,
  args: BusValue[],
  timeoutMs: number,
): BusValue[] {
  return bus((a) => a.busCall(handle, target.destination, target.path, target.iface, member, signature, args, timeoutMs)) as BusValue[];
}

/** Processes the connection until systemd says the job is over; its result ("done", "failed"...). */
export function busWaitJob(handle: number, job: string, timeoutMs: number): string {
  return bus((a) => a.busWaitJob(handle, job, timeoutMs));
}
