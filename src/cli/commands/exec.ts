import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import type { ProcessInput } from '../../api/index.js';
import { InvalidArgument, messageOf, NeedsOwnProcess } from '../../errors.js';
import { parseGoJson } from '../../oci/go-json.js';
import { parseCount, runtimeOf } from '../context.js';
import { processFromFlags } from '../exec-process.js';
import { withExitCode } from '../exit.js';
import { TtyProxy } from '../tty-proxy.js';
import { callerPath, invocation } from '../../api/invocation.js';

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
        const rt = runtimeOf(cmd);
        let process: unknown;
        if (f.process) {
          await rt.state(id); // an unknown container is named before the file, as runc does
          const text = readFileSync(callerPath(f.process), 'utf8');
          try {
            process = parseGoJson(text);
          } catch (err) {
            throw new InvalidArgument(`--process: (process): invalid JSON: ${messageOf(err)}`, { field: '--process' });
          }
        } else {
          const base = (await rt.config(id)).process;
          if (command.length === 0) throw InvalidArgument.at('command', 'exec needs a command or --process');
          if (!base) throw InvalidArgument.at('process', 'the container has no process to start from');
          // commander's --no-new-privs gives newPrivs=false; absent means "as the container"
          const noNewPrivs = cmd.getOptionValueSource('newPrivs') === 'cli' ? true : undefined;
          process = processFromFlags(base, { ...f, caps: f.cap, args: command, noNewPrivs });
        }
        // Without a console socket, a foreground exec with a terminal gets ours, as with runc.
        const ownTerminal = (process as { terminal?: boolean }).terminal === true && !f.consoleSocket && !f.detach;
        if (ownTerminal && !invocation().local) throw new NeedsOwnProcess('the terminal of a foreground exec is proxied by its own process', {});
        const p = await rt.exec(id, process as ProcessInput, {
          stdio: 'inherit',
          pidFile: f.pidFile,
          consoleSocket: f.consoleSocket,
          ownTerminal: !f.detach,
          preserveFds: f.preserveFds,
          ignorePaused: f.ignorePaused,
          subCgroups: f.cgroup,
          field: '--process',
        });
        if (f.detach) {
          p.unref();
          return;
        }
        const proxy = p.terminal ? new TtyProxy(p.terminal) : undefined;
        try {
          setExitCode((await p.wait()).exitCode ?? 0);
        } finally {
          proxy?.close();
        }
      } catch (err) {
        throw withExitCode(err, EXEC_FAILED, 'exec failed');
      }
    });
}
