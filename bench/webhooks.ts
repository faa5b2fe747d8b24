import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import Stripe from 'stripe';

/** Signed Stripe webhooks for the bench, and a load generator in its own thread to send them. */

const ROOT = path.resolve(__dirname, '..');
const THREAD_CPU_MODULE = pathToFileURL(path.join(ROOT, 'local', 'runtime', 'thread-cpu.mjs')).href;

export interface SignedRequest {
  readonly payload: string;
  readonly signature: string;
}

/** A Stripe resource fixture (test/fixtures/vendors/stripe/resources/<name>.json). */
export const stripeFixture = (name: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(
      path.join(ROOT, 'test', 'fixtures', 'vendors', 'stripe', 'resources', `${name}.json`),
      'utf8',
    ),
  ) as Record<string, unknown>;

/** Invoice `in_bench_<n>` of customer `cus_bench_<n % 50>`, one line of 10.00, as an event of `type`. */
export const signedInvoiceEvent = (
  n: number,
  type: 'invoice.finalized' | 'invoice.paid' | 'invoice.payment_failed',
  secret: string,
  base: Record<string, unknown>,
): SignedRequest => {
  const paid = type === 'invoice.paid';
  const payload = JSON.stringify({
    id: `evt_bench_${type}_${n}`,
    object: 'event',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type,
    data: {
      object: {
        ...base,
        id: `in_bench_${n}`,
        customer: `cus_bench_${n % 50}`,
        customer_name: `Customer ${n % 50}`,
        lines: {
          object: 'list',
          has_more: false,
          data: [{ id: `il_bench_${n}`, amount: 1000, quantity: 1 }],
        },
        total: 1000,
        subtotal: 1000,
        amount_due: 1000,
        ...(paid ? { status: 'paid', amount_paid: 1000, amount_remaining: 0 } : {}),
      },
    },
  });
  return { payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret }) };
};

/** A Stripe event of `type` around `object`, signed, with event id `evt_bench_<type>_<n>`. */
export const signedStripeEvent = (
  n: number,
  type: string,
  object: Record<string, unknown>,
  secret: string,
): SignedRequest => {
  const payload = JSON.stringify({
    id: `evt_bench_${type}_${n}`,
    object: 'event',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type,
    data: { object },
  });
  return { payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret }) };
};

const LOAD_GENERATOR = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  // This thread's CPU: the vendor's side of the traffic, not the runtime's (0 where /proc is missing).
  const { threadCpuMs } = await import(workerData.threadCpuModule);
  const cpuStarted = threadCpuMs() ?? 0;
  const { url, requests, senders } = workerData;
  let next = 0;
  let rejected = 0;
  const latencies = [];
  await Promise.all(Array.from({ length: senders }, async () => {
    while (next < requests.length) {
      const request = requests[next++];
      const started = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': request.signature },
        body: request.payload,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      if (response.status !== 200) rejected += 1;
    }
  }));
  parentPort.postMessage({ rejected, latencies, cpuMs: (threadCpuMs() ?? 0) - cpuStarted });
})();
`;

export interface SentWebhooks {
  /** Requests not answered 200. */
  readonly rejected: number;
  readonly latencies: number[];
  /** CPU the sending thread used: the vendor's side of the traffic, in this process but not the runtime's. */
  readonly cpuMs: number;
}

/**
 * Sends the requests from their own thread, as a load generator on another machine would: the
 * runtime's main thread is part of what is measured and must not also be sending them.
 */
export const sendWebhooks = async (
  url: string,
  requests: readonly SignedRequest[],
  senders: number,
): Promise<SentWebhooks> => {
  const worker = new Worker(LOAD_GENERATOR, {
    eval: true,
    workerData: { url, requests, senders, threadCpuModule: THREAD_CPU_MODULE },
  });
  const [result] = (await once(worker, 'message')) as [SentWebhooks];
  await worker.terminate();
  return result;
};
