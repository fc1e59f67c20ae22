// As runc's ps, the table form runs the host's `ps` (with the caller's options, -ef by
// default) and keeps the header and the lines whose PID column is one of the container's.
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { Internal, InvalidArgument } from '../../errors.js';
import { runtimeOf } from '../context.js';
import { out } from '../output.js';

/** Keeps the header and the rows of `ps` output whose PID column names one of pids. */
export function filterPsOutput(output: string, pids: readonly number[]): string {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const index = header.trim().split(/\s+/).indexOf('PID');
  if (index < 0) throw new Internal("couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const rows = lines.slice(1).filter((line) => {
    if (!line.trim()) return false;
    const pid = Number(line.trim().split(/\s+/)[index]);
    if (!Number.isInteger(pid)) throw new Internal(`unable to parse pid: ${JSON.stringify(line)}`);
    return wanted.has(pid);
  });
  return [header, ...rows].map((l) => `${l}\n`).join('');
}

/** The host's `ps` (-ef, or the caller's options) for the container's pids. */
export function psTable(pids: readonly number[], psArgs: string[]): string {
  // child_process on the one command that runs a program: loading it costs every command ms.
  const { execFileSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');
  let output: string;
  try {
    output = execFileSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Internal(`ps ${psArgs.join(' ')}: ${(e.stderr || e.stdout || e.message).trim()}`, {}, { cause: err });
  }
  return filterPsOutput(output, pids);
}

export function psCommand(): Command {
  return new Command('ps')
    .description("list the container's processes: the host's ps output (-ef, or the options given) for its pids")
    .argument('<container-id>')
    .argument('[ps-options...]', 'options for ps(1)')
    .option('-f, --format <format>', 'table or json', 'table')
    // Everything after the id is for ps: `tsrun ps c1 -o pid,comm`.
    .passThroughOptions()
    .action(async (id: string, psArgs: string[], flags: { format: string }, cmd: Command) => {
      if (flags.format !== 'table' && flags.format !== 'json') {
        throw InvalidArgument.at('--format', `must be "table" or "json", not ${JSON.stringify(flags.format)}`);
      }
      const pids = await runtimeOf(cmd).ps(id);
      if (flags.format === 'json') {
        // runc encodes a nil slice: "null" when there are none.
        out(`${pids.length ? JSON.stringify(pids) : 'null'}\n`);
        return;
      }
      out(psTable(pids, psArgs));
    });
}
