import { Command } from 'commander';
import type { CreateOptions } from '../../api/runtime.js';
import { parseCount, runtimeOf } from '../context.js';

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

/** The create flags as the library's options: the container has tsrun's own stdio, as with runc. */
export function createOptions(flags: CreateFlags): CreateOptions {
  return {
    bundle: flags.bundle,
    stdio: 'inherit',
    pidFile: flags.pidFile,
    consoleSocket: flags.consoleSocket,
    preserveFds: flags.preserveFds,
    noPivot: !flags.pivot,
    noNewKeyring: !flags.newKeyring,
  };
}

export function createCommand(): Command {
  return withCreateFlags(new Command('create').description('create a container').argument('<container-id>')).action(
    async (id: string, flags: CreateFlags, cmd: Command) => {
      // A terminal is handed over through --console-socket, or refused: create does not stay to hold it.
      const c = await runtimeOf(cmd).create(id, { ...createOptions(flags), ownTerminal: false });
      c.unref();
    },
  );
}
