import { Command } from 'commander';
import { runtimeOf } from '../context.js';

export function pauseCommand(): Command {
  return new Command('pause')
    .description('suspend every process of the container (cgroup freezer)')
    .argument('<container-id>')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      await runtimeOf(cmd).pause(id);
    });
}

export function resumeCommand(): Command {
  return new Command('resume')
    .description('resume every process of a paused container')
    .argument('<container-id>')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      await runtimeOf(cmd).resume(id);
    });
}
