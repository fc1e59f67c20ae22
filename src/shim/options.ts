// The runtime options of a Create (an Any). The runc shim's own Options are honoured where
// they mean something for us. CRI's runtimeoptions are what containerd 1.6 sends a handler
// of any runtime_type but runc's: runc's keys in its [options] are dropped, and only a
// ConfigPath gets through, to a file of those keys (options-file.ts).
import { fromBinary } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { CreateOptionsSchema } from '../gen/containerd/linux/runc/runc_pb.js';
import { OptionsSchema } from '../gen/containerd/runc/v1/options_pb.js';
import { OptionsSchema as RuntimeOptionsSchema } from '../gen/runtimeoptions/v1/api_pb.js';
import { InvalidArgument } from '../errors.js';
import { logger } from '../log.js';

export interface ShimOptions {
  /** base of the state root (<root>/<namespace>); the server's default when absent */
  root?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  /** SystemdCgroup = true: the systemd cgroup driver (cgroupsPath is slice:prefix:name) */
  systemdCgroup: boolean;
  ioUid?: number;
  ioGid?: number;
  /** CRI's runtimeoptions ConfigPath: a TOML file of runc's Options keys */
  configPath?: string;
}

function decode<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw InvalidArgument.at('options', `cannot decode ${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function parseOptions(any: Any | undefined): ShimOptions {
  const out: ShimOptions = { noPivot: false, noNewKeyring: false, systemdCgroup: false };
  if (!any || (any.typeUrl === '' && any.value.length === 0)) return out;
  const name = any.typeUrl.replace(/^.*\//, '');
  if (name === 'containerd.runc.v1.Options') {
    const o = decode(name, () => fromBinary(OptionsSchema, any.value));
    if (o.root) out.root = o.root;
    out.noPivot = o.noPivotRoot;
    out.noNewKeyring = o.noNewKeyring;
    out.systemdCgroup = o.systemdCgroup;
    if (o.ioUid) out.ioUid = o.ioUid;
    if (o.ioGid) out.ioGid = o.ioGid;
  } else if (name === 'containerd.linux.runc.CreateOptions') {
    const o = decode(name, () => fromBinary(CreateOptionsSchema, any.value));
    out.noPivot = o.noPivotRoot;
    out.noNewKeyring = o.noNewKeyring;
    if (o.ioUid) out.ioUid = o.ioUid;
    if (o.ioGid) out.ioGid = o.ioGid;
  } else if (name === 'runtimeoptions.v1.Options') {
    const o = decode(name, () => fromBinary(RuntimeOptionsSchema, any.value));
    if (o.configPath) out.configPath = o.configPath;
  } else {
    logger.warn(`ignoring runtime options of unknown type ${JSON.stringify(any.typeUrl)}`);
  }
  return out;
}
