// Pids' answer in containerd's types: a ProcessInfo per pid, those of execs with the exec id
// in runc's ProcessDetails, as containerd's runc shim reports them.
import { create, toBinary } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { ProcessDetailsSchema } from '../gen/containerd/runc/v1/options_pb.js';
import { ProcessInfoSchema, type ProcessInfo } from '../gen/containerd/types/task/task_pb.js';

/** execs: the exec ids of the running execs by pid */
export function processInfos(pids: readonly number[], execs: ReadonlyMap<number, string>): ProcessInfo[] {
  return pids.map((pid) => {
    const execId = execs.get(pid);
    return create(ProcessInfoSchema, {
      pid,
      // The bare message name, as containerd's typeurl writes it: ctr cannot read the
      // type.googleapis.com/ form.
      info: execId
        ? create(AnySchema, {
            typeUrl: ProcessDetailsSchema.typeName,
            value: toBinary(ProcessDetailsSchema, create(ProcessDetailsSchema, { execId })),
          })
        : undefined,
    });
  });
}
