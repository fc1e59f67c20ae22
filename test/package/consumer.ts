// A program that uses the installed package as any user's would (test/integration/
// package.test.ts installs the tarball, type-checks this file against the package's
// declarations, and runs it). It prints what it saw as JSON; the test judges it.
import { execFileSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import { AlreadyExists, InvalidArgument, NotFound, Runtime, type Exit, type State } from 'tsrun';

interface Bundle {
  id: string;
  dir: string;
}
interface Params {
  root: string;
  /** the installed package's CLI */
  cli: string;
  run: Bundle;
  life: Bundle;
  fromCli: Bundle;
  taken: Bundle;
  bad: Bundle;
}

const p = JSON.parse(process.argv[2] ?? '{}') as Params;
const rt = new Runtime({ root: p.root });
const cli = (...args: string[]): string => execFileSync(p.cli, ['--root', p.root, ...args], { encoding: 'utf8' });

function text(s: Readable | null): () => string {
  let t = '';
  s?.setEncoding('utf8').on('data', (d: string) => (t += d));
  return () => t;
}

async function failure(f: () => Promise<unknown>): Promise<unknown> {
  try {
    await f();
  } catch (err) {
    return err;
  }
  return undefined;
}

// A container with piped output, exit code 3.
const ran = await rt.run(p.run.id, { bundle: p.run.dir, stdio: 'pipe' });
const ranOut = text(ran.stdout);
const ranErr = text(ran.stderr);
const ranExit: Exit = await ran.wait();
await ran.delete();

// create, state, start, state, exec, list, kill, delete; the CLI looks on meanwhile.
const life = await rt.create(p.life.id, { bundle: p.life.dir, stdio: 'ignore' });
const created: State = await rt.state(p.life.id);
await rt.start(p.life.id);
const started = await rt.state(p.life.id);
const proc = await rt.exec(p.life.id, { args: ['/bin/sh', '-c', 'echo exec-out; exit 4'], cwd: '/', env: ['PATH=/bin'] });
const procOut = text(proc.stdout);
const procExit = await proc.wait();
const listed = (await rt.list()).map((s) => [s.id, s.status]);
const cliSees = { state: (JSON.parse(cli('state', p.life.id)) as State).status, list: cli('list', '-q'), exec: cli('exec', p.life.id, '/bin/echo', 'cli-exec') };
await rt.kill(p.life.id, 'KILL');
const lifeExit = await life.wait();
const killed = await rt.state(p.life.id);
await rt.delete(p.life.id);

// The library sees what the CLI made.
// Detached, the container keeps the stdio it is given: none of ours, or we would wait for it.
execFileSync(p.cli, ['--root', p.root, 'run', '-d', '--bundle', p.fromCli.dir, p.fromCli.id], { stdio: 'ignore' });
const cliMade = await rt.state(p.fromCli.id);
const inCli = await rt.exec(p.fromCli.id, { args: ['/bin/echo', 'library-exec'], cwd: '/' });
const inCliOut = text(inCli.stdout);
await inCli.wait();
await rt.kill(p.fromCli.id, 9);
const cliExit = await rt.wait(p.fromCli.id);
await rt.delete(p.fromCli.id);

// Errors, typed.
const unknown = await failure(() => rt.state('no-such-container'));
const taken = await rt.create(p.taken.id, { bundle: p.taken.dir, stdio: 'ignore' });
const twice = await failure(() => rt.create(p.taken.id, { bundle: p.taken.dir }));
await taken.delete({ force: true });
const bad = await failure(() => rt.create(p.bad.id, { bundle: p.bad.dir }));

console.log(
  JSON.stringify({
    run: { out: ranOut(), err: ranErr(), exit: ranExit },
    life: { created: created.status, createdPid: created.pid === life.pid, started: started.status, exec: { out: procOut(), exit: procExit }, listed, cliSees, exit: lifeExit, killed: killed.status },
    fromCli: { status: cliMade.status, exec: inCliOut(), exit: cliExit },
    errors: {
      unknown: unknown instanceof NotFound,
      taken: twice instanceof AlreadyExists,
      bad: bad instanceof InvalidArgument ? { field: bad.field, message: bad.message } : String(bad),
    },
  }),
);
