// Where a group's task events go: its keeper publishes them (keeper/events.ts encodes them,
// cpp/keeper/events.h delivers them, in order, retried until containerd takes them).
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';

export interface EventSink {
  publish<D extends DescMessage>(topic: string, schema: D, message: MessageInitShape<D>): void;
}
