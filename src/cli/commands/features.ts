import { Command } from 'commander';
import { features } from '../../api/info.js';
import { out } from '../output.js';

export function featuresCommand(): Command {
  return new Command('features')
    .description('print what this runtime supports, as the OCI features JSON')
    .action(() => {
      out(`${JSON.stringify(features(), null, '    ')}\n`);
    });
}
