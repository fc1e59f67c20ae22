import { Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AlreadyExists } from '../../errors.js';
import { defaultSpec, formatSpec } from '../../oci/defaults.js';

export function specCommand(): Command {
  return new Command('spec')
    .description('write a default config.json into the bundle')
    .option('-b, --bundle <dir>', 'where to write config.json', '.')
    .option('--rootless', 'a config for a container run by an unprivileged user')
    .action((flags: { bundle: string; rootless?: boolean }) => {
      const file = path.join(flags.bundle, 'config.json');
      if (existsSync(file)) throw new AlreadyExists('File config.json exists. Remove it first', { path: file });
      const spec = defaultSpec({ rootless: flags.rootless, uid: process.getuid?.(), gid: process.getgid?.() });
      writeFileSync(file, formatSpec(spec), { mode: 0o666 });
    });
}
