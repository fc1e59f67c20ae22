import { Command } from 'commander';
import { InvalidArgument } from '../../errors.js';
import { Container } from '../../runtime/container.js';
import { containerPids, psTable } from '../../runtime/ps.js';
import { storeOf } from '../context.js';
import { out } from '../output.js';

export function psCommand(): Command {
  return new Command('ps')
    .description("list the container's processes: the host's ps output (-ef, or the options given) for its pids")
    .argument('<container-id>')
    .argument('[ps-options...]', 'options for ps(1)')
    .option('-f, --format <format>', 'table or json', 'table')
    // Everything after the id is for ps: `tsrun ps c1 -o pid,comm`.
    .passThroughOptions()
    .action((id: string, psArgs: string[], flags: { format: string }, cmd: Command) => {
      if (flags.format !== 'table' && flags.format !== 'json') {
        throw InvalidArgument.at('--format', `must be "table" or "json", not ${JSON.stringify(flags.format)}`);
      }
      const container = Container.load(storeOf(cmd), id);
      if (flags.format === 'json') {
        const pids = containerPids(container);
        // runc encodes a nil slice: "null" when there are none.
        out(`${pids.length ? JSON.stringify(pids) : 'null'}\n`);
        return;
      }
      out(psTable(container, psArgs));
    });
}
