// Exit times as containerd reads them. A process that has not exited reports Go's zero time
// (0001-01-01): containerd 1.7+ reads an absent timestamp as 1970, which is not "zero".
import { create } from '@bufbuild/protobuf';
import { TimestampSchema, timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';

const GO_ZERO_SECONDS = -62135596800n;

export function exitTimestamp(exitedAt: Date | undefined): Timestamp {
  return exitedAt ? timestampFromDate(exitedAt) : create(TimestampSchema, { seconds: GO_ZERO_SECONDS, nanos: 0 });
}
