import type Stripe from 'stripe';
import { type StripeTwin, startStripeTwin } from '../../../local/twins/stripe';
import { STRIPE_TWIN_RETRY_SCHEDULE_DAYS } from '../../../local/twins/stripe/retry-schedule';
import { stripeClient } from './stripe-test-kit';

const T0 = Date.UTC(2026, 0, 15, 9, 30);
const DAY = 86_400;

let twin: StripeTwin;
let stripe: Stripe;
const clock = { now: T0 };

beforeEach(async () => {
  clock.now = T0;
  twin = await startStripeTwin({ port: 0, clock: () => clock.now });
  stripe = stripeClient(twin.port);
});

afterEach(async () => {
  await twin.close();
});

/** An open invoice Stripe collects itself, for a customer whose card declines. */
const failingInvoice = async (
  collection: 'charge_automatically' | 'send_invoice' = 'charge_automatically',
) => {
  const customer = await stripe.customers.create({
    name: 'Acme Inc.',
    invoice_settings: { default_payment_method: 'pm_card_chargeDeclined' },
  });
  await stripe.invoiceItems.create({ customer: customer.id, amount: 5000, currency: 'usd' });
  const invoice = await stripe.invoices.create({
    customer: customer.id,
    collection_method: collection,
    ...(collection === 'send_invoice' ? { days_until_due: 30 } : {}),
    auto_advance: true,
    pending_invoice_items_behavior: 'include',
  });
  await stripe.invoices.finalizeInvoice(invoice.id);
  await expect(stripe.invoices.pay(invoice.id)).rejects.toMatchObject({ statusCode: 402 });
  return invoice.id;
};

const failures = () =>
  twin
    .events()
    .filter((event) => event.type === 'invoice.payment_failed')
    .map((event) => (event.data as unknown as { object: Stripe.Invoice }).object);

describe('Stripe twin payment retries', () => {
  it('schedules the next retry after a failed automatic collection, as the retry schedule says', async () => {
    const id = await failingInvoice();
    const now = Math.floor(T0 / 1000);
    expect(await stripe.invoices.retrieve(id)).toMatchObject({
      status: 'open',
      attempt_count: 1,
      next_payment_attempt: now + (STRIPE_TWIN_RETRY_SCHEDULE_DAYS[0] ?? 0) * DAY,
    });
    expect(failures().map((invoice) => invoice.attempt_count)).toEqual([1]);
  });

  it('retries on schedule, each failure with its attempt count, and stops after the last retry', async () => {
    const id = await failingInvoice();
    for (const _ of STRIPE_TWIN_RETRY_SCHEDULE_DAYS) {
      clock.now += DAY * 1000;
      twin.retryInvoicePayment(id);
    }
    const attempts = STRIPE_TWIN_RETRY_SCHEDULE_DAYS.length + 1;
    expect(failures().map((invoice) => invoice.attempt_count)).toEqual(
      Array.from({ length: attempts }, (_, index) => index + 1),
    );
    expect(failures().at(-1)?.next_payment_attempt).toBeNull();
    expect(failures().at(-2)?.next_payment_attempt).toBe(
      Math.floor(clock.now / 1000) - DAY + (STRIPE_TWIN_RETRY_SCHEDULE_DAYS.at(-1) ?? 0) * DAY,
    );
    expect(() => twin.retryInvoicePayment(id)).toThrow(/no scheduled payment retry/);
  });

  it('pays the invoice when a retry succeeds, and schedules nothing more', async () => {
    const id = await failingInvoice();
    expect(twin.retryInvoicePayment(id, 'pm_card_visa')).toMatchObject({
      status: 'paid',
      attempt_count: 2,
      next_payment_attempt: null,
    });
    expect(twin.events().map((event) => event.type)).toContain('invoice.paid');
  });

  it('never schedules a retry for an invoice the customer pays themselves (send_invoice)', async () => {
    const id = await failingInvoice('send_invoice');
    expect(await stripe.invoices.retrieve(id)).toMatchObject({
      attempt_count: 1,
      next_payment_attempt: null,
    });
  });
});
