// A group's task events: encoded here (containerd's envelope around the event's Any), and
// published by the group's keeper, in order and retried until containerd takes them
// (cpp/keeper/events.h), so that a brain's death loses none.
import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { AnySchema, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { EnvelopeSchema, ForwardRequestSchema } from '../../gen/containerd/services/events/ttrpc/v1/events_pb.js';
import type { EventSink } from '../events.js';
import type { KeeperLink } from './link.js';

export class KeeperEvents implements EventSink {
  constructor(
    private readonly link: KeeperLink,
    private readonly namespace: string,
  ) {}

  publish<D extends DescMessage>(topic: string, schema: D, message: MessageInitShape<D>): void {
    // containerd wants the bare message name as type URL: subscribers cannot read the
    // type.googleapis.com/ form.
    const event = create(AnySchema, { typeUrl: schema.typeName, value: toBinary(schema, create(schema, message)) });
    const envelope = create(EnvelopeSchema, { timestamp: timestampFromDate(new Date()), namespace: this.namespace, topic, event });
    this.link.publish({
      topic,
      forward: toBinary(ForwardRequestSchema, create(ForwardRequestSchema, { envelope })),
      any: toBinary(AnySchema, event),
    });
  }
}
