import { Command } from 'commander';
import { InvalidArgument } from '../../errors.js';
import { Container } from '../../runtime/container.js';
import { parseDuration, statsEvent, streamEvents } from '../../runtime/events.js';
import { storeOf } from '../context.js';
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
      const container = Container.load(storeOf(cmd), id);
      if (flags.stats) {
        out(`${statsEvent(container)}\n`);
        return;
      }
      await streamEvents(container, interval, (line) => out(`${line}\n`));
    });
}
