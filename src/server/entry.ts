// The CLI server's process: `node dist/bundle/tsrun-server.cjs <socket>` (or
// dist/server/entry.js before the bundle is built), started by the native client.
import { fileURLToPath } from 'node:url';
import { serveFromArgv } from './serve.js';

serveFromArgv(fileURLToPath(import.meta.url));
