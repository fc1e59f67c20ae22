// The shim server: `containerd-shim-ts-v2 start` launches it (node dist/bundle/shim.cjs,
// this file bundled) with the group's listening socket as fd 3, the namespace's host socket
// as fd 4 when it is to be the host (cpp/shim/host.h), and the bundle's log fifo as stderr;
// or hands all of them to a waiting spare (`-spare PATH`, spare.ts), which then serves the
// same way. It serves the Task API for every container of its groups (groups.ts), takes
// the groups later launchers hand to the host, and exits once containerd has shut down the
// last of them (or on SIGTERM).
import { messageOf } from '../errors.js';
import { logger, setLogger } from '../log.js';
import { sealedInit } from '../native/index.js';
import { parseServerArgs, serverTitle, type ServerArgs } from './args.js';
import { EventQueue, publishBinaryTransport, ttrpcTransport } from './events.js';
import { Reaper } from './exits.js';
import { Groups } from './groups.js';
import { Host } from './host.js';
import { restoreExtraCaCerts } from './hidden-env.js';
import { ShimLogger } from './logging.js';
import { parseSpareArgs, spareIdleMs, waitForAdoption } from './spare.js';

const LISTEN_FD = 3;
const HOST_FD = 4;
const DEFAULT_ROOT = '/run/containerd/ts';

async function main(): Promise<void> {
  restoreExtraCaCerts(process.env);
  const argv = process.argv.slice(2);
  const spare = parseSpareArgs(argv);
  if (!spare) {
    const args = parseServerArgs(argv);
    if (args.host) process.title = serverTitle(args);
    return serve(args, LISTEN_FD, args.host ? HOST_FD : undefined);
  }
  // Work every server does before its first container, done while nobody waits.
  sealedInit();
  const adopted = waitForAdoption(spare, spareIdleMs(process.env));
  if (!adopted) process.exit(0);
  return serve(adopted.args, adopted.listenFd, adopted.hostFd);
}

async function serve(args: ServerArgs, listenFd: number, hostFd: number | undefined): Promise<void> {
  setLogger(new ShimLogger(args.debug));
  // Not relying on the cwd: it is the first container's bundle, which goes with it.
  process.chdir('/');

  const reaper = new Reaper();
  reaper.start();
  const ttrpcAddress = process.env.TTRPC_ADDRESS ?? '';
  const transport = ttrpcAddress
    ? ttrpcTransport(ttrpcAddress)
    : publishBinaryTransport(args.publishBinary, args.address, (child) => reaper.spawned(child));
  const events = new EventQueue(transport, args.namespace);
  let host: Host | undefined;
  const groups = new Groups(process.env.TSRUN_SHIM_ROOT || DEFAULT_ROOT, events, reaper, () => host?.close());
  await groups.add({ args, listenFd }, true);
  if (hostFd !== undefined) {
    host = new Host(args.host, hostFd, args.namespace, args.address, (h) => {
      groups.add({ args: h.args, listenFd: h.listenFd, logFd: h.logFd }).catch((err: unknown) => logger.error(`group ${h.args.id}: ${messageOf(err)}`));
    });
    host.start();
  }
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void groups.endAll(sig));
  process.on('uncaughtException', (err) => logger.error(`uncaught: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => logger.error(`unhandled rejection: ${messageOf(err)}`));
}

main().catch((err: unknown) => {
  logger.error(`shim server: ${messageOf(err)}`);
  process.exit(1);
});
