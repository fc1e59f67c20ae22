import { Command } from 'commander';
import { Container } from '../../runtime/container.js';
import { pause, resume } from '../../runtime/pause.js';
import { storeOf } from '../context.js';

export function pauseCommand(): Command {
  return new Command('pause')
    .description('suspend every process of the container (cgroup freezer)')
    .argument('<container-id>')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      await pause(Container.load(storeOf(cmd), id));
    });
}

export function resumeCommand(): Command {
  return new Command('resume')
    .description('resume every process of a paused container')
    .argument('<container-id>')
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      await resume(Container.load(storeOf(cmd), id));
    });
}
