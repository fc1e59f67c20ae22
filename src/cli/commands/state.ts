import { Command } from 'commander';
import { runtimeOf } from '../context.js';
import { out } from '../output.js';

export function stateCommand(): Command {
  return new Command('state')
    .description('print the state of a container as JSON')
    .argument('<container-id>')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      out(JSON.stringify(await runtimeOf(cmd).state(id), null, 2));
    });
}
