import { NetSuiteClient } from '../../lambdas/adapters/netsuite/client';
import { NetSuiteErpClient } from '../../lambdas/adapters/netsuite/erp-client';
import type { NetSuiteMapping } from '../../lambdas/adapters/netsuite/map';
import type { Deal } from '../../lambdas/domain/deal';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';
import { type NetSuiteTwin, startNetSuiteTwin } from '../../local/twins/netsuite';

const mapping: NetSuiteMapping = {
  subsidiaryId: '1',
  subsidiaryIds: { US: '1', UK: '2', EU: '3' },
  currencyIds: { USD: '1', GBP: '2', CAD: '3', EUR: '4' },
  productItemIds: {},
  defaultItemId: '100',
  taxItemId: '200',
  adjustmentItemId: '300',
};

const deal = (overrides: Partial<Deal> = {}): Deal => ({
  crm: 'hubspot',
  dealId: '4242',
  version: '2025-03-01T10:00:00.000Z',
  name: 'Globex - Platform',
  stage: 'closedwon',
  isWon: true,
  currency: 'EUR',
  account: {
    id: '777',
    name: 'Globex GmbH',
    email: 'ap@globex.example',
    billingAddress: {
      line1: 'Unter den Linden 1',
      line2: null,
      city: 'Berlin',
      postalCode: '10117',
      state: null,
      country: 'DE',
    },
    taxId: 'DE123456789',
  },
  subsidiary: 'EU',
  lines: [],
  existing: { billingCustomerId: null, subscriptionId: null, erpCustomerId: null, salesOrderId: null },
  ...overrides,
});

const lines = [
  { itemId: '100', quantity: 1, unitAmount: 120_050 },
  { itemId: '101', quantity: 12, unitAmount: 2_599 },
];

describe('NetSuite ERP client against the NetSuite twin', () => {
  let twin: NetSuiteTwin;
  let erp: NetSuiteErpClient;
  const urls: string[] = [];
  let sequence = 0;
  const nextId = (prefix: string) => `${prefix}-${++sequence}`;

  beforeAll(async () => {
    twin = await startNetSuiteTwin({ port: 0, faults: {}, processingMs: { min: 0, max: 0 } });
    const client = new NetSuiteClient({
      baseUrl: twin.url,
      credentials: async () => ({ accountId: twin.account, ...twin.credentials }),
      fetchImpl: (async (url: string, init: RequestInit) => {
        urls.push(`${init.method} ${url}`);
        return fetch(url, init);
      }) as typeof fetch,
    });
    erp = new NetSuiteErpClient({ client, mapping, today: () => '2025-03-01' });
  });

  afterEach(() => {
    twin.faults.set({});
  });

  afterAll(async () => {
    await twin.close();
  });

  it('upserts the customer by external id in the routed subsidiary, with currency, tax id and address', async () => {
    const externalId = nextId('hubspot-777');
    const id = await erp.upsertCustomer(deal(), externalId);
    const again = await erp.upsertCustomer(deal(), externalId);

    expect(again).toBe(id);
    expect(twin.records('customer').filter((c) => c.externalId === externalId)).toHaveLength(1);
    expect(twin.writeCount('customer', externalId)).toBe(2);
    const customer = twin.getByExternalId('customer', externalId);
    expect(customer).toMatchObject({
      id,
      companyName: 'Globex GmbH',
      email: 'ap@globex.example',
      isPerson: false,
      isInactive: false,
      subsidiary: { id: '3' },
      currency: { id: '4' },
      vatRegNumber: 'DE123456789',
      addressBook: {
        items: [
          {
            defaultBilling: true,
            addressBookAddress: {
              addr1: 'Unter den Linden 1',
              city: 'Berlin',
              zip: '10117',
              country: { id: 'DE' },
            },
          },
        ],
      },
    });
    expect(urls.filter((u) => u.startsWith('PUT') && u.includes(externalId))).toEqual([
      expect.stringMatching(/\?replace=addressBook$/),
      expect.stringMatching(/\?replace=addressBook$/),
    ]);
  });

  it('books a deal without a routing key to the default subsidiary and refuses an unmapped one', async () => {
    const externalId = nextId('hubspot-888');
    await erp.upsertCustomer(deal({ subsidiary: null, currency: 'USD' }), externalId);
    expect(twin.getByExternalId('customer', externalId)).toMatchObject({
      subsidiary: { id: '1' },
      currency: { id: '1' },
    });

    await expect(erp.upsertCustomer(deal({ subsidiary: 'APAC' }), nextId('c'))).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'SubsidiaryNotMapped',
    });
    await expect(erp.upsertCustomer(deal({ currency: 'JPY' }), nextId('c'))).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'CurrencyNotMapped',
    });
  });

  it('upserts the sales order with rates in major units, the deal in the memo, and lines replaced on a repeat', async () => {
    const customerId = await erp.upsertCustomer(deal(), nextId('customer'));
    const externalId = nextId('so-hubspot-4242');
    const id = await erp.upsertSalesOrder(deal(), externalId, customerId, lines);
    const again = await erp.upsertSalesOrder(deal(), externalId, customerId, lines);

    expect(again).toBe(id);
    const order = twin.getByExternalId('salesOrder', externalId);
    expect(order).toMatchObject({
      id,
      entity: { id: customerId },
      subsidiary: { id: '3' },
      currency: { id: '4' },
      tranDate: '2025-03-01',
      memo: 'revbridge: hubspot deal 4242 (Globex - Platform)',
      total: 1_512.38,
      item: {
        items: [
          { item: { id: '100' }, quantity: 1, rate: 1_200.5, amount: 1_200.5 },
          { item: { id: '101' }, quantity: 12, rate: 25.99, amount: 311.88 },
        ],
      },
    });
    expect(urls.filter((u) => u.startsWith('PUT') && u.includes(externalId))).toEqual([
      expect.stringMatching(/\?replace=item$/),
      expect.stringMatching(/\?replace=item$/),
    ]);
  });

  it('refuses a sales order without lines before calling NetSuite', async () => {
    const before = urls.length;
    await expect(erp.upsertSalesOrder(deal(), nextId('so'), '101', [])).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'NoOrderLines',
    });
    expect(urls).toHaveLength(before);
  });

  it('closes every line of the sales order without deleting it or changing its amounts', async () => {
    const customerId = await erp.upsertCustomer(deal(), nextId('customer'));
    const externalId = nextId('so-close');
    const id = await erp.upsertSalesOrder(deal(), externalId, customerId, lines);

    await erp.closeSalesOrder(externalId);

    const order = twin.getByExternalId('salesOrder', externalId);
    expect(order).toMatchObject({
      id,
      total: 1_512.38,
      item: {
        items: [
          { line: 1, item: { id: '100' }, quantity: 1, amount: 1_200.5, isClosed: true },
          { line: 2, item: { id: '101' }, quantity: 12, amount: 311.88, isClosed: true },
        ],
      },
    });
    expect(urls.filter((u) => u.startsWith('PATCH')).at(-1)).toMatch(
      new RegExp(`/salesOrder/eid:${externalId}\\?replace=item$`),
    );

    const before = urls.length;
    await erp.closeSalesOrder(externalId);
    expect(urls.slice(before).map((u) => u.split(' ')[0])).toEqual(['GET']);
    await expect(erp.closeSalesOrder(nextId('never-created'))).resolves.toBeUndefined();
  });

  it('deactivates the customer, tolerates one that never existed, and a new upsert reactivates it', async () => {
    const externalId = nextId('customer');
    await erp.upsertCustomer(deal(), externalId);

    await erp.deactivateCustomer(externalId);
    expect(twin.getByExternalId('customer', externalId)).toMatchObject({
      isInactive: true,
      companyName: 'Globex GmbH',
    });
    await expect(erp.deactivateCustomer(nextId('never-created'))).resolves.toBeUndefined();

    await erp.upsertCustomer(deal(), externalId);
    expect(twin.getByExternalId('customer', externalId)).toMatchObject({ isInactive: false });
  });

  it('reports 5xx and the concurrency limit as transient', async () => {
    twin.faults.set({ errorRate: 1 });
    const unavailable = await erp.upsertCustomer(deal(), nextId('c')).catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(TransientError);
    expect(unavailable).toMatchObject({ code: 'UNEXPECTED_ERROR', status: 503 });

    twin.faults.set({ throttle: { rate: 1, burst: 1, retryAfterSeconds: 2 } });
    const limited = await erp.closeSalesOrder(nextId('so')).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(TransientError);
    expect(limited).toMatchObject({ code: 'CONCURRENCY_LIMIT_EXCEEDED', status: 429 });
  });

  it('reports an item NetSuite does not have as permanent with its error code', async () => {
    const customerId = await erp.upsertCustomer(deal(), nextId('customer'));
    const error = await erp
      .upsertSalesOrder(deal(), nextId('so'), customerId, [{ itemId: '999', quantity: 1, unitAmount: 100 }])
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'INVALID_CONTENT', status: 400 });
  });
});
