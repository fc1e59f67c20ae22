// The addon functions the CLI server uses (cpp/napi/cli_server.cc), typed: records with fds
// on a SOCK_SEQPACKET socket, and the protocol's numbers, which cpp/cli/protocol.h holds
// for the native client and the addon alike.
import { call, type Addon } from './addon.js';

export interface CliProtocol {
  version: number;
  call: number;
  spawned: number;
  status: number;
  signal: number;
  spawn: number;
  wait: number;
  undo: number;
  exit: number;
  cold: number;
  defaultSignal: number;
  stale: number;
}

interface CliServerAddon {
  seqpacketListen(path: string): number;
  recvMessage(fd: number): { data: Buffer; fds: number[] } | null;
  sendMessage(fd: number, data: Buffer, fds: number[]): void;
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };
  cliProtocol: CliProtocol;
}

const cli = (addon: Addon): CliServerAddon => addon as unknown as CliServerAddon;

export function cliProtocol(): CliProtocol {
  return call((a) => cli(a).cliProtocol);
}

/** A SOCK_SEQPACKET socket listening at path (mode 0600), non-blocking. */
export function seqpacketListen(path: string): number {
  return call((a) => cli(a).seqpacketListen(path));
}

/** One record and the fds that came with it, without blocking: null when none waits; an
 *  empty record without fds when the peer has gone. */
export function recvMessage(fd: number): { data: Buffer; fds: number[] } | null {
  return call((a) => cli(a).recvMessage(fd));
}

export function sendMessage(fd: number, data: Buffer, fds: number[] = []): void {
  call((a) => cli(a).sendMessage(fd, data, fds));
}

export function peerCredentials(fd: number): { pid: number; uid: number; gid: number } {
  return call((a) => cli(a).peerCredentials(fd));
}
