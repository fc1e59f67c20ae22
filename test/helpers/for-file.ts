// One environment (a private containerd, a CRI set-up...) for the calling test file: started
// before its tests, stopped (everything removed) after. Call the returned function inside
// tests to reach it.
import { afterAll, beforeAll } from 'vitest';

export function forFile<T extends { stop(): Promise<void> }>(what: string, start: () => Promise<T>, timeoutMs: number): () => T {
  let env: T | undefined;
  beforeAll(async () => {
    env = await start();
  }, timeoutMs);
  afterAll(async () => {
    await env?.stop();
  }, timeoutMs);
  return () => {
    if (!env) throw new Error(`${what} did not start`);
    return env;
  };
}
