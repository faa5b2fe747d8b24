import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Stripe from 'stripe';
import { localSecrets } from '../local/config';
import { LocalRuntime } from '../local/runtime/runtime';

/**
 * The NetSuite account's concurrency while a backlog waits (issue 12, item 3): every function that
 * calls NetSuite shares one lease pool per account, so revbridge should keep the account busy
 * without ever tripping its limit. The backlog is invoices alone first (one flow must be able to use
 * the whole account), then invoices and payments together (two flows share it).
 *
 * The twin holds each request 900-1100 ms (`BUDGET_NETSUITE_MS` to change it), the order of a record
 * write in a real account. Faster, the figure stops measuring the leases: at 250-350 ms, 10 slots
 * need ~33 posted records a second, and the whole local runtime (every function, the emulators, the
 * twins) at ~50 ms of CPU per flow cannot feed that on 2 cores (52-57% measured that way under load).
 * The window opens when the account is first full and closes when fewer messages remain than its
 * limit: the consumers' start before (printed) and the tail after are not what the leases decide.
 */

type Record_ = (
  name: string,
  value: number,
  unit: string,
  budget: number,
  lowerIsBetter: boolean,
  note?: string,
) => void;

const ROOT = path.resolve(__dirname, '..');
const BUDGET = { utilisationPercent: 90, limitErrors: 0 } as const;
const PROCESSING_MS = process.env.BUDGET_NETSUITE_MS ?? '900-1100';

const invoiceBase = () =>
  JSON.parse(
    readFileSync(
      path.join(ROOT, 'test', 'fixtures', 'vendors', 'stripe', 'resources', 'invoice.json'),
      'utf8',
    ),
  ) as Record<string, unknown>;

const stripeEvent = (id: string, type: string, object: Record<string, unknown>) =>
  JSON.stringify({
    id,
    object: 'event',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    type,
    data: { object },
  });

const invoiceObject = (base: Record<string, unknown>, n: number, paid: boolean) => ({
  ...base,
  id: `in_budget_${n}`,
  customer: `cus_budget_${n % 20}`,
  customer_name: `Customer ${n % 20}`,
  lines: { object: 'list', has_more: false, data: [{ id: `il_budget_${n}`, amount: 1000, quantity: 1 }] },
  total: 1000,
  subtotal: 1000,
  amount_due: 1000,
  ...(paid
    ? {
        status: 'paid',
        amount_paid: 1000,
        payment_intent: `pi_budget_${n}`,
        status_transitions: { paid_at: 1_721_954_054 },
      }
    : {}),
});

const send = async (url: string, secret: string, payloads: string[], senders = 16) => {
  let next = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < payloads.length) {
        const payload = payloads[next++] as string;
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret }),
          },
          body: payload,
        });
        if (response.status !== 200) refused += 1;
        await response.arrayBuffer();
      }
    }),
  );
  return refused;
};

const NETSUITE_FUNCTIONS = ['PostInvoiceFunction', 'ApplyPaymentFunction'];

/**
 * Builds a backlog and measures the account's use while it drains: the NetSuite consumers' mappings
 * are disabled while the webhooks are accepted (the machine's speed at ingesting is not what is
 * measured), then enabled; the window runs from then until fewer messages remain (queued or in a
 * batch) than the account's limit (the drain after it cannot fill the account whatever revbridge does).
 */
const measureBacklog = async (runtime: LocalRuntime, payloads: string[]) => {
  const twin = runtime.netsuite;
  if (!twin) throw new Error('the NetSuite twin is not running');
  const secret = localSecrets().stripeWebhookSecret;
  const queues = () =>
    runtime.sqs
      .snapshot()
      .queues.filter((queue) => /(PostInvoice|ApplyPayment)ConsumerQueue/.test(queue.name));
  const waiting = () => queues().reduce((sum, queue) => sum + queue.visible, 0);
  const remaining = () => queues().reduce((sum, queue) => sum + queue.visible + queue.inflight, 0);
  runtime.setEventSourceMappingsEnabled(false, NETSUITE_FUNCTIONS);
  const refused = await send(`${runtime.apiUrl}/webhooks/stripe`, secret, payloads);
  const deadline = Date.now() + 120_000;
  while (waiting() < payloads.length - refused && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const backlog = waiting();
  const rejectionsBefore = twin.concurrencyRejections;
  const enabledAt = performance.now();
  runtime.setEventSourceMappingsEnabled(true, NETSUITE_FUNCTIONS);
  // The window opens once the account is first full: before that, the consumers' environments are
  // starting (Lambda scales a queue's pollers up the same way), which is not what the leases decide.
  while (twin.inFlight < twin.concurrencyLimit && remaining() > twin.concurrencyLimit) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const start = { at: performance.now(), busy: twin.busySlotMs };
  let end = start;
  // A backlog waits while more messages remain (queued or in a batch) than the account's limit: a
  // NetSuite caller could use every free slot. Below that, the tail cannot fill the account.
  while (remaining() > twin.concurrencyLimit) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    end = { at: performance.now(), busy: twin.busySlotMs };
  }
  await runtime.idle(300_000);
  const drainedSeconds = (performance.now() - enabledAt) / 1000;
  const rampSeconds = (start.at - enabledAt) / 1000;
  const windowMs = end.at - start.at;
  return {
    backlog,
    utilisation: windowMs > 0 ? ((end.busy - start.busy) / (twin.concurrencyLimit * windowMs)) * 100 : 0,
    windowSeconds: windowMs / 1000,
    drainedSeconds,
    rampSeconds,
    refused,
    limitErrors: twin.concurrencyRejections - rejectionsBefore,
    mostInFlight: twin.maxConcurrentSeen,
  };
};

export const benchNetSuiteBudget = async (record: Record_): Promise<void> => {
  const runtime = await LocalRuntime.start({
    ephemeralPorts: true,
    env: { ...process.env, NETSUITE_PROCESSING_MS: PROCESSING_MS },
  });
  try {
    const base = invoiceBase();
    const limit = runtime.netsuite?.concurrencyLimit ?? 0;
    const invoices = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) =>
        stripeEvent(`evt_budget_fin_${from + i}`, 'invoice.finalized', invoiceObject(base, from + i, false)),
      );
    const payments = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) =>
        stripeEvent(`evt_budget_paid_${from + i}`, 'invoice.paid', invoiceObject(base, from + i, true)),
      );

    const alone = await measureBacklog(runtime, invoices(0, 300));
    const shared = await measureBacklog(
      runtime,
      invoices(300, 200).flatMap((invoice, i) => [invoice, ...payments(i, 1)]),
    );
    for (const [label, run] of [
      ['invoices alone', alone],
      ['invoices + payments', shared],
    ] as const) {
      record(
        `NetSuite concurrency used, backlog of ${label}`,
        run.utilisation,
        '%',
        BUDGET.utilisationPercent,
        false,
        `limit ${limit}, at most ${run.mostInFlight} at once; ${run.backlog} messages waited ${run.windowSeconds.toFixed(1)} s, full ${run.rampSeconds.toFixed(1)} s after the consumers were enabled, all done in ${run.drainedSeconds.toFixed(1)} s; twin holds requests ${PROCESSING_MS} ms${run.refused ? `; ${run.refused} webhooks refused` : ''}`,
      );
      record(
        `NetSuite concurrency-limit errors, ${label}`,
        run.limitErrors,
        'errors',
        BUDGET.limitErrors,
        true,
      );
    }
  } finally {
    await runtime.stop();
  }
};
