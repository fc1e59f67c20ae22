// The only importer of the .node file, loaded by the first call that needs it: the pure
// TypeScript layers (and their unit tests) import the native layer without a native build.
// Every call goes through `call`, which turns the addon's errno errors into SystemError;
// the addon throws TypeError only for bugs.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FailedPrecondition, messageOf, SystemError } from '../errors.js';
import { packageRoot } from '../package.js';

export interface RawExit {
  /** false when the process was not our child: its exit was seen, not reaped. */
  reaped: boolean;
  pid: number;
  code: number;
  signal: number;
}

/** One exception of a cgroup v2 device policy; -1 for any major or minor. */
export interface DeviceException {
  type: 'c' | 'b';
  major: number;
  minor: number;
  access: string;
}

export interface Addon {
  sealExecutable(path: string, name: string): number;
  spawn(opts: { exeFd: number; argv: string[]; env: string[]; fds: number[] }): { pid: number; pidfd: number };
  waitPidfd(pidfd: number): Promise<RawExit>;
  whenReadable(fd: number): Promise<void>;
  cancelWatch(fd: number): void;
  reapPidfd(pidfd: number, block: boolean): RawExit | null;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  setChildSubreaper(on: boolean): void;
  mkfifo(path: string, mode: number): void;
  realtimeNs(): bigint;
  openPath(path: string): number;
  unixConnect(path: string): number;
  socketPair(): [number, number];
  strerror(errno: number): string;
  recvFd(socketFd: number): { fd: number; name: string };
  getWinsize(fd: number): { rows: number; cols: number } | null;
  setWinsize(fd: number, rows: number, cols: number): void;
  attachDeviceFilter(cgroupDir: string, defaultAllow: boolean, rules: DeviceException[]): number;
  deviceFilters(cgroupDir: string): number[];
  eventfd(): number;
  busOpen(address: string | null): number;
  busClose(bus: number): void;
  busCall(bus: number, destination: string, path: string, iface: string, member: string, signature: string, args: unknown[], timeoutMs: number): unknown[];
  busWaitJob(bus: number, job: string, timeoutMs: number): string;
}

/** Where a build from source puts the native core (the repository's, or one at install). */
export const buildDir = path.join(packageRoot, 'build', 'Release');
/** Where the package ships it prebuilt, for this platform (scripts/pack-native.mjs). */
export const prebuiltDir = path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);

const ADDON = 'tsrun_native.node';
const require = createRequire(import.meta.url);
let loaded: Addon | undefined;
let loadedFrom: string | undefined;

/** The directory the native core comes from: a build from source first, else the prebuilt one. */
export function nativeDir(): string {
  if (loadedFrom) return loadedFrom;
  return [buildDir, prebuiltDir].find((dir) => existsSync(path.join(dir, ADDON))) ?? buildDir;
}

/** tsrun-init, beside the addon it goes with. */
export function initPath(): string {
  return path.join(nativeDir(), 'tsrun-init');
}

function addon(): Addon {
  if (loaded) return loaded;
  // The unit tests run with the addon off (vitest.config.ts), so that a test needing it fails
  // there as it would in a clone without a native build.
  if (process.env.TSRUN_ADDON === 'off') throw new FailedPrecondition('the native core is off (TSRUN_ADDON=off): a test that needs it belongs in test/native');
  const dir = nativeDir();
  const file = path.join(dir, ADDON);
  if (!existsSync(file)) {
    throw new FailedPrecondition(
      `the native core is not built: neither ${buildDir} nor a prebuilt one for ${process.platform}-${process.arch} (${prebuiltDir}) is there; ` +
        'build it from source with `npm rebuild tsrun` (needs cmake, a C++ compiler, pkg-config, libseccomp-dev and libsystemd-dev), or `npm run build:native` in the repository',
      { path: file },
    );
  }
  try {
    loaded = require(file) as Addon;
  } catch (err) {
    // There but not loadable here: another architecture, an older glibc, no libseccomp.so.2.
    const why = messageOf(err).split('\n')[0];
    throw new FailedPrecondition(`the native core ${file} does not load here (${why}): build it from source with \`npm rebuild tsrun\``, { path: file }, { cause: err });
  }
  loadedFrom = dir;
  return loaded;
}

/** Go-style errno text: "no such file or directory". */
export function errnoText(errno: number): string {
  const text = addon().strerror(errno);
  return text.charAt(0).toLowerCase() + text.slice(1);
}

export interface AddonError extends Error {
  errno?: number;
  syscall?: string;
  detail?: string;
  /** the seccomp rule libseccomp refused */
  rule?: number;
}

/** Runs fn with the addon (loading it on first use); its errno errors become SystemError. */
export function call<T>(fn: (addon: Addon) => T): T {
  const a = addon();
  try {
    return fn(a);
  } catch (err) {
    const e = err as AddonError;
    if (typeof e?.errno === 'number') {
      const where = e.detail ? `${e.syscall} ${e.detail}` : String(e.syscall);
      throw new SystemError(`${where}: ${errnoText(e.errno)}`, { errno: e.errno, syscall: e.syscall, index: e.rule });
    }
    throw err;
  }
}
