import type { CatalogPrice } from '../../lambdas/adapters/stripe/price-catalog';
import {
  type AmendContractDeps,
  amendmentKey,
  describeFailure,
  runStep,
  type Saga,
} from '../../lambdas/amend-contract/logic';
import type { Plan } from '../../lambdas/amend-contract/schema';
import {
  AMENDMENT_METADATA_KEY,
  type AmendmentLine,
  itemsAdding,
  itemsRemoving,
  type SubscriptionAmendments,
  withoutAmendment,
} from '../../lambdas/domain/amendment';
import type { CrmClient, Deal, DealWriteBack } from '../../lambdas/domain/deal';
import type { CanonicalEvent } from '../../lambdas/domain/events';
import type {
  SalesOrderChange,
  SalesOrderPort,
  SalesOrderState,
  SubscriptionState,
} from '../../lambdas/domain/sales-order-change';
import type { QuoteToCashMapping } from '../../lambdas/quote-to-cash/schema';
import { isPermanent } from '../../lambdas/shared/errors';
import { dealWonEvent } from '../support/canonical-events';

const mapping: QuoteToCashMapping = {
  catalog: {
    PLATFORM: { netsuiteItemId: '100', stripeLookupKeys: { USD: 'platform_usd' } },
    SEAT: { netsuiteItemId: '101', stripeLookupKeys: { USD: 'seat_usd' } },
  },
  subsidiaries: { US: { netsuiteSubsidiaryId: '1', currencies: ['USD'], requireTaxId: false } },
  defaultSubsidiaryByCurrency: { USD: 'US' },
};
const PRICES: Record<string, CatalogPrice> = {
  platform_usd: { id: 'price_platform', currency: 'USD', recurring: true },
  seat_usd: { id: 'price_seat', currency: 'USD', recurring: true },
};

const deal = (overrides: Partial<Deal> = {}): Deal => ({
  crm: 'hubspot',
  dealId: '1234567',
  version: '2026-03-01T10:00:00.000Z',
  name: 'Globex upsell',
  stage: 'closedwon',
  isWon: true,
  currency: 'USD',
  account: { id: '99', name: 'Globex', email: null, billingAddress: null, taxId: null },
  subsidiary: null,
  lines: [{ id: 'l1', productCode: 'SEAT', quantity: 5, unitAmount: 2_500 }],
  existing: { billingCustomerId: null, subscriptionId: null, erpCustomerId: null, salesOrderId: null },
  amends: '7000001',
  ...overrides,
});
const ORIGINAL = deal({
  dealId: '7000001',
  amends: null,
  lines: [],
  existing: { billingCustomerId: 'cus_1', subscriptionId: 'sub_1', erpCustomerId: '10', salesOrderId: '20' },
});

/** Billing that applies amendments like the Stripe client: by metadata, so twice adds once. */
const fakeBilling = (initial: SubscriptionState) => {
  let subscription = initial;
  const calls: string[] = [];
  const update = (items: ReturnType<typeof itemsAdding>, marker: string) => {
    let next = [...subscription.items];
    for (const item of items) {
      if ('deleted' in item) next = next.filter((i) => i.id !== item.id);
      else if ('id' in item)
        next = next.map((i) => (i.id === item.id ? { ...i, quantity: item.quantity } : i));
      else
        next.push({
          id: `si_${item.price}`,
          priceId: item.price,
          lookupKey: null,
          productId: 'p',
          unitAmount: 2_500,
          quantity: item.quantity,
        });
    }
    subscription = { ...subscription, items: next, metadata: { [AMENDMENT_METADATA_KEY]: marker } };
  };
  const billing: SubscriptionAmendments = {
    async getSubscription() {
      return subscription;
    },
    async applyAmendment(_id, lines, key) {
      calls.push(`apply ${key}`);
      if (subscription.metadata[AMENDMENT_METADATA_KEY] !== key)
        update(itemsAdding(subscription, lines), key);
      return subscription;
    },
    async revertAmendment(_id, lines, key) {
      calls.push(`revert ${key}`);
      if (subscription.metadata[AMENDMENT_METADATA_KEY] !== key) return 'not-applied';
      update(itemsRemoving(subscription, lines), '');
      return 'reverted';
    },
  };
  return { billing, calls, current: () => subscription };
};

const activeSubscription = (overrides: Partial<SubscriptionState> = {}): SubscriptionState => ({
  id: 'sub_1',
  status: 'active',
  currency: 'USD',
  endedAt: null,
  metadata: {},
  items: [
    {
      id: 'si_platform',
      priceId: 'price_platform',
      lookupKey: 'platform_usd',
      productId: 'p1',
      unitAmount: 120_000,
      quantity: 1,
    },
    {
      id: 'si_seat',
      priceId: 'price_seat',
      lookupKey: 'seat_usd',
      productId: 'p2',
      unitAmount: 2_500,
      quantity: 10,
    },
  ],
  ...overrides,
});

const fakeOrders = () => {
  let order: SalesOrderState = {
    id: '20',
    externalId: 'hubspot-7000001',
    lines: [
      { line: 1, itemId: '100', quantity: 1, unitAmount: 120_000, isClosed: false },
      { line: 2, itemId: '101', quantity: 10, unitAmount: 2_500, isClosed: false },
    ],
  };
  const changes: SalesOrderChange[] = [];
  const port: SalesOrderPort = {
    async getSalesOrder(externalId) {
      return externalId === order.externalId ? order : null;
    },
    async applySalesOrderChange(current, change) {
      changes.push(change);
      order = {
        ...current,
        lines: [
          ...current.lines.map((line) =>
            change.close.includes(line.line) ? { ...line, isClosed: true } : line,
          ),
          ...change.add.map((line, i) => ({
            line: current.lines.length + i + 1,
            itemId: line.itemId,
            quantity: line.quantity,
            unitAmount: line.unitAmount,
            isClosed: false,
          })),
        ],
      };
    },
  };
  return { port, changes, order: () => order };
};

const world = (options: { original?: Deal | null; subscription?: SubscriptionState } = {}) => {
  const billing = fakeBilling(options.subscription ?? activeSubscription());
  const orders = fakeOrders();
  const writeBacks: { dealId: string; values: DealWriteBack }[] = [];
  const exceptions: { flow: string; code: string; message: string }[] = [];
  const published: CanonicalEvent[] = [];
  const crm: CrmClient = {
    async getDeal(id) {
      return id === '7000001' ? (options.original === undefined ? ORIGINAL : options.original) : null;
    },
    async writeBack(dealId, values) {
      writeBacks.push({ dealId, values });
    },
  };
  const deps: AmendContractDeps = {
    crm: () => crm,
    billing: billing.billing,
    prices: {
      async findByLookupKeys(keys) {
        return new Map(keys.flatMap((key) => (PRICES[key] ? [[key, PRICES[key]] as const] : [])));
      },
    },
    salesOrders: orders.port,
    exceptions: {
      async open(flow, code, message, event) {
        exceptions.push({ flow, code, message });
        return { exceptionId: 'exc_1', flow, code, message, event };
      },
    },
    publisher: {
      async publish(events) {
        published.push(...events);
      },
    },
    mapping,
    prorationBehavior: 'create_prorations',
    now: () => new Date('2026-03-02T00:00:00.000Z'),
  };
  return { deps, billing, orders, writeBacks, exceptions, published };
};

const sagaOf = (overrides: Partial<Saga> = {}): Saga => ({
  event: dealWonEvent(),
  deal: deal(),
  ...overrides,
});
const KEY = amendmentKey(deal(), dealWonEvent().data.version);

/** Runs the forward steps as the state machine does, each result under its ResultPath. */
const runForward = async (deps: AmendContractDeps) => {
  const plan = (await runStep('validate', sagaOf(), deps)) as Plan;
  const subscription = (await runStep('changeSubscription', sagaOf({ plan }), deps)) as {
    id: string;
    contractValue: number;
  };
  const salesOrder = (await runStep('changeSalesOrder', sagaOf({ plan, subscription }), deps)) as {
    id: string;
    changed: boolean;
  };
  return { plan, subscription, salesOrder };
};

describe('the amendment saga steps', () => {
  it('plans the change from the amendment and the contract it amends', async () => {
    const { deps } = world();
    expect(await runStep('validate', sagaOf(), deps)).toEqual({
      amendsDealId: '7000001',
      subscriptionId: 'sub_1',
      salesOrderExternalId: 'hubspot-7000001',
      lines: [{ priceId: 'price_seat', quantity: 5 }],
      effectiveDate: '2026-03-01',
    });
  });

  it('refuses an amendment of a contract that is not active, listing every problem, before any write', async () => {
    const { deps, billing } = world({
      original: { ...ORIGINAL, currency: 'EUR', existing: { ...ORIGINAL.existing, salesOrderId: null } },
    });
    const saga = sagaOf({
      deal: deal({ lines: [{ id: 'l', productCode: 'LEGACY', quantity: 1, unitAmount: 1 }] }),
    });
    const error = await runStep('validate', saga, deps).catch((e: unknown) => e);
    expect(isPermanent(error) && error.code).toBe('ValidationFailed');
    expect((error as Error).message.split('; ')).toEqual([
      'the amended deal 7000001 has no activated contract',
      'the amendment is in USD, the contract in EUR',
      'product LEGACY is not in the catalog',
    ]);
    expect(billing.calls).toEqual([]);
  });

  it('refuses an amendment of an amendment, and a contract whose sales order the ERP does not have', async () => {
    const chained = world({ original: { ...ORIGINAL, amends: '6000001' } });
    await expect(runStep('validate', sagaOf(), chained.deps)).rejects.toThrow(
      'the amended deal 7000001 is itself an amendment: name the deal of the contract (6000001)',
    );
    const { deps } = world();
    const noOrder = { ...deps, salesOrders: { ...deps.salesOrders, getSalesOrder: async () => null } };
    await expect(runStep('validate', sagaOf(), noOrder)).rejects.toThrow(
      "the contract's sales order hubspot-7000001 is not in the ERP",
    );
  });

  it('refuses a canceled subscription and a deal that names no deal', async () => {
    const canceled = world({ subscription: activeSubscription({ status: 'canceled' }) });
    await expect(runStep('validate', sagaOf(), canceled.deps)).rejects.toThrow(
      "the contract's subscription sub_1 is canceled, not active",
    );
    const none = world();
    await expect(runStep('validate', sagaOf({ deal: deal({ amends: null }) }), none.deps)).rejects.toThrow(
      'the deal does not name the deal it amends',
    );
  });

  it('adds the seats to the subscription and a line to the order, once however often a step runs', async () => {
    const { deps, billing, orders } = world();
    const { plan, subscription, salesOrder } = await runForward(deps);
    expect(subscription).toEqual({ id: 'sub_1', contractValue: 120_000 + 15 * 2_500 });
    expect(salesOrder).toEqual({ id: '20', changed: true });
    await runStep('changeSubscription', sagaOf({ plan }), deps);
    expect(await runStep('changeSalesOrder', sagaOf({ plan, subscription }), deps)).toEqual({
      id: '20',
      changed: false,
    });
    expect(billing.current().items.map((i) => i.quantity)).toEqual([1, 15]);
    expect(billing.calls).toEqual([`apply ${KEY}`, `apply ${KEY}`]);
    expect(orders.changes).toHaveLength(1);
    expect(orders.order().lines.map((l) => [l.itemId, l.quantity, l.isClosed])).toEqual([
      ['100', 1, false],
      ['101', 10, false],
      ['101', 5, false],
    ]);
    expect(orders.changes[0]?.add[0]?.effectiveDate).toBe('2026-03-01');
  });

  it('writes Amended back and builds contract.amended with the new contract value', async () => {
    const { deps, writeBacks } = world();
    const forward = await runForward(deps);
    const result = (await runStep('writeBack', sagaOf(forward), deps)) as {
      event: CanonicalEvent<'contract.amended'>;
    };
    expect(writeBacks).toEqual([
      { dealId: '1234567', values: { subscriptionId: 'sub_1', salesOrderId: '20', status: 'Amended' } },
    ]);
    expect(result.event).toMatchObject({
      type: 'contract.amended',
      causationId: 'evt_won_1',
      data: { amendsDealId: '7000001', contractValue: 157_500, prorationBehavior: 'create_prorations' },
    });
  });

  it('undoes in reverse: the order back to the subscription as it was, then the seats taken back', async () => {
    const { deps, billing, orders } = world();
    const { plan } = await runForward(deps);
    expect(await runStep('restoreSalesOrder', sagaOf({ plan }), deps)).toEqual({ id: '20', changed: true });
    expect(await runStep('revertSubscription', sagaOf({ plan }), deps)).toEqual({ outcome: 'reverted' });
    expect(billing.current().items.map((i) => i.quantity)).toEqual([1, 10]);
    // Fewer seats at a price: the shared sales order change closes that price's lines (never deleting
    // or rewriting one) and adds one line with the quantity as it was.
    expect(orders.order().lines.map((l) => [l.itemId, l.quantity, l.isClosed])).toEqual([
      ['100', 1, false],
      ['101', 10, true],
      ['101', 5, true],
      ['101', 10, false],
    ]);
    // Run again (a retried compensation), they change nothing more.
    expect(await runStep('restoreSalesOrder', sagaOf({ plan }), deps)).toEqual({ id: '20', changed: false });
    expect(await runStep('revertSubscription', sagaOf({ plan }), deps)).toEqual({ outcome: 'not-applied' });
  });

  it('opens one exception naming the failed step and tells the CRM owner', async () => {
    const { deps, exceptions, writeBacks } = world();
    const failed = sagaOf({
      failure: {
        ChangeSalesOrder: {
          Error: 'PermanentError',
          Cause: JSON.stringify({ errorMessage: '[Rejected] 400' }),
        },
      },
      compensationFailures: { RevertSubscription: { Error: 'TransientError' } },
    });
    expect(await runStep('openException', failed, deps)).toEqual({
      exceptionId: 'exc_1',
      reason: 'changing the ERP sales order was rejected (Rejected)',
    });
    expect(exceptions[0]).toMatchObject({
      flow: 'amend-contract',
      code: 'Rejected',
      message: expect.stringContaining('finish by hand: RevertSubscription'),
    });
    await runStep('notifyCrmOwner', failed, deps);
    expect(writeBacks[0]?.values.status).toBe('Failed: changing the ERP sales order was rejected (Rejected)');
    expect(describeFailure({}).code).toBe('Unknown');
  });
});

describe('amendment item arithmetic', () => {
  const lines: AmendmentLine[] = [
    { priceId: 'price_seat', quantity: 3 },
    { priceId: 'price_new', quantity: 2 },
  ];
  it('adds to an item the subscription has and adds an item it does not', () => {
    expect(itemsAdding(activeSubscription(), lines)).toEqual([
      { id: 'si_seat', quantity: 13 },
      { price: 'price_new', quantity: 2 },
    ]);
  });
  it('takes back to the quantity before, removing an item the amendment added', () => {
    const amended = activeSubscription({
      items: [
        ...activeSubscription().items.map((i) => (i.id === 'si_seat' ? { ...i, quantity: 13 } : i)),
        {
          id: 'si_new',
          priceId: 'price_new',
          lookupKey: null,
          productId: 'p3',
          unitAmount: 100,
          quantity: 2,
        },
      ],
      metadata: { [AMENDMENT_METADATA_KEY]: 'k' },
    });
    expect(itemsRemoving(amended, lines)).toEqual([
      { id: 'si_seat', quantity: 10 },
      { id: 'si_new', deleted: true },
    ]);
    expect(withoutAmendment(amended, lines, 'k').items.map((i) => [i.id, i.quantity])).toEqual([
      ['si_platform', 1],
      ['si_seat', 10],
    ]);
    // Without this amendment's mark, the subscription is already as it was.
    expect(withoutAmendment(amended, lines, 'other')).toBe(amended);
  });
});
