import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import Stripe from 'stripe';
import { invoiceLineProducts } from '../../lambdas/adapters/stripe/invoice-lines';
import { stripeSdk } from '../../lambdas/adapters/stripe/sdk';
import { localSecrets } from '../../local/config';
import type { LocalRuntime } from '../../local/runtime/runtime';
import { eventually, postStripeWebhook, startRuntime } from '../support/local-runtime';

/**
 * Flow 5a end to end in the local runtime: credit notes issued and voided in the Stripe twin through the
 * official SDK reach revbridge as Stripe's signed webhooks and become NetSuite credit memos in the
 * NetSuite twin. Every assertion reads a twin's state, the runtime's metrics or the exceptions table.
 */

let runtime: LocalRuntime;
let stripe: Stripe;
let capture: Server;
let captured: Record<string, unknown>[] = [];
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

beforeAll(async () => {
  runtime = await startRuntime();
  const url = new URL(runtime.status().twins.stripe ?? '');
  stripe = new Stripe(localSecrets().stripeApiKey, {
    host: url.hostname,
    port: Number(url.port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  // Stands in for revbridge while a test holds Stripe's webhooks back, to deliver them in another order.
  capture = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      captured.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
}, 30_000);

afterAll(async () => {
  await new Promise((resolve) => capture?.close(resolve));
  await runtime?.stop();
});

afterEach(async () => {
  runtime.netsuite?.faults.set({});
  runtime.stripe?.faults.set({});
  await settle();
});

const netsuite = () => {
  if (!runtime.netsuite) throw new Error('the NetSuite twin is not running');
  return runtime.netsuite;
};
const settle = async () => {
  await runtime.stripe?.flushWebhooks();
  await runtime.events.idle();
  await runtime.idle();
};
const metricSum = (name: string) =>
  runtime
    .status()
    .metrics.filter((m) => m.metricName === name)
    .reduce((sum, m) => sum + m.sum, 0);
const failedCreditNotes = () =>
  runtime
    .status()
    .eventSourceMappings.filter((mapping) => mapping.function.includes('PostCreditMemo'))
    .reduce((sum, mapping) => sum + mapping.failedMessages, 0);

/** Stripe's webhooks of `run` are caught, not delivered; returns them, oldest first. */
const holdingWebhooks = async (run: () => Promise<unknown>) => {
  const twin = runtime.stripe;
  if (!twin) throw new Error('the Stripe twin is not running');
  captured = [];
  twin.setWebhookEndpoint(`http://127.0.0.1:${(capture.address() as AddressInfo).port}/`);
  try {
    await run();
    await twin.flushWebhooks();
  } finally {
    twin.setWebhookEndpoint(`${runtime.apiUrl}/webhooks/stripe`, localSecrets().stripeWebhookSecret);
  }
  return [...captured];
};
/** Delivers a held webhook as Stripe would: signed with the official SDK. */
const deliver = async (held: Record<string, unknown>[], type: string) => {
  const event = held.find((candidate) => candidate.type === type);
  if (!event) throw new Error(`no ${type} webhook was held`);
  expect((await postStripeWebhook(runtime, event)).status).toBe(200);
};

let seats = 0;
/** A customer billed 3 seats at 49.00 on a send_invoice subscription: its first invoice is open. */
const billCustomer = async () => {
  seats += 1;
  const customer = await stripe.customers.create({ name: `Credit Customer ${seats}` });
  const product = await stripe.products.create({ name: `Seats ${seats}` });
  const price = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 4900,
    recurring: { interval: 'month' },
  });
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id, quantity: 3 }],
    collection_method: 'send_invoice',
    days_until_due: 30,
  });
  const invoiceId =
    typeof subscription.latest_invoice === 'string'
      ? subscription.latest_invoice
      : subscription.latest_invoice?.id;
  const invoice = await stripe.invoices.retrieve(invoiceId ?? '');
  const lineId = invoice.lines.data[0]?.id ?? '';
  return { customerId: customer.id, invoiceId: invoice.id ?? '', lineId };
};
/** Credits one of the three seats. */
const creditOneSeat = (bill: { invoiceId: string; lineId: string }) =>
  stripe.creditNotes.create({
    invoice: bill.invoiceId,
    lines: [{ type: 'invoice_line_item', invoice_line_item: bill.lineId, quantity: 1 }],
    reason: 'order_change',
  });
const posted = async () => {
  const bill = await billCustomer();
  await settle();
  await eventually(() => netsuite().getByExternalId('invoice', bill.invoiceId), 'the ERP invoice');
  return bill;
};
const memoOf = (creditNoteId: string) => netsuite().getByExternalId('creditMemo', creditNoteId);
const remainingOf = (invoiceId: string) => netsuite().getByExternalId('invoice', invoiceId)?.amountRemaining;

type Sublist = { items?: { doc?: { id?: string }; amount?: number; item?: { id?: string } }[] };

describe('credit notes in the local runtime', () => {
  it('turns a Stripe credit note into one NetSuite credit memo created from and applied to the ERP invoice, and its void voids it', async () => {
    const postedBefore = metricSum('CreditMemosPosted');
    const bill = await posted();
    const erpInvoice = netsuite().getByExternalId('invoice', bill.invoiceId);
    expect(erpInvoice).toMatchObject({ total: 147, amountRemaining: 147 });

    const note = await creditOneSeat(bill);
    await settle();
    const memo = memoOf(note.id);
    expect(memo).toMatchObject({
      externalId: note.id,
      entity: { id: (erpInvoice?.entity as { id: string } | undefined)?.id },
      createdFrom: { id: erpInvoice?.id },
      total: 49,
      applied: 49,
      unapplied: 0,
      status: { id: 'fullyApplied' },
      otherRefNum: note.number,
    });
    expect((memo?.apply as Sublist | undefined)?.items).toEqual([
      expect.objectContaining({ doc: expect.objectContaining({ id: erpInvoice?.id }), amount: 49 }),
    ]);
    expect(remainingOf(bill.invoiceId)).toBe(98);
    expect(netsuite().writeCount('creditMemo', note.id)).toBe(1);
    expect(metricSum('CreditMemosPosted')).toBe(postedBefore + 1);

    await stripe.creditNotes.voidCreditNote(note.id);
    await settle();
    expect(memoOf(note.id)).toMatchObject({
      id: memo?.id,
      voided: true,
      total: 0,
      applied: 0,
      status: { id: 'voided', refName: 'Voided' },
    });
    expect(remainingOf(bill.invoiceId)).toBe(147);
    expect(netsuite().writeCount('creditMemo', note.id)).toBe(1);
    expect(metricSum('CreditMemosVoided')).toBeGreaterThanOrEqual(1);
  });

  it('writes the memo once and voids it once when Stripe delivers every webhook twice', async () => {
    const bill = await posted();
    runtime.stripe?.faults.set({ seed: 3, duplicateRate: 1 });
    const deliveriesBefore = runtime.stripe?.deliveries.length ?? 0;
    const voidsBefore = netsuite().requestLog.filter((r) => r.path.endsWith('/@void')).length;
    const note = await creditOneSeat(bill);
    await stripe.creditNotes.voidCreditNote(note.id);
    await settle();
    const deliveries = (runtime.stripe?.deliveries ?? [])
      .slice(deliveriesBefore)
      .filter((attempt) => attempt.eventType.startsWith('credit_note.') && attempt.status === 200);
    expect(deliveries.length).toBeGreaterThanOrEqual(4);
    expect(netsuite().writeCount('creditMemo', note.id)).toBe(1);
    expect(netsuite().requestLog.filter((r) => r.path.endsWith('/@void')).length).toBe(voidsBefore + 1);
    expect(memoOf(note.id)).toMatchObject({ status: { id: 'voided' } });
  });

  it('keeps a credit note that arrives before its invoice is posted waiting, then posts it once the invoice is', async () => {
    const failedBefore = failedCreditNotes();
    let bill: Awaited<ReturnType<typeof billCustomer>> | undefined;
    let noteId = '';
    const held = await holdingWebhooks(async () => {
      bill = await billCustomer();
      noteId = (await creditOneSeat(bill)).id;
    });
    await deliver(held, 'credit_note.created');
    await eventually(() => failedCreditNotes() > failedBefore, 'the early credit note to be retried');
    expect(memoOf(noteId)).toBeUndefined();

    await deliver(held, 'invoice.finalized');
    await eventually(() => netsuite().getByExternalId('invoice', bill?.invoiceId ?? ''), 'the ERP invoice');
    runtime.skipQueueTime(60);
    await eventually(() => memoOf(noteId), 'the waiting credit note to be posted');
    await runtime.idle();
    expect(memoOf(noteId)).toMatchObject({ total: 49, applied: 49 });
    expect(netsuite().writeCount('creditMemo', noteId)).toBe(1);
  });

  it('keeps a void that arrives before its credit note waiting, then voids the memo once it is created', async () => {
    const bill = await posted();
    const failedBefore = failedCreditNotes();
    let noteId = '';
    const held = await holdingWebhooks(async () => {
      noteId = (await creditOneSeat(bill)).id;
      await stripe.creditNotes.voidCreditNote(noteId);
    });
    await deliver(held, 'credit_note.voided');
    await eventually(() => failedCreditNotes() > failedBefore, 'the early void to be retried');
    expect(memoOf(noteId)).toBeUndefined();

    await deliver(held, 'credit_note.created');
    await eventually(() => memoOf(noteId), 'the credit memo');
    runtime.skipQueueTime(60);
    await eventually(() => memoOf(noteId)?.voided === true, 'the waiting void to void the memo');
    await runtime.idle();
    expect(netsuite().writeCount('creditMemo', noteId)).toBe(1);
    expect(remainingOf(bill.invoiceId)).toBe(147);
  });

  it('retries a credit memo the ERP throttled, and writes it once', async () => {
    const bill = await posted();
    const failedBefore = failedCreditNotes();
    netsuite().faults.set({ seed: 7, throttle: { rate: 1, burst: 1000, retryAfterSeconds: 1 } });
    const note = await creditOneSeat(bill);
    await runtime.stripe?.flushWebhooks();
    await eventually(() => failedCreditNotes() > failedBefore, 'the throttled memo to be retried');
    expect(memoOf(note.id)).toBeUndefined();
    netsuite().faults.set({});
    runtime.skipQueueTime(60);
    await eventually(() => memoOf(note.id), 'the retried credit memo', 15_000);
    await runtime.idle();
    expect(netsuite().writeCount('creditMemo', note.id)).toBe(1);
  });

  it('opens an exception for a credit memo the ERP refuses, and does not retry it', async () => {
    const bill = await posted();
    const failedBefore = metricSum('CreditMemoPostingFailed');
    const retriesBefore = failedCreditNotes();
    netsuite().faults.set({ reject: [{ method: 'PUT', path: '/creditMemo/', status: 400 }] });
    const note = await creditOneSeat(bill);
    await settle();
    expect(memoOf(note.id)).toBeUndefined();
    // Not retried: the record completed with the exception instead of failing back to the queue.
    expect(failedCreditNotes()).toBe(retriesBefore);
    const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: runtime.dynamoUrl, credentials });
    const exceptionsTable = runtime.status().tables.find((name) => name.includes('Exceptions'));
    const scan = await dynamo.send(new ScanCommand({ TableName: exceptionsTable }));
    dynamo.destroy();
    const opened = scan.Items?.filter(
      (item) => item.flow?.S === 'post-credit-memo' && item.correlationId?.S === bill.invoiceId,
    );
    expect(opened).toEqual([expect.objectContaining({ status: { S: 'OPEN' }, code: { S: 'USER_ERROR' } })]);
    expect(metricSum('CreditMemoPostingFailed')).toBe(failedBefore + 1);
  });

  it('reads the products of the invoice lines a credit note credits from Stripe, through the SDK, as the flow does', async () => {
    const bill = await billCustomer();
    const sdk = stripeSdk({
      apiKey: async () => localSecrets().stripeApiKey,
      baseUrl: runtime.status().twins.stripe ?? '',
    });
    const invoice = await stripe.invoices.retrieve(bill.invoiceId);
    const product = invoice.lines.data[0]?.pricing?.price_details?.product;
    expect(product).toMatch(/^prod_/);
    expect(await invoiceLineProducts(sdk)(bill.invoiceId)).toEqual(new Map([[bill.lineId, product]]));
    await expect(invoiceLineProducts(sdk)('in_missing')).rejects.toMatchObject({
      name: 'PermanentError',
      status: 404,
    });
  });
});
