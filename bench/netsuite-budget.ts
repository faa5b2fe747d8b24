import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Stripe from 'stripe';
import { localSecrets } from '../local/config';
import { LocalRuntime } from '../local/runtime/runtime';

/**
 * The NetSuite account's concurrency while a backlog waits (issue 12, item 3): every function that
 * calls NetSuite shares one lease pool per account, so revbridge should keep the account busy
 * without ever tripping its limit. The twin holds each request 250-350 ms, as a real account takes
 * hundreds; the backlog is invoices alone first (one flow must be able to use the whole account),
 * then invoices and payments together (two flows share it).
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
 * measured), then enabled; the window runs from then until no NetSuite queue has a visible message
 * left (the drain after it is the last batches in flight, with no backlog waiting).
 */
const measureBacklog = async (runtime: LocalRuntime, payloads: string[]) => {
  const twin = runtime.netsuite;
  if (!twin) throw new Error('the NetSuite twin is not running');
  const secret = localSecrets().stripeWebhookSecret;
  const waiting = () =>
    runtime.sqs
      .snapshot()
      .queues.filter((queue) => /(PostInvoice|ApplyPayment)ConsumerQueue/.test(queue.name))
      .reduce((sum, queue) => sum + queue.visible, 0);
  runtime.setEventSourceMappingsEnabled(false, NETSUITE_FUNCTIONS);
  const refused = await send(`${runtime.apiUrl}/webhooks/stripe`, secret, payloads);
  const deadline = Date.now() + 120_000;
  while (waiting() < payloads.length - refused && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const backlog = waiting();
  const rejectionsBefore = twin.concurrencyRejections;
  const start = { at: performance.now(), busy: twin.busySlotMs };
  let end = start;
  runtime.setEventSourceMappingsEnabled(true, NETSUITE_FUNCTIONS);
  while (waiting() > 0) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    end = { at: performance.now(), busy: twin.busySlotMs };
  }
  await runtime.idle(300_000);
  const drainedSeconds = (performance.now() - start.at) / 1000;
  const windowMs = end.at - start.at;
  return {
    backlog,
    utilisation: windowMs > 0 ? ((end.busy - start.busy) / (twin.concurrencyLimit * windowMs)) * 100 : 0,
    windowSeconds: windowMs / 1000,
    drainedSeconds,
    refused,
    limitErrors: twin.concurrencyRejections - rejectionsBefore,
    mostInFlight: twin.maxConcurrentSeen,
  };
};

export const benchNetSuiteBudget = async (record: Record_): Promise<void> => {
  const runtime = await LocalRuntime.start({
    ephemeralPorts: true,
    env: { ...process.env, NETSUITE_PROCESSING_MS: '250-350' },
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
        `limit ${limit}, at most ${run.mostInFlight} at once; ${run.backlog} messages waited ${run.windowSeconds.toFixed(1)} s, all done in ${run.drainedSeconds.toFixed(1)} s; twin holds requests 250-350 ms${run.refused ? `; ${run.refused} webhooks refused` : ''}`,
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
