import { Command } from 'commander';
import { runtimeOf } from '../context.js';

export function killCommand(): Command {
  return new Command('kill')
    .description('send a signal (default SIGTERM) to the container init, or with --all to all its processes')
    .argument('<container-id>')
    .argument('[signal]', 'name (KILL, SIGKILL) or number', 'SIGTERM')
    .option('-a, --all', 'send the signal to every process of the container')
    .action(async (id: string, signal: string, flags: { all?: boolean }, cmd: Command) => {
      await runtimeOf(cmd).kill(id, signal, { all: flags.all ?? false });
    });
}
