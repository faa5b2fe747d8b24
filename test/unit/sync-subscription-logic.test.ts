import type { LinkQuery, LinksRepository } from '../../lambdas/adapters/aws/links-repository';
import type { PriceCatalog } from '../../lambdas/adapters/stripe/price-catalog';
import type {
  SalesOrderChange,
  SalesOrderPort,
  SalesOrderState,
  SubscriptionState,
} from '../../lambdas/domain/sales-order-change';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';
import { type SyncSubscriptionDeps, syncSubscription } from '../../lambdas/sync-subscription/logic';
import type { SubscriptionSyncMapping } from '../../lambdas/sync-subscription/schema';
import { subscriptionEvent } from '../support/canonical-events';

const SUB = 'sub_1Pgc6rB7WZ01zgkWNy0Cn5nw';
const DEAL = '006000000000001AAA';
const EXTERNAL_ID = `salesforce-${DEAL}`;

const mapping: SubscriptionSyncMapping = {
  catalog: {
    PLATFORM: { netsuiteItemId: '100', stripeLookupKeys: { USD: 'platform_monthly_usd' } },
    SEAT: { netsuiteItemId: '101', stripeLookupKeys: { USD: 'seat_monthly_usd' } },
  },
  salesforce: { statusField: 'Subscription_Status__c', contractValueField: 'Contract_Value__c' },
  hubspot: {
    statusProperty: 'revbridge_subscription_status',
    contractValueProperty: 'revbridge_contract_value',
  },
  effectiveDateField: 'custcol_revbridge_effective_date',
};

const subscription = (
  seats: number,
  options: {
    status?: string;
    seatPrice?: number;
    seatKey?: string | null;
    metadata?: Record<string, string>;
  } = {},
): SubscriptionState => ({
  id: SUB,
  status: options.status ?? 'active',
  currency: 'USD',
  endedAt: options.status === 'canceled' ? '2026-12-05T09:00:00.000Z' : null,
  metadata: options.metadata ?? { revbridge_deal_id: DEAL, revbridge_crm: 'salesforce' },
  items: [
    {
      id: 'si_1',
      priceId: 'price_platform',
      lookupKey: 'platform_monthly_usd',
      productId: 'prod_platform',
      unitAmount: 120_000,
      quantity: 1,
    },
    {
      id: 'si_2',
      priceId: options.seatKey === undefined ? 'price_seat' : 'price_seat_old',
      lookupKey: options.seatKey === undefined ? 'seat_monthly_usd' : options.seatKey,
      productId: 'prod_seat',
      unitAmount: options.seatPrice ?? 2_500,
      quantity: seats,
    },
  ],
});

/** An ERP that keeps one order and applies changes as NetSuite's sublist replace would. */
class FakeOrders implements SalesOrderPort {
  order: SalesOrderState = {
    id: '500',
    externalId: EXTERNAL_ID,
    lines: [
      { line: 1, itemId: '100', quantity: 1, unitAmount: 120_000, isClosed: false },
      { line: 2, itemId: '101', quantity: 5, unitAmount: 2_500, isClosed: false },
    ],
  };
  readonly changes: SalesOrderChange[] = [];
  /** Runs after each write: another writer acting in between. */
  afterWrite: (() => void) | undefined;

  async getSalesOrder(externalId: string) {
    return externalId === this.order.externalId ? this.order : null;
  }

  async applySalesOrderChange(order: SalesOrderState, change: SalesOrderChange) {
    this.changes.push(change);
    this.order = {
      ...order,
      lines: [
        ...order.lines.map((line) => (change.close.includes(line.line) ? { ...line, isClosed: true } : line)),
        ...change.add.map((line, index) => ({
          line: order.lines.length + index + 1,
          itemId: line.itemId,
          quantity: line.quantity,
          unitAmount: line.unitAmount,
          isClosed: false,
        })),
      ],
    };
    this.afterWrite?.();
  }

  open() {
    return this.order.lines.filter((line) => !line.isClosed).map((l) => [l.itemId, l.quantity, l.unitAmount]);
  }
}

const setup = (
  state: SubscriptionState | null,
  links: Record<string, string> = {
    [`subscription#stripe#${SUB}|salesforce`]: DEAL,
    [`salesOrder#salesforce#${DEAL}|netsuite`]: '500',
  },
) => {
  const orders = new FakeOrders();
  const crmWrites: { crm: string; dealId: string; fields: Record<string, string | number> }[] = [];
  const priceReads: string[][] = [];
  const billing = { current: state, reads: 0 };
  const linksRepo: LinksRepository = {
    find: async (queries: readonly LinkQuery[]) =>
      queries.map((q) => links[`${q.key.entity}#${q.key.system}#${q.key.id}|${q.target}`]),
    record: async () => {
      throw new Error('the flow records no links');
    },
  };
  const prices: PriceCatalog = {
    findByLookupKeys: async (keys) => {
      priceReads.push([...keys]);
      return new Map([
        [
          'seat_monthly_usd',
          { id: 'price_seat_new', currency: 'USD', recurring: true, product: 'prod_seat' },
        ],
      ]);
    },
  };
  const deps: SyncSubscriptionDeps = {
    billing: {
      getSubscription: async () => {
        billing.reads += 1;
        return billing.current;
      },
    },
    prices,
    salesOrders: orders,
    links: linksRepo,
    crm: (crm) => ({
      writeDealFields: async (dealId, fields) => {
        crmWrites.push({ crm, dealId, fields: { ...fields } });
      },
    }),
    mapping,
  };
  return { deps, orders, crmWrites, priceReads, billing };
};

const updated = subscriptionEvent('billing.subscription.updated', { id: SUB });
const canceled = subscriptionEvent('billing.subscription.canceled', { id: SUB, status: 'canceled' });

describe('syncing a billing subscription to its ERP sales order and CRM deal', () => {
  it('adds a line for more seats, dated by the event, and shows status and contract value on the opportunity', async () => {
    const { deps, orders, crmWrites } = setup(subscription(8));
    const result = await syncSubscription(updated, deps);
    expect(result).toMatchObject({ outcome: 'synced', orderChanged: true, linesAdded: 1, linesClosed: 0 });
    expect(orders.changes[0]?.add).toEqual([
      expect.objectContaining({
        itemId: '101',
        quantity: 3,
        unitAmount: 2_500,
        effectiveDate: updated.occurredAt.slice(0, 10),
      }),
    ]);
    expect(orders.open()).toEqual([
      ['100', 1, 120_000],
      ['101', 5, 2_500],
      ['101', 3, 2_500],
    ]);
    expect(crmWrites).toEqual([
      {
        crm: 'salesforce',
        dealId: DEAL,
        fields: { Subscription_Status__c: 'active', Contract_Value__c: 1400 },
      },
    ]);
  });

  it('changes nothing in the ERP for an event whose change is already there (a duplicate or a stale event)', async () => {
    const { deps, orders, crmWrites, billing } = setup(subscription(5));
    const result = await syncSubscription(updated, deps);
    expect(result).toMatchObject({ outcome: 'synced', orderChanged: false });
    expect(orders.changes).toEqual([]);
    // Re-read once, not trusted from the event; the CRM gets what billing says now.
    expect(billing.reads).toBe(1);
    expect(crmWrites[0]?.fields).toEqual({ Subscription_Status__c: 'active', Contract_Value__c: 1325 });
  });

  it('applies what billing says now, not what an older event carried', async () => {
    // The event's copy says canceled; billing has the subscription active with 8 seats since.
    const { deps, orders } = setup(subscription(8));
    await syncSubscription(canceled, deps);
    expect(orders.open()).toEqual([
      ['100', 1, 120_000],
      ['101', 5, 2_500],
      ['101', 3, 2_500],
    ]);
  });

  it('closes every open line of a canceled subscription, dated by its end, and zeroes the contract value', async () => {
    const { deps, orders, crmWrites } = setup(subscription(5, { status: 'canceled' }));
    const result = await syncSubscription(canceled, deps);
    expect(result).toMatchObject({ outcome: 'synced', ended: true, linesClosed: 2, linesAdded: 0 });
    expect(orders.open()).toEqual([]);
    expect(orders.order.lines.map((l) => [l.quantity, l.unitAmount])).toEqual([
      [1, 120_000],
      [5, 2_500],
    ]);
    expect(crmWrites[0]?.fields).toEqual({ Subscription_Status__c: 'canceled', Contract_Value__c: 0 });
  });

  it('re-prices seats whose price handed its lookup key to a new one: old lines closed, a line at the new price', async () => {
    const { deps, orders, priceReads } = setup(subscription(5, { seatPrice: 3_000 }));
    await syncSubscription(updated, deps);
    expect(orders.open()).toEqual([
      ['100', 1, 120_000],
      ['101', 5, 3_000],
    ]);
    // Every price holds a catalog key: no price list was read.
    expect(priceReads).toEqual([]);
  });

  it('maps an item still on an older price of a catalog product through the product that holds the key now', async () => {
    const { deps, orders, priceReads } = setup(subscription(6, { seatKey: null }));
    await syncSubscription(updated, deps);
    expect(priceReads).toEqual([['platform_monthly_usd', 'seat_monthly_usd']]);
    expect(orders.open()).toContainEqual(['101', 1, 2_500]);
  });

  it('follows a change that lands while it applies its own, ending on what billing says last', async () => {
    const { deps, orders, billing } = setup(subscription(8));
    orders.afterWrite = () => {
      orders.afterWrite = undefined;
      billing.current = subscription(10);
    };
    await syncSubscription(updated, deps);
    expect(
      orders
        .open()
        .filter(([item]) => item === '101')
        .reduce((sum, [, q]) => sum + Number(q), 0),
    ).toBe(10);
  });

  it('writes the HubSpot deal properties for a subscription of a HubSpot deal', async () => {
    const { deps, crmWrites } = setup(subscription(5), {
      [`subscription#stripe#${SUB}|hubspot`]: '987654',
      'salesOrder#hubspot#987654|netsuite': '500',
    });
    deps.salesOrders.getSalesOrder = async () => ({
      ...new FakeOrders().order,
      externalId: 'hubspot-987654',
    });
    await syncSubscription(updated, deps);
    expect(crmWrites).toEqual([
      {
        crm: 'hubspot',
        dealId: '987654',
        fields: { revbridge_subscription_status: 'active', revbridge_contract_value: 1325 },
      },
    ]);
  });

  it('ignores a subscription no revbridge deal is behind', async () => {
    const { deps, orders, crmWrites } = setup(subscription(8, { metadata: {} }), {});
    expect(await syncSubscription(updated, deps)).toEqual({ outcome: 'not-managed', subscriptionId: SUB });
    expect(orders.changes).toEqual([]);
    expect(crmWrites).toEqual([]);
  });

  it('retries while the saga has not linked the subscription or made its sales order yet', async () => {
    const unlinked = setup(subscription(8), {});
    await expect(syncSubscription(updated, unlinked.deps)).rejects.toMatchObject({
      name: 'TransientError',
      code: 'SubscriptionNotLinkedYet',
    });
    const noOrder = setup(subscription(8), { [`subscription#stripe#${SUB}|salesforce`]: DEAL });
    const error = await syncSubscription(updated, noOrder.deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'SalesOrderNotLinkedYet' });
  });

  it('does nothing for a subscription that ended before its saga made a sales order', async () => {
    const { deps, crmWrites } = setup(subscription(5, { status: 'canceled' }), {
      [`subscription#stripe#${SUB}|salesforce`]: DEAL,
    });
    expect(await syncSubscription(canceled, deps)).toEqual({ outcome: 'no-order', subscriptionId: SUB });
    expect(crmWrites).toEqual([]);
  });

  it('fails for good when billing does not know the subscription or the ERP has no such order', async () => {
    await expect(syncSubscription(updated, setup(null).deps)).rejects.toMatchObject({
      code: 'SubscriptionNotFound',
    });
    const { deps, orders } = setup(subscription(8));
    orders.order = { ...orders.order, externalId: 'someone-else' };
    const error = await syncSubscription(updated, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'SalesOrderNotFound' });
  });

  it('fails for good on a price the catalog does not map, writing nothing', async () => {
    const state = subscription(5);
    const { deps, orders, crmWrites } = setup({
      ...state,
      items: [
        ...state.items,
        {
          ...state.items[0],
          id: 'si_x',
          priceId: 'price_x',
          lookupKey: 'addon_usd',
          productId: 'prod_x',
        } as never,
      ],
    });
    await expect(syncSubscription(updated, deps)).rejects.toMatchObject({ code: 'ProductNotMapped' });
    expect(orders.changes).toEqual([]);
    expect(crmWrites).toEqual([]);
  });
});
