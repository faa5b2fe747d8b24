import type { LocalRuntime } from '../../local/runtime/runtime';
import {
  eventually,
  invoiceFinalized,
  invoicePaid,
  postStripeWebhook,
  startRuntime,
} from '../support/local-runtime';

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startRuntime();
});

afterAll(async () => {
  await runtime?.stop();
});

const netsuite = () => {
  if (!runtime.netsuite) throw new Error('the NetSuite twin is not running');
  return runtime.netsuite;
};
const metricSum = (name: string) =>
  runtime
    .status()
    .metrics.filter((m) => m.metricName === name)
    .reduce((sum, m) => sum + m.sum, 0);
const failedMessages = () =>
  runtime.status().eventSourceMappings.reduce((sum, mapping) => sum + mapping.failedMessages, 0);

type Sublist = { items?: { doc?: { id?: string }; amount?: number }[] };

const expectPaymentApplied = (finalized: ReturnType<typeof invoiceFinalized>) => {
  const invoiceId = finalized.data.object.id;
  const erpInvoice = netsuite().getByExternalId('invoice', invoiceId);
  const erpPayment = netsuite().getByExternalId('customerPayment', `pi_${invoiceId}`);
  if (!erpInvoice || !erpPayment) throw new Error(`invoice ${invoiceId} or its payment is not in NetSuite`);
  expect(erpPayment).toMatchObject({
    payment: 25,
    applied: 25,
    unapplied: 0,
    customer: { id: (erpInvoice.entity as { id: string }).id },
  });
  expect((erpPayment.apply as Sublist).items).toEqual([
    expect.objectContaining({ doc: expect.objectContaining({ id: erpInvoice.id }), amount: 25 }),
  ]);
  expect(erpInvoice).toMatchObject({ amountRemaining: 0, status: { id: 'paidInFull' } });
  expect(netsuite().writeCount('customerPayment', `pi_${invoiceId}`)).toBe(1);
};

describe('cash application in the local runtime', () => {
  it('applies a paid invoice as one NetSuite customer payment, and the ERP invoice shows paid', async () => {
    const before = metricSum('PaymentsApplied');
    const finalized = invoiceFinalized();
    expect((await postStripeWebhook(runtime, finalized)).status).toBe(200);
    await runtime.idle();
    expect((await postStripeWebhook(runtime, invoicePaid(finalized))).status).toBe(200);
    await runtime.idle();
    expectPaymentApplied(finalized);
    expect(metricSum('PaymentsApplied')).toBe(before + 1);
  });

  it('retries a payment that arrives before its invoice, and applies it once the invoice is posted', async () => {
    const failedBefore = failedMessages();
    const finalized = invoiceFinalized();
    expect((await postStripeWebhook(runtime, invoicePaid(finalized))).status).toBe(200);
    await eventually(
      () => failedMessages() > failedBefore,
      'the early payment to be reported as failed for a retry',
    );
    expect(netsuite().getByExternalId('customerPayment', `pi_${finalized.data.object.id}`)).toBeUndefined();

    expect((await postStripeWebhook(runtime, finalized)).status).toBe(200);
    await eventually(
      () => netsuite().getByExternalId('customerPayment', `pi_${finalized.data.object.id}`),
      'the retried payment to be applied',
      15_000,
    );
    await runtime.idle();
    expectPaymentApplied(finalized);
  });
});
