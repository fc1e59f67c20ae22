// The server's private service: `containerd-shim-ts-v2 delete` asks a live server to clean
// up a container here rather than starting Node to do it, and prints the answer. The
// messages are task v2's DeleteRequest and DeleteResponse.
import { create, toBinary } from '@bufbuild/protobuf';
import { DeleteRequestSchema, DeleteResponseSchema } from '../gen/containerd/task/v2/shim_pb.js';
import type { Server } from '../ttrpc/server.js';
import { decodePayload } from '../ttrpc/service.js';
import type { Shim } from './shim.js';
import { toStatusError } from './status-map.js';
import { exitTimestamp } from './timestamps.js';

/** Must match kCleanupService / kCleanupMethod in cpp/shim/actions.h. */
export const CLEANUP_SERVICE = 'tsrun.shim.v1.Shim';
export const CLEANUP_METHOD = 'Cleanup';

export function registerCleanupService(server: Server, shim: Shim): void {
  server.registerRaw(CLEANUP_SERVICE, CLEANUP_METHOD, async (payload) => {
    const req = decodePayload(DeleteRequestSchema, payload, 'ttrpc: error unmarshalling payload');
    try {
      const r = await shim.cleanup(req.id);
      return toBinary(DeleteResponseSchema, create(DeleteResponseSchema, { pid: r.pid, exitStatus: r.exitStatus, exitedAt: exitTimestamp(r.exitedAt) }));
    } catch (err) {
      throw toStatusError(err);
    }
  });
}
