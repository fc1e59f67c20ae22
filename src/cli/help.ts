// Help in runc's layout (urfave/cli's sections: NAME, USAGE, VERSION, COMMANDS, GLOBAL
// OPTIONS; OPTIONS for a command), drawn from the commander definitions, and runc's answer
// to a help topic (a command) that does not exist.
import { CommanderError, type Command, type Help, type Option } from 'commander';

const INDENT = '   ';

/** "--all, -a", "--log value": the long name first, as urfave/cli writes flags. */
function flagTerm(o: Option): string {
  const names = [o.long, o.short].filter((n): n is string => Boolean(n)).join(', ');
  return o.required || o.optional ? `${names} value` : names;
}

function flagText(o: Option): string {
  const extras: string[] = [];
  if (o.argChoices) extras.push(`one of ${o.argChoices.map((c) => `'${c}'`).join(', ')}`);
  if (o.defaultValue !== undefined && o.defaultValue !== false) extras.push(`default: ${JSON.stringify(o.defaultValue)}`);
  return extras.length ? `${o.description} (${extras.join('; ')})` : o.description;
}

function table(rows: Array<[string, string]>): string {
  const width = Math.max(0, ...rows.map(([term]) => term.length));
  return rows.map(([term, text]) => `${INDENT}${term.padEnd(width)}  ${text}`.trimEnd()).join('\n');
}

function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function formatHelp(cmd: Command, helper: Help, version?: string): string {
  const root = !cmd.parent;
  const options = helper.visibleOptions(cmd).filter((o) => root || o.long !== '--help');
  const sections = [`NAME:\n${INDENT}${fullName(cmd)} - ${cmd.description()}`];
  const args = helper.visibleArguments(cmd).map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}${a.variadic ? '...' : ''}]`));
  sections.push(
    root
      ? `USAGE:\n${INDENT}${cmd.name()} [global options] command [command options] [arguments...]`
      : `USAGE:\n${INDENT}${[fullName(cmd), options.length ? '[command options]' : '', ...args].filter(Boolean).join(' ')}`,
  );
  if (root && version) sections.push(`VERSION:\n${version.split('\n').map((l) => INDENT + l).join('\n')}`);
  const commands = helper.visibleCommands(cmd);
  if (commands.length) {
    sections.push(`COMMANDS:\n${table(commands.map((c) => [[c.name(), ...c.aliases()].join(', '), c.description()]))}`);
  }
  if (options.length) sections.push(`${root ? 'GLOBAL OPTIONS' : 'OPTIONS'}:\n${table(options.map((o) => [flagTerm(o), flagText(o)]))}`);
  return `${sections.join('\n\n')}\n`;
}

/** argv's global flags (the words before the command, with their values) and the rest. */
export function splitGlobals(argv: readonly string[], valueFlags: ReadonlySet<string>): { globals: string[]; rest: string[] } {
  const words = argv.slice(2);
  let i = 0;
  while (i < words.length && words[i]?.startsWith('-')) {
    const w = words[i] as string;
    i += !w.includes('=') && valueFlags.has(w) ? 2 : 1;
  }
  return { globals: words.slice(0, i), rest: words.slice(i) };
}

/**
 * runc's answer to `runc foo`, `runc foo -h` and `runc help foo` for a command it does not
 * have: urfave/cli looks for a help topic, and fails with exit status 3.
 */
export function checkHelpTopic(program: Command, rest: readonly string[]): void {
  const topic = rest[0] === 'help' ? rest[1] : rest[0];
  if (topic === undefined) return;
  const known = program.commands.some((c) => c.name() === topic || c.aliases().includes(topic));
  if (!known) throw new CommanderError(3, 'commander.unknownCommand', `No help topic for '${topic}'`);
}
