// runc's checkpoint and restore, which go-runc (and so containerd's runc shim) may call, with
// runc 1.1's flags. Their arguments are judged as runc does (src/runtime/checkpoint.ts, through src/api/criu.ts);
// then both refuse with one line that says tsrun has no CRIU.
import { Command } from 'commander';
import { checkOneArg, checkpoint, restore, type CriuFlags } from '../../api/criu.js';
import { runtimeOf } from '../context.js';

const list = (v: string, prev: string[]): string[] => [...prev, v];

/** The flags both commands share, as runc 1.1 has them. */
function criuFlags(cmd: Command): Command {
  return cmd
    .option('--image-path <path>', 'path for saving criu image files')
    .option('--work-path <path>', 'path for saving work files and logs')
    .option('--tcp-established', 'allow open tcp connections')
    .option('--ext-unix-sk', 'allow external unix sockets')
    .option('--shell-job', 'allow shell jobs')
    .option('--lazy-pages', 'use userfaultfd to lazily restore memory pages')
    .option('--file-locks', 'handle file locks, for safety')
    .option('--manage-cgroups-mode <mode>', "cgroups mode: 'soft' (default), 'full' and 'strict'")
    .option('--empty-ns <ns>', "create a namespace, but don't restore its properties", list, [])
    .option('--auto-dedup', 'enable auto deduplication of memory images')
    // judged by runc's own rule: exactly one id, with its words
    .argument('[container-id...]')
    .allowExcessArguments(true);
}

export function checkpointCommand(): Command {
  return criuFlags(new Command('checkpoint').description('checkpoint a running container (refused after its arguments are checked: tsrun has no CRIU)'))
    .option('--parent-path <path>', 'path for previous criu image files in pre-dump')
    .option('--leave-running', 'leave the process running after checkpointing')
    .option('--status-fd <fd>', 'criu writes \\0 to this FD once lazy-pages is ready', '-1')
    .option('--page-server <address:port>', 'ADDRESS:PORT of the page server')
    .option('--pre-dump', "dump container's memory information only, leave the container running after this")
    .action(async (ids: string[], flags: CriuFlags, cmd: Command) => {
      await checkpoint(runtimeOf(cmd), checkOneArg('checkpoint', ids), flags);
    });
}

export function restoreCommand(): Command {
  return criuFlags(new Command('restore').description('restore a container from a checkpoint (refused after its arguments are checked: tsrun has no CRIU)'))
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
    .option('--console-socket <path>', 'path to an AF_UNIX socket which will receive the pty master')
    .option('-d, --detach', 'detach from the container\'s process')
    .option('--pid-file <path>', 'specify the file to write the process id to')
    .option('--no-subreaper', 'disable the use of the subreaper used to reap reparented processes')
    .option('--no-pivot', 'do not use pivot root to jail process inside rootfs')
    .option('--lsm-profile <profile>', 'Specify an LSM profile to be used during restore')
    .option('--lsm-mount-context <context>', 'Specify an LSM mount context to be used during restore')
    .action((ids: string[], flags: CriuFlags & { bundle: string }) => {
      checkOneArg('restore', ids);
      restore(flags.bundle, flags);
    });
}
