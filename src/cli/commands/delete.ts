import { Command } from 'commander';
import { deleteContainer } from '../../runtime/delete.js';
import { storeOf } from '../context.js';

export function deleteCommand(): Command {
  return new Command('delete')
    .description('delete a stopped or created container and everything it holds')
    .argument('<container-id>')
    .option('-f, --force', 'kill a running container first; succeed if it does not exist')
    .action(async (id: string, flags: { force?: boolean }, cmd: Command) => {
      await deleteContainer(storeOf(cmd), id, flags.force ?? false, process.cwd());
    });
}
