import { Command } from 'commander';
import { run } from '../../runtime/run.js';
import { globalsOf, rootlessOf, storeOf } from '../context.js';
import { withCreateFlags, type CreateFlags } from './create.js';

export function runCommand(setExitCode: (code: number) => void): Command {
  return withCreateFlags(new Command('run').description('create and start a container, and wait for it').argument('<container-id>'))
    .option('-d, --detach', 'detach from the container once it has started')
    .option('--keep', 'keep the container after it exits')
    .action(async (id: string, flags: CreateFlags & { detach?: boolean; keep?: boolean }, cmd: Command) => {
      const code = await run(storeOf(cmd), {
        systemdCgroup: globalsOf(cmd).systemdCgroup ?? false,
        rootless: rootlessOf(cmd),
        id,
        bundle: flags.bundle,
        pidFile: flags.pidFile,
        consoleSocket: flags.consoleSocket,
        preserveFds: flags.preserveFds,
        noPivot: !flags.pivot,
        noNewKeyring: !flags.newKeyring,
        detach: flags.detach,
        keep: flags.keep,
      });
      setExitCode(code);
    });
}
