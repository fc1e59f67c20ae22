// The runtime options of a Create (an Any). The runc shim's own Options are honoured where
// they mean something for us; CRI's runtimeoptions only point at a config file the runc
// shim ignores too.
import { fromBinary } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { CreateOptionsSchema } from '../gen/containerd/linux/runc/runc_pb.js';
import { OptionsSchema } from '../gen/containerd/runc/v1/options_pb.js';
import { InvalidArgument, Unimplemented } from '../errors.js';
import { logger } from '../log.js';

export interface ShimOptions {
  /** base of the state root (<root>/<namespace>); the server's default when absent */
  root?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  ioUid?: number;
  ioGid?: number;
}

function decode<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw InvalidArgument.at('options', `cannot decode ${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function parseOptions(any: Any | undefined): ShimOptions {
  const out: ShimOptions = { noPivot: false, noNewKeyring: false };
  if (!any || (any.typeUrl === '' && any.value.length === 0)) return out;
  const name = any.typeUrl.replace(/^.*\//, '');
  if (name === 'containerd.runc.v1.Options') {
    const o = decode(name, () => fromBinary(OptionsSchema, any.value));
    if (o.systemdCgroup) throw new Unimplemented('options: systemd_cgroup: the systemd cgroup driver is not supported yet', { field: 'options' });
    if (o.root) out.root = o.root;
    out.noPivot = o.noPivotRoot;
    out.noNewKeyring = o.noNewKeyring;
    if (o.ioUid) out.ioUid = o.ioUid;
    if (o.ioGid) out.ioGid = o.ioGid;
  } else if (name === 'containerd.linux.runc.CreateOptions') {
    const o = decode(name, () => fromBinary(CreateOptionsSchema, any.value));
    out.noPivot = o.noPivotRoot;
    out.noNewKeyring = o.noNewKeyring;
    if (o.ioUid) out.ioUid = o.ioUid;
    if (o.ioGid) out.ioGid = o.ioGid;
  } else if (name !== 'runtimeoptions.v1.Options') {
    logger.warn(`ignoring runtime options of unknown type ${JSON.stringify(any.typeUrl)}`);
  }
  return out;
}
