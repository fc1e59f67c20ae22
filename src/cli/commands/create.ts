import { Command } from 'commander';
import { create } from '../../runtime/create.js';
import { globalsOf, parseCount, rootlessOf, storeOf } from '../context.js';

export interface CreateFlags {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  pivot: boolean;
  newKeyring: boolean;
}

/** The flags create and run share. */
export function withCreateFlags(cmd: Command): Command {
  return cmd
    .option('-b, --bundle <dir>', 'path to the bundle directory', '.')
    .option('--pid-file <file>', 'write the container process pid to this file')
    .option('--console-socket <path>', 'unix socket that receives the pty master when process.terminal is true')
    .option('--preserve-fds <n>', 'pass n extra fds (3 onwards) to the container', parseCount('--preserve-fds'), 0)
    .option('--no-pivot', 'do not use pivot_root (for a rootfs on a ramdisk)')
    .option('--no-new-keyring', 'do not create a session keyring for the container');
}

export function createCommand(): Command {
  return withCreateFlags(new Command('create').description('create a container').argument('<container-id>')).action(
    async (id: string, flags: CreateFlags, cmd: Command) => {
      await create(storeOf(cmd), {
        systemdCgroup: globalsOf(cmd).systemdCgroup ?? false,
        rootless: rootlessOf(cmd),
        id,
        bundle: flags.bundle,
        pidFile: flags.pidFile,
        consoleSocket: flags.consoleSocket,
        preserveFds: flags.preserveFds,
        noPivot: !flags.pivot,
        noNewKeyring: !flags.newKeyring,
      });
    },
  );
}
