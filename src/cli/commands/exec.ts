import { Command } from 'commander';
import { closeSync, readFileSync } from 'node:fs';
import { InvalidArgument } from '../../errors.js';
import { Container } from '../../runtime/container.js';
import { releaseExec, startExec, waitExec } from '../../runtime/exec.js';
import { processFromFlags } from '../../runtime/exec-process.js';
import { consolePair, TtyProxy } from '../../runtime/tty-proxy.js';
import { parseProcess } from '../../oci/validate.js';
import { parseCount, storeOf } from '../context.js';
import { withExitCode } from '../exit.js';

interface Flags {
  process?: string;
  cwd?: string;
  env: string[];
  user?: string;
  additionalGids: string[];
  cap: string[];
  tty?: boolean;
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
  consoleSocket?: string;
  detach?: boolean;
  pidFile?: string;
  preserveFds: number;
  ignorePaused?: boolean;
  cgroup: string[];
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** runc exits 255 when exec itself fails, so callers can tell it from the program's code. */
const EXEC_FAILED = 255;

export function execCommand(setExitCode: (code: number) => void): Command {
  return new Command('exec')
    .description('run a new process inside a container')
    .argument('<container-id>')
    .argument('[command...]', 'the program and its arguments (without --process)')
    .option('-p, --process <file>', 'a process.json giving the whole process')
    .option('--cwd <dir>', 'working directory')
    .option('-e, --env <KEY=VALUE>', 'add an environment variable (repeatable)', collect, [])
    .option('-u, --user <uid[:gid]>', 'run as this user')
    .option('-g, --additional-gids <gid>', 'add a supplementary group (repeatable)', collect, [])
    .option('-c, --cap <cap>', 'add a capability (repeatable)', collect, [])
    .option('-t, --tty', 'allocate a terminal (handed over through --console-socket)')
    .option('--no-new-privs', 'set no_new_privs for the process')
    .option('--apparmor <profile>', 'AppArmor profile for the process')
    .option('--process-label <label>', 'SELinux label for the process')
    .option('--console-socket <path>', 'unix socket that receives the pty master')
    .option('-d, --detach', 'do not wait for the process')
    .option('--pid-file <file>', 'write the process pid to this file')
    .option('--preserve-fds <n>', 'pass n extra fds (3 onwards) to the process', parseCount('--preserve-fds'), 0)
    .option('--ignore-paused', 'exec even into a paused container')
    .option('--cgroup <path>', 'run the process in an existing sub-cgroup of the container: [<controller>[,<controller>...]:]<path> (repeatable)', collect, [])
    .passThroughOptions()
    .action(async (id: string, command: string[], f: Flags, cmd: Command) => {
      try {
        const container = Container.load(storeOf(cmd), id);
        let process;
        if (f.process) {
          const parsed = parseProcess(readFileSync(f.process, 'utf8'));
          if (!parsed.ok) {
            const [i] = parsed.issues;
            throw new InvalidArgument(`--process: ${i?.field}: ${i?.message}`, { field: '--process' });
          }
          process = parsed.process;
        } else {
          if (command.length === 0) throw InvalidArgument.at('command', 'exec needs a command or --process');
          const base = container.config().process;
          if (!base) throw InvalidArgument.at('process', 'the container has no process to start from');
          // commander's --no-new-privs gives newPrivs=false; absent means "as the container"
          const noNewPrivs = cmd.getOptionValueSource('newPrivs') === 'cli' ? true : undefined;
          process = processFromFlags(base, { ...f, caps: f.cap, args: command, noNewPrivs });
        }
        // Without a console socket, a foreground exec with a terminal gets ours, as with runc.
        const pair = process.terminal && !f.consoleSocket && !f.detach ? consolePair() : undefined;
        let handle;
        try {
          handle = await startExec(container, {
            process,
            pidFile: f.pidFile,
            consoleSocket: f.consoleSocket,
            consoleSocketFd: pair?.theirs,
            preserveFds: f.preserveFds,
            ignorePaused: f.ignorePaused,
            subCgroups: f.cgroup,
          });
        } finally {
          if (pair) closeSync(pair.theirs);
        }
        if (f.detach) {
          releaseExec(handle);
          return;
        }
        const proxy = pair ? TtyProxy.attach(pair) : undefined;
        try {
          setExitCode(await waitExec(handle));
          await proxy?.drain();
        } finally {
          proxy?.close();
        }
      } catch (err) {
        throw withExitCode(err, EXEC_FAILED, 'exec failed');
      }
    });
}
