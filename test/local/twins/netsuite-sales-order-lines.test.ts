import { NetSuiteClient } from '../../../lambdas/adapters/netsuite/client';
import { NetSuiteSalesOrders } from '../../../lambdas/adapters/netsuite/sales-order-lines';
import { computeSalesOrderChange, type SubscriptionState } from '../../../lambdas/domain/sales-order-change';
import { type NetSuiteTwin, startNetSuiteTwin } from '../../../local/twins/netsuite';

/**
 * The contract between the sales order change adapter and the NetSuite twin: what the adapter reads
 * and sends (`replace=item` with the whole sublist, line keys, `isClosed`, the effective date column)
 * does in the twin what NetSuite documents, and the twin refuses what NetSuite refuses.
 */

type Line = {
  line: number;
  item: { id: string };
  quantity: number;
  rate: number;
  amount: number;
  isClosed?: boolean;
  description?: string;
  custcol_revbridge_effective_date?: string;
};

describe('sales order line changes on the NetSuite twin', () => {
  let twin: NetSuiteTwin;
  let client: NetSuiteClient;
  let orders: NetSuiteSalesOrders;
  let seq = 0;

  beforeAll(async () => {
    twin = await startNetSuiteTwin({ port: 0, faults: {}, processingMs: { min: 0, max: 0 } });
    client = new NetSuiteClient({
      baseUrl: twin.url,
      credentials: async () => ({ accountId: twin.account, ...twin.credentials }),
    });
    orders = new NetSuiteSalesOrders({ client });
  });
  afterAll(() => twin.close());

  /** A customer and a sales order for one platform and five seats, as the saga makes it. */
  const newOrder = async () => {
    seq += 1;
    const customer = await client.upsert('customer', `cust-${seq}`, {
      companyName: `Initech ${seq}`,
      subsidiary: { id: '1' },
    });
    const externalId = `salesforce-opp-${seq}`;
    await client.upsert('salesOrder', externalId, {
      entity: { id: customer },
      tranDate: '2026-12-01',
      item: {
        items: [
          { item: { id: '100' }, quantity: 1, rate: 1200, amount: 1200 },
          { item: { id: '101' }, quantity: 5, rate: 25, amount: 125 },
        ],
      },
    });
    return externalId;
  };
  const linesOf = (externalId: string) =>
    (twin.getByExternalId('salesOrder', externalId) as { item: { items: Line[] } }).item.items;
  const subscription = (seats: number, seatAmount = 2_500, status = 'active'): SubscriptionState => ({
    id: 'sub_1',
    status,
    currency: 'USD',
    endedAt: status === 'canceled' ? '2026-12-09T00:00:00.000Z' : null,
    metadata: {},
    items: [
      {
        id: 'si_1',
        priceId: 'p1',
        lookupKey: 'platform',
        productId: 'prod_p',
        unitAmount: 120_000,
        quantity: 1,
      },
      {
        id: 'si_2',
        priceId: 'p2',
        lookupKey: 'seat',
        productId: 'prod_s',
        unitAmount: seatAmount,
        quantity: seats,
      },
    ],
  });
  const itemFor = (item: { lookupKey: string | null }) => (item.lookupKey === 'platform' ? '100' : '101');
  const change = async (externalId: string, state: SubscriptionState, date: string) => {
    const order = await orders.getSalesOrder(externalId, 'USD');
    if (!order) throw new Error('no order');
    const computed = computeSalesOrderChange(state, order, itemFor, date);
    await orders.applySalesOrderChange(order, computed, 'USD');
    return computed;
  };

  it('reads the lines with their keys, quantities and rates in minor units', async () => {
    const externalId = await newOrder();
    const order = await orders.getSalesOrder(externalId, 'USD');
    expect(order?.lines.map((l) => [l.line, l.itemId, l.quantity, l.unitAmount, l.isClosed])).toEqual([
      [1, '100', 1, 120_000, false],
      [2, '101', 5, 2_500, false],
    ]);
    expect(await orders.getSalesOrder('salesforce-missing', 'USD')).toBeNull();
  });

  it('adds a keyed line with its effective date and leaves the lines already sold exactly as they were', async () => {
    const externalId = await newOrder();
    const before = linesOf(externalId);
    await change(externalId, subscription(8), '2026-12-03');
    const after = linesOf(externalId);
    expect(after.slice(0, 2)).toEqual(before);
    expect(after[2]).toMatchObject({
      line: 3,
      item: { id: '101' },
      quantity: 3,
      rate: 25,
      amount: 75,
      custcol_revbridge_effective_date: '2026-12-03',
    });
    // Applying the same subscription again computes nothing.
    expect(await change(externalId, subscription(8), '2026-12-04')).toEqual({ close: [], add: [] });
  });

  it('closes re-priced lines without touching their quantity or rate, and adds the new price', async () => {
    const externalId = await newOrder();
    await change(externalId, subscription(8), '2026-12-03');
    await change(externalId, subscription(8, 3_000), '2026-12-05');
    expect(
      linesOf(externalId).map((l) => [l.line, l.item.id, l.quantity, l.rate, l.isClosed ?? false]),
    ).toEqual([
      [1, '100', 1, 1200, false],
      [2, '101', 5, 25, true],
      [3, '101', 3, 25, true],
      [4, '101', 8, 30, false],
    ]);
  });

  it('closes every open line of a canceled subscription and keeps them on the order', async () => {
    const externalId = await newOrder();
    await change(externalId, subscription(5, 2_500, 'canceled'), '2026-12-09');
    const lines = linesOf(externalId);
    expect(lines.map((l) => [l.quantity, l.isClosed])).toEqual([
      [1, true],
      [5, true],
    ]);
    expect((twin.getByExternalId('salesOrder', externalId) as { total: number }).total).toBe(1325);
  });

  it('keeps line keys for good: a line left out under replace is removed, and its key is not reused', async () => {
    const externalId = await newOrder();
    const [first] = linesOf(externalId);
    await client.patchByExternalId(
      'salesOrder',
      externalId,
      { item: { items: [{ line: first?.line }, { item: { id: '101' }, quantity: 2, rate: 25 }] } },
      { replace: ['item'] },
    );
    expect(linesOf(externalId).map((l) => [l.line, l.item.id, l.quantity])).toEqual([
      [1, '100', 1],
      [3, '101', 2],
    ]);
  });

  it('refuses a line key the order does not have, changing nothing', async () => {
    const externalId = await newOrder();
    const before = linesOf(externalId);
    await expect(
      client.patchByExternalId(
        'salesOrder',
        externalId,
        { item: { items: [{ line: 9, isClosed: true }] } },
        { replace: ['item'] },
      ),
    ).rejects.toMatchObject({ name: 'PermanentError', status: 400 });
    expect(linesOf(externalId)).toEqual(before);
  });
});
