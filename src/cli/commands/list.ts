import { Command } from 'commander';
import { InvalidArgument } from '../../errors.js';
import { runtimeOf } from '../context.js';
import { out } from '../output.js';

/** Go's text/tabwriter as runc sets it up: min width 12, padding 3, spaces. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(Math.max(12, (widths[i] ?? 0) + 3))))
        .join(''),
    )
    .map((line) => `${line}\n`)
    .join('');
}

export function listCommand(): Command {
  return new Command('list')
    .alias('ls')
    .description('list the containers under the root')
    .option('-f, --format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'print only the container ids')
    .action(async (flags: { format: string; quiet?: boolean }, cmd: Command) => {
      if (flags.format !== 'table' && flags.format !== 'json') {
        throw InvalidArgument.at('--format', `must be "table" or "json", not ${JSON.stringify(flags.format)}`);
      }
      const states = await runtimeOf(cmd).list();
      if (flags.quiet) {
        out(states.map((s) => `${s.id}\n`).join(''));
      } else if (flags.format === 'json') {
        // runc encodes a nil slice: "null" when there are none.
        out(`${states.length ? JSON.stringify(states) : 'null'}\n`);
      } else {
        const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
        for (const s of states) rows.push([s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]);
        out(table(rows));
      }
    });
}
