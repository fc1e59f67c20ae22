import { Command } from 'commander';
import { Container } from '../../runtime/container.js';
import { start } from '../../runtime/start.js';
import { storeOf } from '../context.js';

export function startCommand(): Command {
  return new Command('start')
    .description('start the program of a created container')
    .argument('<container-id>')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      await start(Container.load(storeOf(cmd), id));
    });
}
