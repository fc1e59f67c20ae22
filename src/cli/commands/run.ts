import { Command } from 'commander';
import { runtimeOf } from '../context.js';
import { runInForeground } from '../foreground.js';
import { createOptions, withCreateFlags, type CreateFlags } from './create.js';

export function runCommand(setExitCode: (code: number) => void): Command {
  return withCreateFlags(new Command('run').description('create and start a container, and wait for it').argument('<container-id>'))
    .option('-d, --detach', 'detach from the container once it has started')
    .option('--keep', 'keep the container after it exits')
    .action(async (id: string, flags: CreateFlags & { detach?: boolean; keep?: boolean }, cmd: Command) => {
      const rt = runtimeOf(cmd);
      if (flags.detach) {
        const c = await rt.run(id, { ...createOptions(flags), ownTerminal: false });
        c.unref();
        return;
      }
      setExitCode(await runInForeground(rt, id, createOptions(flags), flags.keep ?? false));
    });
}
