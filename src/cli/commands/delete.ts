import { Command } from 'commander';
import { invocation } from '../../api/invocation.js';
import { runtimeOf } from '../context.js';

export function deleteCommand(): Command {
  return new Command('delete')
    .description('delete a stopped or created container and everything it holds')
    .argument('<container-id>')
    .option('-f, --force', 'kill a running container first; succeed if it does not exist')
    .action(async (id: string, flags: { force?: boolean }, cmd: Command) => {
      // poststop hooks run in our caller's cwd, as runc's delete runs them
      await runtimeOf(cmd).delete(id, { force: flags.force ?? false, hooksCwd: invocation().cwd });
    });
}
