// runc's checkpoint and restore, which go-runc (and so containerd's runc shim) may call. They
// need CRIU, which tsrun does not drive: both take runc's arguments and refuse with one line
// that says so, instead of a usage error about the flags.
import { Command } from 'commander';
import { Unimplemented } from '../../errors.js';

function refusing(name: string, what: string): Command {
  return new Command(name)
    .description(`${what} (refused: tsrun does not support CRIU)`)
    .argument('[args...]', "runc's flags and the container id")
    .allowUnknownOption()
    .helpOption(false)
    .action(() => {
      throw new Unimplemented(`${name}: not supported: tsrun has no CRIU checkpoint/restore`);
    });
}

export const checkpointCommand = (): Command => refusing('checkpoint', 'checkpoint a running container');
export const restoreCommand = (): Command => refusing('restore', 'restore a container from a checkpoint');
