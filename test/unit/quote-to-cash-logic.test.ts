import type { EventPublisher } from '../../lambdas/adapters/aws/event-publisher';
import type { ExceptionsRepository } from '../../lambdas/adapters/aws/exceptions-repository';
import type { LinksRepository } from '../../lambdas/adapters/aws/links-repository';
import type { CatalogPrice, PriceCatalog } from '../../lambdas/adapters/stripe/price-catalog';
import type { BillingClient, CrmClient, Deal, DealWriteBack, ErpClient } from '../../lambdas/domain/deal';
import { type CanonicalEvent, parseEvent } from '../../lambdas/domain/events';
import { idempotencyKey } from '../../lambdas/quote-to-cash/identity';
import {
  describeFailure,
  type QuoteToCashDeps,
  runStep,
  type Saga,
  validateDeal,
} from '../../lambdas/quote-to-cash/logic';
import type { Plan, QuoteToCashMapping } from '../../lambdas/quote-to-cash/schema';
import { isPermanent, PermanentError } from '../../lambdas/shared/errors';

const mapping: QuoteToCashMapping = {
  catalog: {
    PLATFORM: { netsuiteItemId: '100', stripeLookupKeys: { USD: 'platform_usd', GBP: 'platform_gbp' } },
    SEAT: { netsuiteItemId: '101', stripeLookupKeys: { USD: 'seat_usd' } },
  },
  subsidiaries: {
    US: { netsuiteSubsidiaryId: '1', currencies: ['USD'], requireTaxId: false },
    UK: { netsuiteSubsidiaryId: '2', currencies: ['GBP'], requireTaxId: true },
  },
  defaultSubsidiaryByCurrency: { USD: 'US', GBP: 'UK' },
};

const PRICES: Record<string, CatalogPrice> = {
  platform_usd: { id: 'price_platform_usd', currency: 'USD', recurring: true },
  platform_gbp: { id: 'price_platform_gbp', currency: 'GBP', recurring: true },
  seat_usd: { id: 'price_seat_usd', currency: 'USD', recurring: true },
};

const deal = (overrides: Partial<Deal> = {}): Deal => ({
  crm: 'salesforce',
  dealId: '006000000000001AAA',
  version: '2026-03-01T10:00:00.000+0000',
  name: 'Initech platform',
  stage: 'Closed Won',
  isWon: true,
  currency: 'USD',
  account: {
    id: '001000000000001AAA',
    name: 'Initech',
    email: 'ap@initech.example',
    billingAddress: {
      line1: '1 Initech Way',
      line2: null,
      city: 'Austin',
      postalCode: '78701',
      state: 'TX',
      country: 'US',
    },
    taxId: null,
  },
  subsidiary: null,
  lines: [
    { id: 'l1', productCode: 'PLATFORM', quantity: 1, unitAmount: 120_000 },
    { id: 'l2', productCode: 'SEAT', quantity: 10, unitAmount: 2_500 },
    { id: 'l3', productCode: 'SEAT', quantity: 5, unitAmount: 2_000 },
  ],
  existing: { billingCustomerId: null, subscriptionId: null, erpCustomerId: null, salesOrderId: null },
  ...overrides,
});

const wonEvent = (): CanonicalEvent<'crm.deal.won'> =>
  parseEvent(
    {
      id: 'evt_won_1',
      type: 'crm.deal.won',
      version: 1,
      occurredAt: '2026-03-01T10:00:00.000Z',
      source: { vendor: 'salesforce', account: '00D000000000001EAA', eventId: '04l000000000001' },
      correlationId: '006000000000001AAA',
      causationId: null,
      data: {
        crm: 'salesforce',
        dealId: '006000000000001AAA',
        version: '2026-03-01T10:00:00.000+0000',
        stage: 'Closed Won',
        name: null,
        accountId: null,
      },
    },
    'crm.deal.won',
  );

const plan: Plan = {
  subsidiaryKey: 'US',
  erpSubsidiaryId: '1',
  subscriptionItems: [{ priceId: 'price_platform_usd', quantity: 1 }],
  salesOrderLines: [{ itemId: '100', quantity: 1, unitAmount: 120_000 }],
};

/** Every dependency as an in-memory fake that records its calls. */
const world = (options: { prices?: Record<string, CatalogPrice> } = {}) => {
  const calls: string[] = [];
  const links = new Map<string, { targetId: string; causedBy: string }>();
  const writeBacks: { dealId: string; values: DealWriteBack }[] = [];
  const published: CanonicalEvent[] = [];
  const exceptions: { flow: string; code: string; message: string; eventId: string }[] = [];
  const priceLookups: string[][] = [];
  const crm: CrmClient = {
    async getDeal() {
      return deal();
    },
    async writeBack(dealId, values) {
      calls.push('crm.writeBack');
      writeBacks.push({ dealId, values });
    },
  };
  const billing: BillingClient = {
    async upsertCustomer(_deal, key) {
      calls.push(`billing.upsertCustomer ${key}`);
      return 'cus_1';
    },
    async createSubscription(d, customerId, items, key) {
      calls.push(`billing.createSubscription ${customerId} ${JSON.stringify(items)} ${key}`);
      return { subscriptionId: d.existing.subscriptionId ?? 'sub_1' };
    },
    async cancelSubscription(id, key) {
      calls.push(`billing.cancelSubscription ${id} ${key}`);
    },
  };
  const erp: ErpClient = {
    async upsertCustomer(d, externalId) {
      calls.push(`erp.upsertCustomer ${externalId} ${d.subsidiary}`);
      return '501';
    },
    async upsertSalesOrder(d, externalId, customerId, lines) {
      calls.push(`erp.upsertSalesOrder ${externalId} ${customerId} ${d.subsidiary} ${JSON.stringify(lines)}`);
      return '9001';
    },
    async closeSalesOrder(externalId) {
      calls.push(`erp.closeSalesOrder ${externalId}`);
    },
    async deactivateCustomer(externalId) {
      calls.push(`erp.deactivateCustomer ${externalId}`);
    },
  };
  const prices: PriceCatalog = {
    async findByLookupKeys(keys) {
      priceLookups.push([...keys]);
      const table = options.prices ?? PRICES;
      return new Map(keys.flatMap((key) => (table[key] ? [[key, table[key]] as const] : [])));
    },
  };
  const linksRepo: LinksRepository = {
    async find(queries) {
      return queries.map(
        ({ key, target }) => links.get(`${key.entity}#${key.system}#${key.id}>${target}`)?.targetId,
      );
    },
    async record(key, target, targetId, causedBy) {
      links.set(`${key.entity}#${key.system}#${key.id}>${target}`, { targetId, causedBy });
      links.set(`${key.entity}#${target}#${targetId}>${key.system}`, { targetId: key.id, causedBy });
    },
  };
  const exceptionsRepo: ExceptionsRepository = {
    async open(flow, code, message, event) {
      exceptions.push({ flow, code, message, eventId: event.id });
      return { exceptionId: 'exc_1', flow, code, message, event };
    },
  };
  const publisher: EventPublisher = {
    async publish(events) {
      published.push(...events);
    },
  };
  const deps: QuoteToCashDeps = {
    crm: () => crm,
    billing,
    erp,
    prices,
    links: linksRepo,
    exceptions: exceptionsRepo,
    publisher,
    mapping,
    now: () => new Date('2026-03-01T10:05:00.000Z'),
  };
  return { deps, calls, links, writeBacks, published, exceptions, priceLookups };
};

const saga = (overrides: Partial<Saga> = {}): Saga => ({ event: wonEvent(), deal: deal(), ...overrides });

const validationProblems = async (d: Deal, prices?: Record<string, CatalogPrice>): Promise<string> => {
  const { deps } = world(prices ? { prices } : {});
  try {
    await validateDeal(d, deps);
  } catch (error) {
    if (isPermanent(error) && error.code === 'ValidationFailed') return error.message;
    throw error;
  }
  throw new Error('expected the deal to fail validation');
};

describe('validating a won deal', () => {
  it('plans one subscription item per price and one sales order line per CRM line, routed by currency', async () => {
    const { deps } = world();
    expect(await validateDeal(deal(), deps)).toEqual({
      subsidiaryKey: 'US',
      erpSubsidiaryId: '1',
      subscriptionItems: [
        { priceId: 'price_platform_usd', quantity: 1 },
        { priceId: 'price_seat_usd', quantity: 15 },
      ],
      salesOrderLines: [
        { itemId: '100', quantity: 1, unitAmount: 120_000 },
        { itemId: '101', quantity: 10, unitAmount: 2_500 },
        { itemId: '101', quantity: 5, unitAmount: 2_000 },
      ],
    });
  });

  it('routes by the subsidiary the CRM names when it names one', async () => {
    const { deps } = world();
    const planned = await validateDeal(
      deal({
        currency: 'GBP',
        subsidiary: 'UK',
        account: { ...deal().account, taxId: 'GB123456789' },
        lines: [{ id: 'l1', productCode: 'PLATFORM', quantity: 2, unitAmount: 95_000 }],
      }),
      deps,
    );
    expect(planned).toMatchObject({ subsidiaryKey: 'UK', erpSubsidiaryId: '2' });
  });

  it('lists every customer master problem at once, naming fields, not values', async () => {
    const message = await validationProblems(
      deal({
        isWon: false,
        currency: 'GBP',
        subsidiary: 'UK',
        account: { ...deal().account, billingAddress: null, taxId: '  ' },
        lines: [],
      }),
    );
    expect(message.split('; ')).toEqual([
      'the deal is not won',
      'the account has no billing address',
      'the account has no tax id, which subsidiary UK requires',
      'the deal has no line items',
    ]);
  });

  it('refuses a subsidiary that is unknown, or that does not sell in the deal currency', async () => {
    expect(await validationProblems(deal({ subsidiary: 'MARS' }))).toContain(
      'subsidiary MARS is not configured',
    );
    expect(await validationProblems(deal({ subsidiary: 'UK' }))).toContain(
      'subsidiary UK does not sell in USD',
    );
    expect(await validationProblems(deal({ currency: 'JPY', lines: [] }))).toContain(
      'no subsidiary is set and none is configured for JPY',
    );
  });

  it('refuses an incomplete address and a country that is not an ISO code', async () => {
    const account = deal().account;
    const address = account.billingAddress ?? {
      line1: '',
      line2: null,
      city: '',
      postalCode: '',
      state: null,
      country: '',
    };
    expect(
      await validationProblems(
        deal({ account: { ...account, billingAddress: { ...address, city: ' ', postalCode: '' } } }),
      ),
    ).toBe('the billing address has no city, postalCode');
    expect(
      await validationProblems(
        deal({ account: { ...account, billingAddress: { ...address, country: 'us' } } }),
      ),
    ).toBe('the billing country is not an ISO 3166 two-letter code');
  });

  it('refuses products outside the catalog, missing currencies and Stripe prices that do not fit', async () => {
    const message = await validationProblems(
      deal({
        lines: [
          { id: 'l1', productCode: 'LEGACY', quantity: 1, unitAmount: 1 },
          { id: 'l2', productCode: 'PLATFORM', quantity: 1, unitAmount: 1 },
          { id: 'l3', productCode: 'SEAT', quantity: 1, unitAmount: 1 },
        ],
      }),
      { platform_usd: { id: 'price_x', currency: 'EUR', recurring: true } },
    );
    expect(message.split('; ')).toEqual([
      'product LEGACY is not in the catalog',
      'product PLATFORM: Stripe price platform_usd is in EUR, not USD',
      'product SEAT: no active Stripe price has lookup key seat_usd',
    ]);
    expect(
      await validationProblems(
        deal({
          currency: 'GBP',
          subsidiary: 'UK',
          account: { ...deal().account, taxId: 'GB1' },
          lines: [{ id: 'l', productCode: 'SEAT', quantity: 1, unitAmount: 1 }],
        }),
      ),
    ).toBe('product SEAT has no GBP price in the catalog');
    expect(
      await validationProblems(deal(), {
        ...PRICES,
        seat_usd: { id: 'price_seat', currency: 'USD', recurring: false },
      }),
    ).toBe('product SEAT: Stripe price seat_usd is not recurring');
  });

  it('reads only: a failed validation made no write through any client', async () => {
    const { deps, calls } = world({ prices: {} });
    await expect(runStep('validate', saga(), deps)).rejects.toMatchObject({ code: 'ValidationFailed' });
    expect(calls).toEqual([]);
  });
});

describe('the forward steps', () => {
  it('creates the ERP customer per CRM account, routed by the plan, and links it to the causing event', async () => {
    const { deps, calls, links } = world();
    const result = await runStep('upsertErpCustomer', saga({ plan: { ...plan, subsidiaryKey: 'US' } }), deps);
    expect(result).toEqual({ id: '501', externalId: 'salesforce-001000000000001AAA', created: true });
    expect(calls).toEqual(['erp.upsertCustomer salesforce-001000000000001AAA US']);
    expect(links.get('customer#salesforce#001000000000001AAA>netsuite')).toEqual({
      targetId: '501',
      causedBy: 'evt_won_1',
    });
  });

  it('does not count an ERP customer an earlier deal of the account linked as created here', async () => {
    const { deps } = world();
    await deps.links.record(
      { entity: 'customer', system: 'salesforce', id: '001000000000001AAA' },
      'netsuite',
      '501',
      'evt_earlier',
    );
    expect(await runStep('upsertErpCustomer', saga({ plan }), deps)).toMatchObject({ created: false });
    expect(
      await runStep(
        'upsertErpCustomer',
        saga({ plan, deal: deal({ existing: { ...deal().existing, erpCustomerId: '501' } }) }),
        world().deps,
      ),
    ).toMatchObject({ created: false });
  });

  it('links the billing customer to the CRM account, to the ERP customer and to its ERP subsidiary (the invoice flow finds both)', async () => {
    const { deps, calls, links } = world();
    const erpCustomer = { id: '501', externalId: 'salesforce-001000000000001AAA', created: true };
    expect(await runStep('upsertBillingCustomer', saga({ plan, erpCustomer }), deps)).toEqual({
      id: 'cus_1',
    });
    const key = idempotencyKey(deal(), wonEvent().data.version);
    expect(calls).toEqual([`billing.upsertCustomer ${key}`]);
    expect(links.get('customer#salesforce#001000000000001AAA>stripe')?.targetId).toBe('cus_1');
    expect(links.get('customer#stripe#cus_1>netsuite')?.targetId).toBe('501');
    expect(links.get('customerSubsidiary#stripe#cus_1>netsuite')?.targetId).toBe(plan.erpSubsidiaryId);
  });

  it('creates the subscription with the plan and a key from the deal and version; an earlier live one is not "created"', async () => {
    const { deps, calls, links } = world();
    const state = saga({ plan, billingCustomer: { id: 'cus_1' } });
    expect(await runStep('createSubscription', state, deps)).toEqual({ id: 'sub_1', created: true });
    expect(calls[0]).toBe(
      `billing.createSubscription cus_1 [{"priceId":"price_platform_usd","quantity":1}] ${idempotencyKey(deal(), wonEvent().data.version)}`,
    );
    expect(links.get('subscription#salesforce#006000000000001AAA>stripe')?.targetId).toBe('sub_1');
    const reused = saga({
      plan,
      billingCustomer: { id: 'cus_1' },
      deal: deal({ existing: { ...deal().existing, subscriptionId: 'sub_0' } }),
    });
    expect(await runStep('createSubscription', reused, world().deps)).toEqual({
      id: 'sub_0',
      created: false,
    });
  });

  it('upserts the sales order by deal with the sold prices, for the ERP customer', async () => {
    const { deps, calls, links } = world();
    const erpCustomer = { id: '501', externalId: 'salesforce-001000000000001AAA', created: true };
    expect(await runStep('createSalesOrder', saga({ plan, erpCustomer }), deps)).toEqual({
      id: '9001',
      externalId: 'salesforce-006000000000001AAA',
      created: true,
    });
    expect(calls).toEqual([
      'erp.upsertSalesOrder salesforce-006000000000001AAA 501 US [{"itemId":"100","quantity":1,"unitAmount":120000}]',
    ]);
    expect(links.get('salesOrder#salesforce#006000000000001AAA>netsuite')?.targetId).toBe('9001');
  });

  it('writes the ids and Activated back, and returns the contract.activated event to publish', async () => {
    const { deps, writeBacks } = world();
    const result = await runStep(
      'writeBack',
      saga({
        plan,
        erpCustomer: { id: '501', externalId: 'x', created: true },
        billingCustomer: { id: 'cus_1' },
        subscription: { id: 'sub_1', created: true },
        salesOrder: { id: '9001', externalId: 'y', created: true },
      }),
      deps,
    );
    expect(writeBacks).toEqual([
      {
        dealId: '006000000000001AAA',
        values: {
          billingCustomerId: 'cus_1',
          subscriptionId: 'sub_1',
          erpCustomerId: '501',
          salesOrderId: '9001',
          status: 'Activated',
        },
      },
    ]);
    const event = (result as { event: unknown }).event;
    const parsed = parseEvent(event, 'contract.activated');
    expect(parsed).toMatchObject({
      causationId: 'evt_won_1',
      correlationId: '006000000000001AAA',
      data: { dealVersion: '2026-03-01T10:00:00.000+0000', erpSubsidiaryId: '1', currency: 'USD' },
    });
    const again = await runStep(
      'writeBack',
      saga({
        plan,
        erpCustomer: { id: '501', externalId: 'x', created: true },
        billingCustomer: { id: 'cus_1' },
        subscription: { id: 'sub_1', created: true },
        salesOrder: { id: '9001', externalId: 'y', created: true },
      }),
      world().deps,
    );
    expect((again as { event: { id: string } }).event.id).toBe(parsed.id);
  });

  it('refuses to run a step without what an earlier step returns (a definition bug, not retried)', async () => {
    await expect(runStep('createSubscription', saga(), world().deps)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'SagaStateIncomplete',
    });
  });
});

describe('the compensations and the failure path', () => {
  it('closes the sales order, cancels the subscription and deactivates the customer by their external ids', async () => {
    const { deps, calls } = world();
    const state = saga({
      erpCustomer: { id: '501', externalId: 'salesforce-001000000000001AAA', created: true },
      subscription: { id: 'sub_1', created: true },
      salesOrder: { id: '9001', externalId: 'salesforce-006000000000001AAA', created: true },
    });
    await runStep('closeSalesOrder', state, deps);
    await runStep('cancelSubscription', state, deps);
    await runStep('deactivateErpCustomer', state, deps);
    expect(calls).toEqual([
      'erp.closeSalesOrder salesforce-006000000000001AAA',
      `billing.cancelSubscription sub_1 ${idempotencyKey(deal(), wonEvent().data.version)}`,
      'erp.deactivateCustomer salesforce-001000000000001AAA',
    ]);
  });

  const lambdaCause = (error: Error) =>
    JSON.stringify({ errorType: error.name, errorMessage: error.message, trace: [] });

  it('opens an exception with the code and what is left to undo, and announces it', async () => {
    const { deps, exceptions, published } = world();
    const result = await runStep(
      'openException',
      saga({
        failure: {
          CreateSalesOrder: {
            Error: 'PermanentError',
            Cause: lambdaCause(new Error('[USER_ERROR] NetSuite PUT answered 400: Acme Ltd is closed')),
          },
        },
        compensationFailures: { CancelSubscription: { Error: 'TransientError', Cause: '{}' } },
      }),
      deps,
    );
    expect(result).toEqual({
      exceptionId: 'exc_1',
      reason: 'creating the ERP sales order was rejected (USER_ERROR)',
    });
    expect(exceptions).toEqual([
      {
        flow: 'quote-to-cash',
        code: 'USER_ERROR',
        message:
          'creating the ERP sales order was rejected (USER_ERROR). Undo incomplete, finish by hand: CancelSubscription',
        eventId: 'evt_won_1',
      },
    ]);
    expect(published.map((e) => e.type)).toEqual(['ops.exception.opened']);
  });

  it('tells the CRM owner why in safe words, never the vendor message', async () => {
    const { deps, writeBacks } = world();
    await runStep(
      'notifyCrmOwner',
      saga({
        failure: {
          UpsertBillingCustomer: {
            Error: 'PermanentError',
            Cause: lambdaCause(new Error('[email_invalid] Stripe said: bob@@x is not an email')),
          },
        },
      }),
      deps,
    );
    expect(writeBacks).toEqual([
      {
        dealId: '006000000000001AAA',
        values: { status: 'Failed: creating the billing customer was rejected (email_invalid)' },
      },
    ]);
  });

  it('keeps the CRM status within a text field', async () => {
    const { deps, writeBacks } = world();
    const long = Array.from({ length: 40 }, (_, i) => `product P${i} is not in the catalog`).join('; ');
    await runStep(
      'notifyCrmOwner',
      saga({
        failure: {
          ValidateDeal: {
            Error: 'PermanentError',
            Cause: lambdaCause(
              new PermanentError(`[ValidationFailed] ${long}`, { code: 'ValidationFailed' }),
            ),
          },
        },
      }),
      deps,
    );
    expect(writeBacks[0]?.values.status).toMatch(/^Failed: product P0 is not in the catalog; /);
    expect(writeBacks[0]?.values.status.length).toBe(255);
  });

  it.each([
    [
      'a validation failure',
      'ValidationFailed',
      'the account has no billing address',
      {
        ValidateDeal: {
          Error: 'PermanentError',
          Cause: '{"errorMessage":"[ValidationFailed] the account has no billing address"}',
        },
      },
    ],
    [
      'transient errors that outlasted the retries',
      'rate_limit',
      'creating the subscription kept failing (rate_limit); gave up after retrying',
      {
        CreateSubscription: {
          Error: 'TransientError',
          Cause: '{"errorMessage":"[rate_limit] Stripe create subscription failed"}',
        },
      },
    ],
    [
      'a task timeout',
      'Timeout',
      'creating the ERP customer timed out',
      { UpsertErpCustomer: { Error: 'States.Timeout', Cause: 'Task timed out' } },
    ],
    [
      'a service integration error',
      'EventBridge.FailedEntry',
      'announcing the activated contract failed (EventBridge.FailedEntry)',
      { PublishContractActivated: { Error: 'EventBridge.FailedEntry', Cause: '[]' } },
    ],
    ['no recorded failure', 'Unknown', 'the saga failed for an unknown reason', undefined],
  ])('describes %s as code %s: "%s"', (_what, code, reason, failure) => {
    expect(describeFailure({ failure })).toEqual({ code, reason });
  });
});
