// checkpoint and restore, for the CLI's runc-compatible commands: their arguments are judged
// as runc 1.1 judges them, then both refuse (tsrun has no CRIU). Not part of the documented
// API (index.ts), which has no verb that only refuses.
import { checkOneArg, checkpoint as judgeCheckpoint, restore as judgeRestore, type CriuFlags } from '../runtime/checkpoint.js';
import type { Runtime } from './runtime.js';

export { checkOneArg, type CriuFlags };

export async function checkpoint(rt: Runtime, id: string, flags: CriuFlags): Promise<never> {
  judgeCheckpoint(await rt.state(id), flags);
}

export function restore(bundle: string, flags: CriuFlags): never {
  judgeRestore(bundle, flags);
}
