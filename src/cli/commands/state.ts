import { Command } from 'commander';
import { Container } from '../../runtime/container.js';
import { storeOf } from '../context.js';
import { out } from '../output.js';

export function stateCommand(): Command {
  return new Command('state')
    .description('print the state of a container as JSON')
    .argument('<container-id>')
    .action((id: string, _flags: unknown, cmd: Command) => {
      out(JSON.stringify(Container.load(storeOf(cmd), id).ociState(), null, 2));
    });
}
