import Stripe from 'stripe';
import {
  STRIPE_TWIN_DEFAULT_WEBHOOK_SECRET,
  type StripeTwin,
  startStripeTwin,
} from '../../../local/twins/stripe';
import { API_KEY, type Receiver, startReceiver, stripeClient } from './stripe-test-kit';

/**
 * The subscription changes flow 5 reacts to, as Stripe makes them: a quantity or price change with
 * prorations invoiced at once, a lookup key handed to a new price, and a cancellation with its credit,
 * each announced by a signed `customer.subscription.*` webhook.
 */

const T0 = Date.UTC(2026, 11, 1, 0, 0);
const DAY = 86_400_000;
const verifier = new Stripe(API_KEY);

let twin: StripeTwin;
let stripe: Stripe;
let receiver: Receiver;
const clock = { now: T0 };

beforeEach(async () => {
  clock.now = T0;
  receiver = await startReceiver();
  twin = await startStripeTwin({
    port: 0,
    clock: () => clock.now,
    webhook: { url: receiver.url },
    webhookRetryDelaysMs: [10, 20, 40],
  });
  stripe = stripeClient(twin.port);
});

afterEach(async () => {
  await twin.close();
  await receiver.close();
});

/** Five seats on `send_invoice` terms, as the quote-to-cash saga creates subscriptions. */
const seatSubscription = async () => {
  const customer = await stripe.customers.create({ name: 'Initech' });
  const product = await stripe.products.create({ name: 'Seat' });
  const price = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 2_500,
    recurring: { interval: 'month' },
    lookup_key: 'seat_monthly_usd',
  });
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id, quantity: 5 }],
    collection_method: 'send_invoice',
    days_until_due: 30,
    metadata: { revbridge_deal_id: '006A' },
  });
  return {
    customer,
    product,
    price,
    subscription,
    item: subscription.items.data[0] as Stripe.SubscriptionItem,
  };
};

/** The webhooks the receiver got, verified with the SDK, in order. */
const delivered = async (): Promise<Stripe.Event[]> => {
  await twin.flushWebhooks();
  return receiver.received.map((r) =>
    verifier.webhooks.constructEvent(
      r.body,
      String(r.headers['stripe-signature']),
      STRIPE_TWIN_DEFAULT_WEBHOOK_SECRET,
      300,
      undefined,
      Math.floor(clock.now / 1000),
    ),
  );
};

describe('subscription changes in the Stripe twin', () => {
  it('invoices the prorations of a seat increase at once under always_invoice, after a signed customer.subscription.updated', async () => {
    const { subscription, item } = await seatSubscription();
    clock.now = T0 + 15 * DAY;
    const updated = await stripe.subscriptions.update(subscription.id, {
      items: [{ id: item.id, quantity: 8 }],
      proration_behavior: 'always_invoice',
    });
    expect(updated.items.data[0]?.quantity).toBe(8);
    const invoice = await stripe.invoices.retrieve(String(updated.latest_invoice));
    expect(invoice).toMatchObject({ billing_reason: 'subscription_update', status: 'open' });
    const lines = invoice.lines.data.map((line) => line.amount).sort((a, b) => a - b);
    // 31-day period, 16 days left: -5 × 25.00 × 16/31 and +8 × 25.00 × 16/31.
    expect(lines).toEqual([Math.round(-12_500 * (16 / 31)), Math.round(20_000 * (16 / 31))]);
    expect(invoice.total).toBe(lines.reduce((sum, amount) => sum + amount, 0));

    const events = await delivered();
    const change = events.findIndex((e) => e.type === 'customer.subscription.updated');
    expect(change).toBeGreaterThan(-1);
    expect(events.slice(change).map((e) => e.type)).toEqual(
      expect.arrayContaining(['customer.subscription.updated', 'invoice.created', 'invoice.finalized']),
    );
    const object = events[change]?.data.object as Stripe.Subscription;
    expect(object.items.data[0]?.quantity).toBe(8);
    expect(events[change]?.data.previous_attributes).toMatchObject({ items: { data: [{ quantity: 5 }] } });
  });

  it('moves a subscription to a new price that took the lookup key over, leaving the old price without it', async () => {
    const { product, price, subscription, item } = await seatSubscription();
    const newer = await stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 3_000,
      recurring: { interval: 'month' },
      lookup_key: 'seat_monthly_usd',
      transfer_lookup_key: true,
    });
    expect((await stripe.prices.retrieve(price.id)).lookup_key).toBeNull();
    const listed = await stripe.prices.list({ lookup_keys: ['seat_monthly_usd'], active: true });
    expect(listed.data.map((p) => p.id)).toEqual([newer.id]);

    await stripe.subscriptions.update(subscription.id, {
      items: [{ id: item.id, price: newer.id }],
      proration_behavior: 'create_prorations',
    });
    const current = await stripe.subscriptions.retrieve(subscription.id);
    expect(
      current.items.data.map((i) => [i.price.id, i.price.unit_amount, i.price.lookup_key, i.quantity]),
    ).toEqual([[newer.id, 3_000, 'seat_monthly_usd', 5]]);
    const pending = await stripe.invoiceItems.list({
      customer: String(subscription.customer),
      pending: true,
    });
    expect(pending.data.every((ii) => ii.proration)).toBe(true);
    expect(pending.data).toHaveLength(2);
  });

  it('cancels with a prorated credit invoiced now, announces customer.subscription.deleted and stays retrievable', async () => {
    const { subscription } = await seatSubscription();
    clock.now = T0 + 10 * DAY;
    const canceled = await stripe.subscriptions.cancel(subscription.id, { prorate: true, invoice_now: true });
    expect(canceled).toMatchObject({ status: 'canceled', ended_at: Math.floor(clock.now / 1000) });
    const credit = await stripe.invoices.retrieve(String(canceled.latest_invoice));
    expect(credit.billing_reason).toBe('subscription_update');
    expect(credit.total).toBe(Math.round(-12_500 * (21 / 31)));

    const events = await delivered();
    const deleted = events.filter((e) => e.type === 'customer.subscription.deleted');
    expect(deleted).toHaveLength(1);
    expect((deleted[0]?.data.object as Stripe.Subscription | undefined)?.status).toBe('canceled');
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('canceled');
    await expect(stripe.subscriptions.cancel(subscription.id)).rejects.toMatchObject({ statusCode: 404 });
  });
});
