// The brain: the Node shim server behind the groups' keepers (cpp/keeper). A keeper or
// `start` launches it (node dist/bundle/shim.cjs, this file bundled) with its listening
// socket as fd 3 (cpp/shim/brain.h), or hands that socket to a waiting spare (`-spare PATH`,
// spare.ts), which then serves the same way. Each keeper that attaches brings a group; the
// brain serves the Task API for every container of its groups (groups.ts), and exits once
// containerd has shut down the last of them (or on SIGTERM).
import { unlinkSync } from 'node:fs';
import { messageOf } from '../errors.js';
import { rehearseCreate } from '../api/rehearsal.js';
import { logger, setLogger } from '../log.js';
import { sealedInit } from '../native/index.js';
import { brainLingerMs, brainTitle, parseBrainArgs, type BrainArgs } from './args.js';
import { Groups, type Group } from './groups.js';
import { restoreExtraCaCerts } from './hidden-env.js';
import { closeQuietly } from './io/fds.js';
import { KEEPER_VERSION, KeeperLink } from './keeper/link.js';
import { SocketListener } from './listener.js';
import { ShimLogger } from './logging.js';
import { parseSpareArgs, spareIdleMs, waitForAdoption } from './spare.js';

const LISTEN_FD = 3;
const DEFAULT_ROOT = '/run/containerd/ts';
/** A brain that no keeper attaches to (its starter died first) does not wait for ever. */
const UNATTACHED_MS = 30_000;
/** How long a retiring brain waits for its keepers to leave it (they wait for its answers
 *  to what may not run again: cpp/keeper's kRetireMs is as long). */
const RETIRE_MS = 35_000;

async function main(): Promise<void> {
  restoreExtraCaCerts(process.env);
  const argv = process.argv.slice(2);
  const spare = parseSpareArgs(argv);
  if (!spare) {
    const args = parseBrainArgs(argv);
    process.title = brainTitle(args);
    return serve(args, LISTEN_FD);
  }
  // Work every brain does before its first container, done while nobody waits.
  sealedInit();
  try {
    rehearseCreate();
  } catch {
    // only a head start: the first Create does the same work, and reports what fails
  }
  const adopted = waitForAdoption(spare, spareIdleMs(process.env));
  if (!adopted) process.exit(0);
  return serve(adopted.args, adopted.listenFd);
}

async function serve(args: BrainArgs, listenFd: number): Promise<void> {
  setLogger(new ShimLogger(args.debug));
  // Not relying on the cwd: it may be a container's bundle, which goes with it.
  process.chdir('/');

  let listener: SocketListener | undefined;
  // Our path goes before our socket, so no keeper finds the path served by a brain on its
  // way out (one already waiting in the backlog sees its connection close, and starts the
  // next brain).
  const closeSocket = (): void => {
    try {
      unlinkSync(args.brain);
    } catch {
      // gone already
    }
    listener?.close();
  };
  const groups = new Groups(process.env.TSRUN_SHIM_ROOT || DEFAULT_ROOT, closeSocket, brainLingerMs(process.env));
  listener = new SocketListener(listenFd, (fd) => attach(fd, args, groups), (message) => logger.error(`brain socket: ${message}`));
  const unattached = setTimeout(() => {
    if (groups.size > 0 || groups.closing) return;
    logger.warn('no keeper attached: exiting');
    closeSocket();
    process.exit(0);
  }, UNATTACHED_MS);
  unattached.unref();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void groups.endAll(sig));
  // `containerd-shim-ts-v2 upgrade`: the groups go to a brain of the build installed now.
  process.on('SIGUSR2', () => {
    logger.info('retiring: the groups go to the next brain');
    closeSocket();
    groups.retireAll(RETIRE_MS);
  });
  process.on('uncaughtException', (err) => logger.error(`uncaught: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => logger.error(`unhandled rejection: ${messageOf(err)}`));
}

/** A keeper connected: its group is served once it has said which it is. */
function attach(fd: number, args: BrainArgs, groups: Groups): void {
  let group: Group | undefined;
  const link = new KeeperLink(fd, {
    hello: (hello, logFd) => {
      const g = hello.group;
      // The socket's name holds our containerd and namespace: anything else is no keeper of ours.
      const ours = hello.version === KEEPER_VERSION && g?.namespace === args.namespace && g.address === args.address;
      if (!ours) logger.warn(`refused keeper ${hello.keeperPid}: version ${hello.version}, namespace ${g?.namespace} at ${g?.address}`);
      if (!ours || groups.closing) {
        link.close();
        closeQuietly(logFd);
        return;
      }
      group = groups.add(link, hello, logFd);
    },
    connection: (socket) => (group ? groups.connection(group, socket) : socket.destroy()),
    lost: (why) => {
      if (group) void groups.lost(group, why);
    },
  });
}

main().catch((err: unknown) => {
  logger.error(`shim brain: ${messageOf(err)}`);
  process.exit(1);
});
