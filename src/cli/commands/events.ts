import { Command } from 'commander';
import { eventLine } from '../../api/info.js';
import { InvalidArgument } from '../../errors.js';
import { runtimeOf } from '../context.js';
import { out } from '../output.js';

/** Go's time.ParseDuration for what callers pass to --interval ("5s", "100ms", "1m30s"). */
export function parseDuration(text: string, field: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  if (text === '0') return 0;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * (units[m[2] ?? ''] ?? 0);
    at = re.lastIndex;
  }
  if (at === 0 || at !== text.length) throw InvalidArgument.at(field, `invalid duration ${JSON.stringify(text)}`);
  return total;
}

export function eventsCommand(): Command {
  return new Command('events')
    .description('print the container\'s statistics every interval and its OOM events, as JSON lines')
    .argument('<container-id>')
    .option('--interval <duration>', 'how often to collect statistics', '5s')
    .option('--stats', 'print the statistics once and exit')
    .action(async (id: string, flags: { interval: string; stats?: boolean }, cmd: Command) => {
      const interval = parseDuration(flags.interval, '--interval');
      if (interval <= 0) throw InvalidArgument.at('--interval', 'duration interval must be greater than 0');
      const rt = runtimeOf(cmd);
      if (flags.stats) {
        out(`${eventLine({ type: 'stats', id, stats: await rt.stats(id) })}\n`);
        return;
      }
      for await (const e of rt.events(id, { interval })) out(`${eventLine(e)}\n`);
    });
}
