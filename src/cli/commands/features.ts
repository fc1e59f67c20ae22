import { Command } from 'commander';
import { features } from '../../runtime/features.js';
import { out } from '../output.js';

export function featuresCommand(version: string): Command {
  return new Command('features')
    .description('print what this runtime supports, as the OCI features JSON')
    .action(() => {
      out(`${JSON.stringify(features(version), null, '    ')}\n`);
    });
}
