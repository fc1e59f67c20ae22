import { Command } from 'commander';
import { eventLine } from '../../api/info.js';
import { InvalidArgument } from '../../errors.js';
import { parseDuration } from '../../runtime/events.js';
import { runtimeOf } from '../context.js';
import { out } from '../output.js';

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
