import { once } from 'node:events';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LocalRuntime } from '../local/runtime/runtime';
import { info, percentile, record } from './figures';
import { type SignedRequest, sendWebhooks } from './webhooks';

/**
 * The webhook acknowledgement against its floor, measured in the same run: what the ingest must do
 * at least (verify the HMAC over the raw body, parse it, publish one event to the same local
 * EventBridge endpoint with the same SDK client) done in-process in a thread of its own. The ratio
 * is the budget, so it holds on a loaded machine; the absolute figures are printed beside it.
 */

const ROOT = path.resolve(__dirname, '..');
const BUDGET_P99_OVER_FLOOR = 2;

const FLOOR = `
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
const { createHmac, timingSafeEqual } = require('node:crypto');
const load = createRequire(workerData.root + '/package.json');
const { EventBridgeClient, PutEventsCommand } = load('@aws-sdk/client-eventbridge');
(async () => {
  const { requests, secret, endpoint, bus } = workerData;
  const client = new EventBridgeClient({
    region: 'us-east-1', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const latencies = [];
  for (const request of requests) {
    const started = performance.now();
    const parts = Object.fromEntries(request.signature.split(',').map((part) => part.split('=')));
    const expected = createHmac('sha256', secret).update(parts.t + '.' + request.payload).digest();
    if (!timingSafeEqual(expected, Buffer.from(parts.v1, 'hex'))) throw new Error('bad signature');
    const event = JSON.parse(request.payload);
    await client.send(new PutEventsCommand({ Entries: [{
      EventBusName: bus, Source: 'revbridge.bench', DetailType: 'bench.floor', Detail: JSON.stringify({ id: event.id }),
    }] }));
    latencies.push(performance.now() - started);
  }
  client.destroy();
  parentPort.postMessage(latencies);
})();
`;

const floorLatencies = async (
  runtime: LocalRuntime,
  requests: readonly SignedRequest[],
  secret: string,
  bus: string,
): Promise<number[]> => {
  const worker = new Worker(FLOOR, {
    eval: true,
    workerData: { root: ROOT, requests, secret, endpoint: runtime.awsUrl, bus },
  });
  const [latencies] = (await once(worker, 'message')) as [number[]];
  await worker.terminate();
  return latencies;
};

/** Sequential requests (one sender), warm: the acknowledgement's latency, not the queue in front of it. */
export const benchAcknowledgement = async (
  runtime: LocalRuntime,
  requests: readonly SignedRequest[],
  floorRequests: readonly SignedRequest[],
  secret: string,
): Promise<void> => {
  const bus =
    runtime.events.status().buses.find((candidate) => candidate.name !== 'default')?.name ?? 'default';
  // Interleaved halves, so a load spike on the shared machine falls on both sides.
  const half = Math.floor(requests.length / 2);
  const ack: number[] = [];
  const floor: number[] = [];
  for (const [from, to] of [
    [0, half],
    [half, requests.length],
  ] as const) {
    floor.push(...(await floorLatencies(runtime, floorRequests.slice(from, to), secret, bus)));
    // The consumers wait meanwhile (their event source mappings disabled), as in AWS they would run
    // on other hosts than the ingest: what is timed is the ingest and what it must do before it answers.
    runtime.setEventSourceMappingsEnabled(false);
    try {
      const sent = await sendWebhooks(`${runtime.apiUrl}/webhooks/stripe`, requests.slice(from, to), 1);
      ack.push(...sent.latencies);
    } finally {
      runtime.setEventSourceMappingsEnabled(true);
    }
    await runtime.idle(600_000);
  }
  const ackP50 = percentile(ack, 0.5);
  const ackP99 = percentile(ack, 0.99);
  const floorP50 = percentile(floor, 0.5);
  const floorP99 = percentile(floor, 0.99);
  info(
    `in-process floor (HMAC + parse + PutEvents, same endpoint): p50 ${floorP50.toFixed(2)} ms, p99 ${floorP99.toFixed(2)} ms over ${floor.length}`,
  );
  record(
    'webhook acknowledgement p50 ÷ in-process floor p50',
    ackP50 / floorP50,
    'x',
    BUDGET_P99_OVER_FLOOR,
    true,
    `${ackP50.toFixed(2)} ms vs ${floorP50.toFixed(2)} ms, ${ack.length} sequential warm webhooks`,
  );
  record(
    'webhook acknowledgement p99 ÷ in-process floor p99',
    ackP99 / floorP99,
    'x',
    BUDGET_P99_OVER_FLOOR,
    true,
    `${ackP99.toFixed(2)} ms vs ${floorP99.toFixed(2)} ms`,
  );
};
