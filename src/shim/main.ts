// The shim server: `containerd-shim-ts-v2 start` launches it (node dist/bundle/shim.mjs,
// this file bundled) with the group's listening socket as fd 3 and the bundle's log fifo as
// stderr, or hands both to a waiting spare (`-spare PATH`, spare.ts), which then serves the
// same way. It serves the Task API for every container of its group and exits once
// containerd has shut down the last of them (or on SIGTERM).
import { rmSync } from 'node:fs';
import net from 'node:net';
import { messageOf } from '../errors.js';
import { logger, setLogger } from '../log.js';
import { sealedInit } from '../native/index.js';
import { Server } from '../ttrpc/server.js';
import { parseServerArgs, type ServerArgs } from './args.js';
import { registerCleanupService } from './cleanup-service.js';
import { EventQueue, publishBinaryTransport, ttrpcTransport } from './events.js';
import { Reaper } from './exits.js';
import { ShimLogger } from './logging.js';
import { Shim } from './shim.js';
import { parseSpareArgs, spareIdleMs, waitForAdoption } from './spare.js';
import { registerTaskService } from './task-service.js';

const LISTEN_FD = 3;
const FLUSH_MS = 5000;
const DEFAULT_ROOT = '/run/containerd/ts';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const spare = parseSpareArgs(argv);
  if (!spare) return serve(parseServerArgs(argv), LISTEN_FD);
  // Work every server does before its first container, done while nobody waits.
  sealedInit();
  const adopted = waitForAdoption(spare, spareIdleMs(process.env));
  if (!adopted) process.exit(0);
  return serve(adopted.args, adopted.listenFd);
}

async function serve(args: ServerArgs, listenFd: number): Promise<void> {
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
  const server = new Server({ onError: (err) => logger.warn(`ttrpc: ${err.message}`) });

  let exiting = false;
  const exit = async (why: string): Promise<void> => {
    if (exiting) return;
    exiting = true;
    logger.debug(`exiting: ${why}`);
    if (args.socket) rmSync(args.socket, { force: true });
    if (!(await events.flush(FLUSH_MS))) logger.warn(`exiting with ${events.pending} events undelivered`);
    await Promise.race([server.shutdown(), new Promise((r) => setTimeout(r, FLUSH_MS))]);
    server.close();
    reaper.stop();
    process.exit(0);
  };

  const shim = new Shim(
    { namespace: args.namespace, root: process.env.TSRUN_SHIM_ROOT || DEFAULT_ROOT },
    { namespace: args.namespace, events, reaper },
    () => void exit('shutdown with no containers left'),
  );
  registerTaskService(server, shim);
  registerCleanupService(server, shim);
  const listener = net.createServer({ allowHalfOpen: true });
  server.serve(listener);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ fd: listenFd } as net.ListenOptions, () => resolve());
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void exit(sig));
  process.on('uncaughtException', (err) => logger.error(`uncaught: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => logger.error(`unhandled rejection: ${messageOf(err)}`));
}

main().catch((err: unknown) => {
  logger.error(`shim server: ${messageOf(err)}`);
  process.exit(1);
});
