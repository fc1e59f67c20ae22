// Request metadata: string keys with one or more string values, sent as repeated KeyValue
// pairs (one pair per value). Keys compare case-insensitively, as in gRPC and newer ttrpc, so
// they are stored lowercased. containerd sets `containerd-namespace-ttrpc` on some calls and
// nothing on most; servers must not depend on it.

import { create } from '@bufbuild/protobuf';
import { KeyValueSchema, type KeyValue } from '../gen/ttrpc/request_pb.js';

export class Metadata {
  readonly #values = new Map<string, string[]>();

  constructor(init?: Record<string, string | string[]>) {
    for (const [key, value] of Object.entries(init ?? {})) {
      for (const v of Array.isArray(value) ? value : [value]) this.append(key, v);
    }
  }

  static fromKeyValues(pairs: readonly KeyValue[]): Metadata {
    const md = new Metadata();
    for (const pair of pairs) md.append(pair.key, pair.value);
    return md;
  }

  toKeyValues(): KeyValue[] {
    const out: KeyValue[] = [];
    for (const [key, values] of this.#values) {
      for (const value of values) out.push(create(KeyValueSchema, { key, value }));
    }
    return out;
  }

  append(key: string, value: string): void {
    const k = key.toLowerCase();
    const list = this.#values.get(k);
    if (list) list.push(value);
    else this.#values.set(k, [value]);
  }

  set(key: string, ...values: string[]): void {
    this.#values.set(key.toLowerCase(), [...values]);
  }

  /** All values of a key, in the order received; empty when absent. */
  get(key: string): readonly string[] {
    return this.#values.get(key.toLowerCase()) ?? [];
  }

  /** The first value of a key. */
  first(key: string): string | undefined {
    return this.get(key)[0];
  }

  get size(): number {
    return this.#values.size;
  }
}
