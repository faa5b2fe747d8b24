import Stripe from 'stripe';
import { StripeBillingClient } from '../../lambdas/adapters/stripe/billing-client';
import type { Deal } from '../../lambdas/domain/deal';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';
import { type StripeTwin, startStripeTwin } from '../../local/twins/stripe';

const deal = (overrides: Partial<Deal> = {}): Deal => ({
  crm: 'salesforce',
  dealId: '006000000000001AAA',
  version: '2025-03-01T10:00:00.000Z',
  name: 'Acme - Platform',
  stage: 'Closed Won',
  isWon: true,
  currency: 'USD',
  account: {
    id: '001000000000001AAA',
    name: 'Acme Corp',
    email: 'billing@acme.example',
    billingAddress: {
      line1: '1 Market St',
      line2: 'Floor 3',
      city: 'San Francisco',
      postalCode: '94105',
      state: 'CA',
      country: 'US',
    },
    taxId: 'US-12-3456789',
  },
  subsidiary: null,
  lines: [{ id: '00k000000000001AAA', productCode: 'PLT', quantity: 3, unitAmount: 100_000 }],
  existing: { billingCustomerId: null, subscriptionId: null, erpCustomerId: null, salesOrderId: null },
  ...overrides,
});

const caught = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

describe('Stripe billing client against the Stripe twin', () => {
  let twin: StripeTwin;
  let client: StripeBillingClient;
  let monthlyPrice: string;
  let seatPrice: string;
  let accountSeq = 0;

  /** Each test works on its own CRM account, so the search for an earlier customer starts empty. */
  const freshDeal = (overrides: Partial<Deal> = {}): Deal => {
    accountSeq++;
    const base = deal();
    return deal({
      account: { ...base.account, id: `001ACCOUNT${String(accountSeq).padStart(8, '0')}` },
      dealId: `006DEAL0000${String(accountSeq).padStart(7, '0')}`,
      ...overrides,
    });
  };

  beforeAll(async () => {
    twin = await startStripeTwin({ port: 0, faults: {} });
    client = new StripeBillingClient({ apiKey: async () => twin.apiKey, baseUrl: twin.url });
    const setup = new Stripe(twin.apiKey, {
      host: '127.0.0.1',
      port: twin.port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    const product = await setup.products.create({ name: 'Platform' });
    monthlyPrice = (
      await setup.prices.create({
        product: product.id,
        currency: 'usd',
        unit_amount: 100_000,
        recurring: { interval: 'month' },
      })
    ).id;
    seatPrice = (
      await setup.prices.create({
        product: product.id,
        currency: 'usd',
        unit_amount: 2_500,
        recurring: { interval: 'month' },
      })
    ).id;
  });

  afterEach(() => {
    twin.faults.set({});
  });

  afterAll(async () => {
    await twin.close();
  });

  it('creates the customer with the account name, email, address and revbridge metadata', async () => {
    const d = freshDeal();
    const id = await client.upsertCustomer(d, 'deal-a');

    expect(twin.get(id)).toMatchObject({
      object: 'customer',
      name: 'Acme Corp',
      email: 'billing@acme.example',
      address: {
        line1: '1 Market St',
        line2: 'Floor 3',
        city: 'San Francisco',
        postal_code: '94105',
        state: 'CA',
        country: 'US',
      },
      metadata: {
        revbridge_crm: 'salesforce',
        revbridge_account_id: d.account.id,
        revbridge_deal_id: d.dealId,
      },
    });
    const create = twin.requests.filter((r) => r.method === 'POST' && r.path === '/v1/customers');
    expect(create.at(-1)?.idempotencyKey).toBe('deal-a-customer');
  });

  it('makes one customer when the same step runs twice at once with the same key', async () => {
    const d = freshDeal();
    const before = twin.list('customer').length;
    const [first, second] = await Promise.all([
      client.upsertCustomer(d, 'deal-twice'),
      client.upsertCustomer(d, 'deal-twice'),
    ]);

    expect(second).toBe(first);
    expect(twin.list('customer')).toHaveLength(before + 1);
    // Both searches usually answer before either create, so the second create is Stripe's replay.
    const creates = twin.requests.filter(
      (r) => r.method === 'POST' && r.path === '/v1/customers' && r.idempotencyKey === 'deal-twice-customer',
    );
    expect(creates.filter((r) => !r.replayed)).toHaveLength(1);
  });

  it('returns the customer an earlier deal of the same account made, and the one the deal already points to', async () => {
    const first = freshDeal();
    const id = await client.upsertCustomer(first, 'deal-first');
    const later = deal({ ...first, dealId: '006LATERDEAL000001' });
    const before = twin.list('customer').length;

    await expect(client.upsertCustomer(later, 'deal-later')).resolves.toBe(id);
    expect(twin.list('customer')).toHaveLength(before);

    const requests = twin.requests.length;
    const pointing = freshDeal({
      existing: {
        billingCustomerId: 'cus_written_back',
        subscriptionId: null,
        erpCustomerId: null,
        salesOrderId: null,
      },
    });
    await expect(client.upsertCustomer(pointing, 'deal-pointing')).resolves.toBe('cus_written_back');
    expect(twin.requests).toHaveLength(requests);
  });

  it('creates a send_invoice subscription in the deal currency with the deal id as metadata, once per key', async () => {
    const d = freshDeal();
    const customer = await client.upsertCustomer(d, 'deal-sub');
    const items = [
      { priceId: monthlyPrice, quantity: 1 },
      { priceId: seatPrice, quantity: 12 },
    ];
    const first = await client.createSubscription(d, customer, items, 'deal-sub');
    const again = await client.createSubscription(d, customer, items, 'deal-sub');

    expect(again.subscriptionId).toBe(first.subscriptionId);
    expect(twin.list('subscription').filter((s) => s.customer === customer)).toHaveLength(1);
    const replays = twin.requests.filter((r) => r.path === '/v1/subscriptions' && r.method === 'POST');
    expect(replays.map((r) => [r.idempotencyKey, r.replayed])).toEqual([
      ['deal-sub-subscription', false],
      ['deal-sub-subscription', true],
    ]);
    expect(twin.get(first.subscriptionId)).toMatchObject({
      status: 'active',
      collection_method: 'send_invoice',
      days_until_due: 30,
      currency: 'usd',
      metadata: { revbridge_deal_id: d.dealId, revbridge_crm: 'salesforce' },
    });
    const invoice = twin.list('invoice').find((i) => i.customer === customer);
    expect(invoice).toMatchObject({
      collection_method: 'send_invoice',
      parent: { subscription_details: { metadata: { revbridge_deal_id: d.dealId } } },
    });
  });

  it('cancels at once without proration, and a second cancel of the same subscription succeeds', async () => {
    const d = freshDeal();
    const customer = await client.upsertCustomer(d, 'deal-cancel');
    const { subscriptionId } = await client.createSubscription(
      d,
      customer,
      [{ priceId: monthlyPrice, quantity: 1 }],
      'deal-cancel',
    );
    const invoicesBefore = twin.list('invoice').filter((i) => i.customer === customer);

    await client.cancelSubscription(subscriptionId, 'deal-cancel');
    await client.cancelSubscription(subscriptionId, 'deal-cancel-retry');

    expect(twin.get(subscriptionId)).toMatchObject({ status: 'canceled' });
    // Finance-safe: the issued invoice stays as it was and no proration credit was queued.
    const invoicesAfter = twin.list('invoice').filter((i) => i.customer === customer);
    expect(invoicesAfter.map((i) => [i.id, i.status])).toEqual(invoicesBefore.map((i) => [i.id, i.status]));
    const cancels = twin.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(subscriptionId));
    // Stripe ignores idempotency keys on DELETE: the second cancel reaches Stripe and is refused.
    expect(cancels.map((r) => r.status)).toEqual([200, 404]);
  });

  it('reuses a live subscription the deal already points to, and replaces one a compensation canceled', async () => {
    const d = freshDeal();
    const customer = await client.upsertCustomer(d, 'deal-existing');
    const items = [{ priceId: monthlyPrice, quantity: 1 }];
    const live = await client.createSubscription(d, customer, items, 'deal-existing-1');
    const pointing = deal({ ...d, existing: { ...d.existing, subscriptionId: live.subscriptionId } });

    await expect(client.createSubscription(pointing, customer, items, 'deal-existing-2')).resolves.toEqual(
      live,
    );

    await client.cancelSubscription(live.subscriptionId, 'deal-existing-1');
    const replacement = await client.createSubscription(pointing, customer, items, 'deal-existing-3');
    expect(replacement.subscriptionId).not.toBe(live.subscriptionId);
    expect(twin.get(replacement.subscriptionId)).toMatchObject({ status: 'active' });
  });

  it('replaces a subscription the deal points to that billing no longer has (a reconciliation re-drive)', async () => {
    const d = freshDeal();
    const customer = await client.upsertCustomer(d, 'deal-gone');
    const items = [{ priceId: monthlyPrice, quantity: 1 }];
    const gone = await client.createSubscription(d, customer, items, 'deal-gone-1');
    expect(twin.forceDeleteSubscription(gone.subscriptionId)).toBe(true);
    const pointing = deal({ ...d, existing: { ...d.existing, subscriptionId: gone.subscriptionId } });

    const replacement = await client.createSubscription(pointing, customer, items, 'deal-gone-2');
    expect(replacement.subscriptionId).not.toBe(gone.subscriptionId);
    expect(twin.get(gone.subscriptionId)).toBeUndefined();
    expect(twin.get(replacement.subscriptionId)).toMatchObject({ status: 'active', customer });
  });

  it('reports Stripe 5xx as transient', async () => {
    twin.faults.set({ errorRate: 1 });
    const error = await caught(client.upsertCustomer(freshDeal(), 'deal-5xx'));

    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'StripeAPIError', status: 503 });
  });

  it('reports a rate limit as transient with the Retry-After Stripe sent', async () => {
    twin.faults.set({ throttle: { rate: 1, burst: 1, retryAfterSeconds: 7 } });
    const error = await caught(client.upsertCustomer(freshDeal(), 'deal-429'));

    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'rate_limit', status: 429, retryAfterSeconds: 7 });
  });

  it('reports an unknown price as permanent with Stripe’s code and the parameter, never the message', async () => {
    const d = freshDeal();
    const customer = await client.upsertCustomer(d, 'deal-bad-price');
    const error = await caught(
      client.createSubscription(d, customer, [{ priceId: 'price_missing', quantity: 1 }], 'deal-bad-price'),
    );

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'resource_missing', status: 400 });
    expect((error as Error).message).toBe(
      'Stripe create subscription failed: resource_missing (items[0][price])',
    );
  });

  it('reports a rejected API key as permanent and an unreachable Stripe as transient', async () => {
    const wrongKey = new StripeBillingClient({ apiKey: async () => 'sk_test_wrong_key', baseUrl: twin.url });
    await expect(wrongKey.upsertCustomer(freshDeal(), 'deal-401')).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'StripeAuthenticationError',
      status: 401,
    });

    const unreachable = new StripeBillingClient({
      apiKey: async () => twin.apiKey,
      baseUrl: 'http://127.0.0.1:1',
    });
    await expect(unreachable.upsertCustomer(freshDeal(), 'deal-down')).rejects.toMatchObject({
      name: 'TransientError',
      code: 'StripeConnectionError',
    });
  });
});
