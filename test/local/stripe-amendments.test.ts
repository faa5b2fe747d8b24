import Stripe from 'stripe';
import { StripeBillingClient } from '../../lambdas/adapters/stripe/billing-client';
import { type StripeTwin, startStripeTwin } from '../../local/twins/stripe';

/** The amendment side of the Stripe billing client, through the official SDK, against the Stripe twin. */
describe('Stripe subscription amendments against the Stripe twin', () => {
  let twin: StripeTwin;
  let client: StripeBillingClient;
  let setup: Stripe;
  let platformPrice: string;
  let seatPrice: string;

  beforeAll(async () => {
    twin = await startStripeTwin({ port: 0, faults: {} });
    client = new StripeBillingClient({ apiKey: async () => twin.apiKey, baseUrl: twin.url });
    setup = new Stripe(twin.apiKey, {
      host: '127.0.0.1',
      port: twin.port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    const product = await setup.products.create({ name: 'Platform' });
    const price = async (unit_amount: number) =>
      (
        await setup.prices.create({
          product: product.id,
          currency: 'usd',
          unit_amount,
          recurring: { interval: 'month' },
        })
      ).id;
    platformPrice = await price(100_000);
    seatPrice = await price(2_500);
  });

  afterAll(async () => {
    await twin.close();
  });

  const contract = async () => {
    const customer = await setup.customers.create({ name: 'Initech' });
    return setup.subscriptions.create({
      customer: customer.id,
      collection_method: 'send_invoice',
      days_until_due: 30,
      items: [
        { price: platformPrice, quantity: 1 },
        { price: seatPrice, quantity: 10 },
      ],
    });
  };
  const updatesOf = (id: string) =>
    twin.requests.filter((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${id}`);

  it('adds the seats once, prorated, with the amendment as Idempotency-Key and mark, however often it is asked', async () => {
    const subscription = await contract();
    const first = await client.applyAmendment(
      subscription.id,
      [{ priceId: seatPrice, quantity: 5 }],
      'amend-k1',
      'create_prorations',
    );
    const again = await client.applyAmendment(
      subscription.id,
      [{ priceId: seatPrice, quantity: 5 }],
      'amend-k1',
      'create_prorations',
    );
    expect(first.items.map((i) => i.quantity)).toEqual([1, 15]);
    expect(again.items.map((i) => i.quantity)).toEqual([1, 15]);
    expect(first.metadata.revbridge_amendment).toBe('amend-k1');
    expect(updatesOf(subscription.id).map((r) => r.idempotencyKey)).toEqual(['amend-k1-amend']);
    const prorations = await setup.invoiceItems.list({
      customer: String(subscription.customer),
      pending: true,
    });
    expect(prorations.data.map((item) => item.amount > 0)).toContain(true);
  });

  it('adds a product the subscription did not have as a new item', async () => {
    const subscription = await contract();
    const other = await setup.prices.create({
      product: (await setup.products.create({ name: 'Support' })).id,
      currency: 'usd',
      unit_amount: 9_900,
      recurring: { interval: 'month' },
    });
    const amended = await client.applyAmendment(
      subscription.id,
      [{ priceId: other.id, quantity: 1 }],
      'amend-k2',
      'none',
    );
    expect(amended.items.map((i) => [i.priceId, i.quantity])).toEqual([
      [platformPrice, 1],
      [seatPrice, 10],
      [other.id, 1],
    ]);
    expect(
      await client.revertAmendment(subscription.id, [{ priceId: other.id, quantity: 1 }], 'amend-k2', 'none'),
    ).toBe('reverted');
    expect((await client.getSubscription(subscription.id))?.items.map((i) => i.priceId)).toEqual([
      platformPrice,
      seatPrice,
    ]);
  });

  it('reverts only an amendment the subscription took, and only once', async () => {
    const subscription = await contract();
    const lines = [{ priceId: seatPrice, quantity: 3 }];
    expect(await client.revertAmendment(subscription.id, lines, 'amend-k3', 'create_prorations')).toBe(
      'not-applied',
    );
    await client.applyAmendment(subscription.id, lines, 'amend-k3', 'create_prorations');
    expect(await client.revertAmendment(subscription.id, lines, 'amend-k3', 'create_prorations')).toBe(
      'reverted',
    );
    expect(await client.revertAmendment(subscription.id, lines, 'amend-k3', 'create_prorations')).toBe(
      'not-applied',
    );
    const after = await client.getSubscription(subscription.id);
    expect(after?.items.map((i) => i.quantity)).toEqual([1, 10]);
    expect(after?.metadata.revbridge_amendment ?? '').toBe('');
    expect(updatesOf(subscription.id).map((r) => r.idempotencyKey)).toEqual([
      'amend-k3-amend',
      'amend-k3-revert',
    ]);
  });

  it('fails a subscription Stripe does not have as permanent', async () => {
    await expect(
      client.applyAmendment('sub_missing', [{ priceId: seatPrice, quantity: 1 }], 'amend-k4', 'none'),
    ).rejects.toMatchObject({ name: 'PermanentError', code: 'SubscriptionNotFound' });
  });
});
