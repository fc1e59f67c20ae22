// Round trips of small requests over a unix socket: our ttrpc against @grpc/grpc-js, same
// message (a Task State call, ~100 bytes each way), same protobuf-es codec, server in a child
// process so the two sides do not share an event loop.
//
// Run: npm run bench:ttrpc
//   (compiles bench/ and what it imports into .cache/bench with tsc, then runs it with plain
//   node; npx tsx is not available here). Environment: BENCH_CALLS (sequential calls, default
//   20000), BENCH_CONCURRENCY (default 32).

import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateRequestSchema, StateResponseSchema, Task, type StateRequest, type StateResponse } from '../src/gen/containerd/task/v2/shim_pb.js';
import { Status } from '../src/gen/containerd/types/task/task_pb.js';
import { Client } from '../src/ttrpc/client.js';
import { Server } from '../src/ttrpc/server.js';
import type { Section } from './lib.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const WARMUP = 2_000;

function answer(req: StateRequest): StateResponse {
  return create(StateResponseSchema, {
    id: req.id,
    bundle: `/run/containerd/io.containerd.runtime.v2.task/default/${req.id}`,
    pid: 4242,
    status: Status.RUNNING,
    stdout: '/run/containerd/fifo/1234/stdout',
    exitedAt: timestampFromDate(new Date(0)),
  });
}

const grpcState = {
  path: '/containerd.task.v2.Task/State',
  requestStream: false,
  responseStream: false,
  requestSerialize: (m: StateRequest) => Buffer.from(toBinary(StateRequestSchema, m)),
  requestDeserialize: (b: Buffer) => fromBinary(StateRequestSchema, b),
  responseSerialize: (m: StateResponse) => Buffer.from(toBinary(StateResponseSchema, m)),
  responseDeserialize: (b: Buffer) => fromBinary(StateResponseSchema, b),
} as const;

async function serve(dir: string): Promise<void> {
  const ttrpc = new Server().register(Task, { state: answer });
  await ttrpc.listen(join(dir, 'ttrpc.sock'));
  const server = new grpc.Server();
  server.addService({ State: grpcState }, {
    State: (call: grpc.ServerUnaryCall<StateRequest, StateResponse>, cb: grpc.sendUnaryData<StateResponse>) => cb(null, answer(call.request)),
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${join(dir, 'grpc.sock')}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  process.send?.('ready');
}

type Call = () => Promise<unknown>;

interface Result {
  transport: string;
  mode: string;
  calls: number;
  perSecond: number;
  medianUs: number;
  p99Us: number;
}

async function measure(transport: string, call: Call, calls: number, concurrency: number): Promise<Result> {
  const latencies = new Float64Array(calls);
  let next = 0;
  const started = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < calls) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      await call();
      latencies[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort();
  return {
    transport,
    mode: concurrency === 1 ? 'sequential' : `${concurrency} in flight`,
    calls,
    perSecond: calls / seconds,
    medianUs: latencies[Math.floor(calls / 2)] ?? 0,
    p99Us: latencies[Math.floor(calls * 0.99)] ?? 0,
  };
}

/** Round trips of both transports, as a markdown table (section (f) of npm run bench). */
export async function ttrpcSection(calls = CALLS, concurrency = CONCURRENCY): Promise<Section> {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-bench-'));
  const child = fork(fileURLToPath(import.meta.url), ['serve', dir], { stdio: 'inherit' });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    });
    const request = create(StateRequestSchema, { id: 'c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789' });

    const ttrpc = new Client(join(dir, 'ttrpc.sock'));
    const ttrpcCall: Call = () => ttrpc.unary(Task.method.state, request);
    const grpcClient = new grpc.Client(`unix://${join(dir, 'grpc.sock')}`, grpc.credentials.createInsecure());
    const grpcCall: Call = () =>
      new Promise((resolve, reject) =>
        grpcClient.makeUnaryRequest(grpcState.path, grpcState.requestSerialize, grpcState.responseDeserialize, request, (err, res) =>
          err ? reject(err) : resolve(res),
        ),
      );

    const results: Result[] = [];
    for (const [name, call] of [
      ['ttrpc (tsrun)', ttrpcCall],
      ['gRPC (@grpc/grpc-js)', grpcCall],
    ] as const) {
      await measure(name, call, WARMUP, CONCURRENCY);
      results.push(await measure(name, call, calls, 1));
      results.push(await measure(name, call, calls * 2, concurrency));
    }
    await ttrpc.close();
    grpcClient.close();

    const text = [
      `### (f) ttrpc round trips: ${calls} sequential / ${calls * 2} concurrent calls of Task.State over a unix socket`,
      '',
      '| transport | mode | round trips/s | median µs | p99 µs |',
      '|---|---|---:|---:|---:|',
      ...results.map((r) => `| ${r.transport} | ${r.mode} | ${Math.round(r.perSecond)} | ${r.medianUs.toFixed(1)} | ${r.p99Us.toFixed(1)} |`),
    ].join('\n');
    const seq = (t: string): number => results.find((r) => r.transport === t && r.mode === 'sequential')?.medianUs ?? 0;
    return { text, ratios: [{ section: '(f)', measure: 'ttrpc (ours) vs gRPC (grpc-js) round trip, sequential median', ours: seq('ttrpc (tsrun)'), theirs: seq('gRPC (@grpc/grpc-js)'), unit: 'µs' }] };
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') await serve(process.argv[3] as string);
else if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(`node ${process.version}\n\n${(await ttrpcSection()).text}`);
