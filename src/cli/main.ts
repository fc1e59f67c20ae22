// The tsrun command line: runc's global flags and commands. Each command file holds its
// flags and calls into the library (src/api); exit.ts turns whatever fails into runc's exit
// code.
import { Command, CommanderError, Option } from 'commander';
import { closeSync, openSync } from 'node:fs';
import { Internal, NeedsOwnProcess, SystemError } from '../errors.js';
import { Logger, setLogger } from '../log.js';
import { callerPath, invocation } from '../api/invocation.js';
import { defaultStateRoot, parseRootlessFlag } from '../api/info.js';
import { createCommand } from './commands/create.js';
import { deleteCommand } from './commands/delete.js';
import { execCommand } from './commands/exec.js';
import { featuresCommand } from './commands/features.js';
import { eventsCommand } from './commands/events.js';
import { killCommand } from './commands/kill.js';
import { listCommand } from './commands/list.js';
import { pauseCommand, resumeCommand } from './commands/pause.js';
import { psCommand } from './commands/ps.js';
import { runCommand } from './commands/run.js';
import { specCommand } from './commands/spec.js';
import { startCommand } from './commands/start.js';
import { stateCommand } from './commands/state.js';
import { updateCommand } from './commands/update.js';
import { checkpointCommand, restoreCommand } from './commands/checkpoint.js';
import type { GlobalOptions } from './context.js';
import { report } from './exit.js';
import { checkHelpTopic, formatHelp, splitGlobals } from './help.js';
import { err, out } from './output.js';
import { versionText } from './version.js';

function loggerFor(g: GlobalOptions): Logger {
  // runc opens --log when it starts, whether or not anything is logged, and fails without it
  const file = g.log === undefined ? undefined : callerPath(g.log);
  if (file !== undefined) {
    try {
      closeSync(openSync(file, 'a', 0o644));
    } catch (e) {
      // runc's words: "open /no/such/dir/log: no such file or directory"
      const err = e as NodeJS.ErrnoException;
      const why = /^[A-Z]+: (.*?), \w+ '/.exec(err.message)?.[1] ?? err.code ?? err.message;
      if (!err.errno) throw new Internal(`open ${g.log}: ${why}`, { field: '--log' }, { cause: e });
      throw new SystemError(`open ${g.log}: ${why}`, { errno: Math.abs(err.errno), syscall: 'open', path: g.log, field: '--log' }, { cause: e });
    }
  }
  return new Logger({ file, stderrFd: invocation().stdio[2], format: g.logFormat === 'json' ? 'json' : 'text', debug: g.debug ?? false });
}

function program(setExitCode: (code: number) => void, onLogger: () => void): Command {
  const p = new Command('tsrun')
    .description('an OCI container runtime, compatible with runc')
    // printed by main() before parsing, as the version needs the native addon
    .option('-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'Shows a list of commands or help for one command')
    .configureHelp({ formatHelp: (cmd, helper) => formatHelp(cmd, helper, versionText()) })
    .option('--root <dir>', 'where container state is kept', defaultStateRoot())
    .option('--log <file>', 'append log lines to this file (default: stderr)')
    .addOption(new Option('--log-format <format>', 'log line format').choices(['text', 'json']).default('text'))
    .option('--debug', 'log debug lines too')
    .option('--systemd-cgroup', 'use the systemd cgroup driver')
    .option('--criu <path>', 'accepted for runc compatibility (checkpointing is not built)')
    .option('--rootless <value>', "ignore cgroup permission errors: true, false or auto (an unprivileged caller, or root in a user namespace)", 'auto')
    .exitOverride()
    // As with runc's cli: global flags before the command, and a command's own flags end
    // where its arguments start (so `exec id sh -c ...` keeps -c for sh).
    .enablePositionalOptions()
    .configureOutput({ writeOut: out, writeErr: err, outputError: () => undefined })
    .showSuggestionAfterError(false)
    .hook('preAction', (thisCommand) => {
      const g = thisCommand.opts<GlobalOptions>();
      setLogger(loggerFor(g));
      onLogger();
      parseRootlessFlag(g.rootless);
    });
  for (const cmd of [
    createCommand(),
    startCommand(),
    runCommand(setExitCode),
    execCommand(setExitCode),
    stateCommand(),
    killCommand(),
    deleteCommand(),
    listCommand(),
    specCommand(),
    featuresCommand(),
    pauseCommand(),
    resumeCommand(),
    updateCommand(),
    eventsCommand(),
    psCommand(),
    checkpointCommand(),
    restoreCommand(),
  ]) {
    cmd.exitOverride().configureOutput({ writeOut: out, writeErr: err, outputError: () => undefined });
    cmd.helpOption('-h, --help', 'show help').configureHelp({ formatHelp: (c, helper) => formatHelp(c, helper) });
    p.addCommand(cmd);
  }
  return p;
}

/** Runs the CLI and resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  let logging = false;
  const p = program(
    (c) => (code = c),
    () => (logging = true),
  );
  const valueFlags = new Set(p.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((n): n is string => Boolean(n))));
  const { globals, rest } = splitGlobals(argv, valueFlags);
  try {
    if (argv.length <= 2) {
      p.outputHelp();
      return 0;
    }
    checkHelpTopic(p, rest);
    if (globals.some((w) => w === '-v' || w === '--version')) {
      out(`${versionText()}\n`);
      return 0;
    }
    await p.parseAsync(argv);
    return code;
  } catch (e) {
    // Only the CLI server sees this (its caller's client then runs the call itself).
    if (e instanceof NeedsOwnProcess) throw e;
    if (e instanceof CommanderError && (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')) {
      return 0;
    }
    // A usage error (unknown command or flag) comes before any action, and belongs in --log
    // like any other error, where go-runc looks: the global flags say where that is.
    if (!logging) {
      try {
        p.parseOptions(globals);
      } catch {
        // a bad global flag: the error at hand is reported to stderr
      }
      try {
        setLogger(loggerFor(p.opts<GlobalOptions>()));
      } catch (logError) {
        // the log itself cannot be opened: that is the error to tell, on stderr
        setLogger(new Logger({ format: 'text', debug: false, stderrFd: invocation().stdio[2] }));
        return report(logError);
      }
    }
    return report(e);
  }
}
