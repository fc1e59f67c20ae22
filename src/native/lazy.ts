// Node built-ins loaded on first use. A CLI command pays milliseconds for each of
// child_process, tty and crypto at load time, and most commands never call them; a shim
// server that never spawns a log driver or publishes through the binary, nor serves a
// terminal, never holds child_process (nor dgram, which it loads) or tty; net only serves
// a library caller's piped stdio.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function lazy<T>(name: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= require(name) as T);
}

export const childProcess = lazy<typeof import('node:child_process')>('node:child_process');
export const tty = lazy<typeof import('node:tty')>('node:tty');
export const crypto = lazy<typeof import('node:crypto')>('node:crypto');
export const net = lazy<typeof import('node:net')>('node:net');
