import {
  catalogItemResolver,
  computeSalesOrderChange,
  contractValue,
  isEmptyChange,
  type OrderLine,
  type SalesOrderChange,
  type SalesOrderState,
  type SubscriptionState,
  syncSalesOrderToSubscription,
} from '../../lambdas/domain/sales-order-change';
import { PermanentError } from '../../lambdas/shared/errors';

const catalog = {
  PLATFORM: { netsuiteItemId: '100', stripeLookupKeys: { USD: 'platform_monthly_usd' } },
  SEAT: { netsuiteItemId: '101', stripeLookupKeys: { USD: 'seat_monthly_usd' } },
};
const itemFor = catalogItemResolver(catalog, new Map([['seat_monthly_usd', 'prod_seat']]));

const subscription = (
  items: { lookupKey: string | null; unitAmount: number; quantity: number; productId?: string }[],
  status = 'active',
): SubscriptionState => ({
  id: 'sub_1',
  status,
  currency: 'USD',
  endedAt: status === 'canceled' ? '2026-12-03T10:00:00.000Z' : null,
  metadata: {},
  items: items.map((item, index) => ({
    id: `si_${index}`,
    priceId: `price_${index}`,
    lookupKey: item.lookupKey,
    productId: item.productId ?? (item.lookupKey?.startsWith('seat') ? 'prod_seat' : 'prod_platform'),
    unitAmount: item.unitAmount,
    quantity: item.quantity,
  })),
});

const order = (lines: Omit<OrderLine, 'line'>[]): SalesOrderState => ({
  id: '500',
  externalId: 'salesforce-006A',
  lines: lines.map((line, index) => ({ ...line, line: index + 1 })),
});

/** What the ERP holds after the change, as the adapter would write it. */
const applied = (before: SalesOrderState, change: SalesOrderChange): SalesOrderState => ({
  ...before,
  lines: [
    ...before.lines.map((line) => (change.close.includes(line.line) ? { ...line, isClosed: true } : line)),
    ...change.add.map((line, index) => ({
      line: before.lines.length + index + 1,
      itemId: line.itemId,
      quantity: line.quantity,
      unitAmount: line.unitAmount,
      isClosed: false,
    })),
  ],
});

const initial = order([
  { itemId: '100', quantity: 1, unitAmount: 120_000, isClosed: false },
  { itemId: '101', quantity: 5, unitAmount: 2_500, isClosed: false },
]);
const DATE = '2026-12-03';

describe('computing a sales order change from a subscription', () => {
  it('adds a line for the extra seats at the same price and leaves the billed lines alone', () => {
    const change = computeSalesOrderChange(
      subscription([
        { lookupKey: 'platform_monthly_usd', unitAmount: 120_000, quantity: 1 },
        { lookupKey: 'seat_monthly_usd', unitAmount: 2_500, quantity: 8 },
      ]),
      initial,
      itemFor,
      DATE,
    );
    expect(change.close).toEqual([]);
    expect(change.add).toEqual([
      expect.objectContaining({ itemId: '101', quantity: 3, unitAmount: 2_500, effectiveDate: DATE }),
    ]);
  });

  it('closes the old line and adds one at the new price when the price changes', () => {
    const change = computeSalesOrderChange(
      subscription([
        { lookupKey: 'platform_monthly_usd', unitAmount: 120_000, quantity: 1 },
        // The new price took the lookup key over; the old one kept its product.
        { lookupKey: 'seat_monthly_usd', unitAmount: 3_000, quantity: 5 },
      ]),
      initial,
      itemFor,
      DATE,
    );
    expect(change.close).toEqual([2]);
    expect(change.add).toEqual([expect.objectContaining({ itemId: '101', quantity: 5, unitAmount: 3_000 })]);
  });

  it('closes the line and adds the remaining quantity when seats go down', () => {
    const change = computeSalesOrderChange(
      subscription([
        { lookupKey: 'platform_monthly_usd', unitAmount: 120_000, quantity: 1 },
        { lookupKey: 'seat_monthly_usd', unitAmount: 2_500, quantity: 2 },
      ]),
      initial,
      itemFor,
      DATE,
    );
    expect(change).toEqual({
      close: [2],
      add: [expect.objectContaining({ itemId: '101', quantity: 2, unitAmount: 2_500 })],
    });
  });

  it('closes the lines of an item removed from the subscription', () => {
    const change = computeSalesOrderChange(
      subscription([{ lookupKey: 'platform_monthly_usd', unitAmount: 120_000, quantity: 1 }]),
      initial,
      itemFor,
      DATE,
    );
    expect(change).toEqual({ close: [2], add: [] });
  });

  it('closes every open line of a canceled subscription', () => {
    const before = applied(initial, { close: [2], add: [] });
    const change = computeSalesOrderChange(
      subscription([{ lookupKey: 'platform_monthly_usd', unitAmount: 120_000, quantity: 1 }], 'canceled'),
      before,
      itemFor,
      DATE,
    );
    expect(change).toEqual({ close: [1], add: [] });
  });

  it('gives no change the second time: computed again after it was applied', () => {
    const states = [
      subscription([
        { lookupKey: 'platform_monthly_usd', unitAmount: 120_000, quantity: 1 },
        { lookupKey: 'seat_monthly_usd', unitAmount: 2_500, quantity: 8 },
      ]),
      subscription([{ lookupKey: 'seat_monthly_usd', unitAmount: 3_000, quantity: 2 }]),
      subscription([{ lookupKey: 'seat_monthly_usd', unitAmount: 3_000, quantity: 2 }], 'canceled'),
    ];
    let current = initial;
    for (const state of states) {
      const change = computeSalesOrderChange(state, current, itemFor, DATE);
      expect(isEmptyChange(change)).toBe(false);
      current = applied(current, change);
      expect(isEmptyChange(computeSalesOrderChange(state, current, itemFor, DATE))).toBe(true);
    }
    // Nothing was ever rewritten: every line keeps the quantity and rate it was written with.
    expect(current.lines.slice(0, 2)).toEqual(initial.lines.map((line) => ({ ...line, isClosed: true })));
  });

  it('maps an item on a price that handed its lookup key over by its product', () => {
    const change = computeSalesOrderChange(
      subscription([
        { lookupKey: 'platform_monthly_usd', unitAmount: 120_000, quantity: 1 },
        { lookupKey: null, productId: 'prod_seat', unitAmount: 2_500, quantity: 5 },
      ]),
      initial,
      itemFor,
      DATE,
    );
    expect(isEmptyChange(change)).toBe(true);
  });

  it('refuses a price the catalog does not map, naming it', () => {
    expect(() =>
      computeSalesOrderChange(
        subscription([{ lookupKey: 'gold_monthly_usd', productId: 'prod_gold', unitAmount: 1, quantity: 1 }]),
        initial,
        itemFor,
        DATE,
      ),
    ).toThrow(
      expect.objectContaining({ code: 'ProductNotMapped', message: expect.stringContaining('gold') }),
    );
  });

  it('values the contract as one period of its items, and a canceled one at zero', () => {
    const items = [
      { lookupKey: 'platform_monthly_usd', unitAmount: 120_000, quantity: 1 },
      { lookupKey: 'seat_monthly_usd', unitAmount: 2_500, quantity: 8 },
    ];
    expect(contractValue(subscription(items))).toBe(140_000);
    expect(contractValue(subscription(items, 'canceled'))).toBe(0);
  });
});

describe('syncing a sales order to its subscription', () => {
  it('writes only when there is something to change', async () => {
    const writes: SalesOrderChange[] = [];
    let current = initial;
    const salesOrders = {
      getSalesOrder: async () => current,
      applySalesOrderChange: async (o: SalesOrderState, change: SalesOrderChange) => {
        writes.push(change);
        current = applied(o, change);
      },
    };
    const state = subscription([
      { lookupKey: 'platform_monthly_usd', unitAmount: 120_000, quantity: 1 },
      { lookupKey: 'seat_monthly_usd', unitAmount: 2_500, quantity: 6 },
    ]);
    const first = await syncSalesOrderToSubscription(state, 'so', { salesOrders, itemFor }, DATE);
    const second = await syncSalesOrderToSubscription(state, 'so', { salesOrders, itemFor }, DATE);
    expect([first.outcome, second.outcome]).toEqual(['changed', 'unchanged']);
    expect(writes).toHaveLength(1);
  });

  it('fails permanently when the order is not in the ERP', async () => {
    const salesOrders = { getSalesOrder: async () => null, applySalesOrderChange: async () => {} };
    const run = syncSalesOrderToSubscription(subscription([]), 'so', { salesOrders, itemFor }, DATE);
    await expect(run).rejects.toBeInstanceOf(PermanentError);
    await expect(run).rejects.toMatchObject({ code: 'SalesOrderNotFound' });
  });
});
