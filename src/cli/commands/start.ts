import { Command } from 'commander';
import { runtimeOf } from '../context.js';

export function startCommand(): Command {
  return new Command('start')
    .description('start the program of a created container')
    .argument('<container-id>')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      await runtimeOf(cmd).start(id);
    });
}
