import { Command } from 'commander';
import { Container } from '../../runtime/container.js';
import { kill } from '../../runtime/kill.js';
import { parseSignal } from '../../runtime/signals.js';
import { storeOf } from '../context.js';

export function killCommand(): Command {
  return new Command('kill')
    .description('send a signal (default SIGTERM) to the container init, or with --all to all its processes')
    .argument('<container-id>')
    .argument('[signal]', 'name (KILL, SIGKILL) or number', 'SIGTERM')
    .option('-a, --all', 'send the signal to every process of the container')
    .action(async (id: string, signal: string, flags: { all?: boolean }, cmd: Command) => {
      const sig = parseSignal(signal);
      await kill(Container.load(storeOf(cmd), id), sig, flags.all ?? false);
    });
}
