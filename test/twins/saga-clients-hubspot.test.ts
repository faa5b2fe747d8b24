import { HubSpotCrmClient, type HubSpotCrmClientOptions } from '../../lambdas/adapters/hubspot/crm-client';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';
import { type HubSpotTwin, startHubSpotTwin } from '../../local/twins/hubspot';

const caught = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

/** HubSpot-defined association type ids. */
const DEAL_TO_COMPANY_PRIMARY = 5;
const DEAL_TO_LINE_ITEM = 19;

describe('HubSpot CRM client against the HubSpot twin', () => {
  let twin: HubSpotTwin;
  let client: HubSpotCrmClient;

  const clientWith = (options: Partial<HubSpotCrmClientOptions> = {}) =>
    new HubSpotCrmClient({
      baseUrl: twin.url,
      accessToken: async () => twin.accessToken,
      defaultCurrency: 'USD',
      companyEmailProperty: 'billing_email',
      subsidiaryProperty: { object: 'company', name: 'subsidiary' },
      ...options,
    });

  const company = (properties: Record<string, string> = {}): string =>
    twin.createObject('companies', {
      name: 'Globex GmbH',
      address: 'Unter den Linden 1',
      address2: 'Aufgang B',
      city: 'Berlin',
      zip: '10117',
      country: 'DE',
      tax_id: 'DE123456789',
      billing_email: 'ap@globex.example',
      subsidiary: 'EU',
      ...properties,
    });

  const lineItem = (properties: Record<string, string>): string =>
    twin.createObject('line_items', { name: 'Line', ...properties });

  const deal = (
    companyIds: readonly { id: string; primary?: boolean }[],
    lineItemIds: readonly string[],
    properties: Record<string, string> = {},
  ): string =>
    twin.createObject(
      'deals',
      { dealname: 'Globex - Platform', dealstage: 'contractsent', pipeline: 'default', ...properties },
      [
        ...companyIds.map((c) => ({
          to: { id: c.id },
          types: [
            c.primary === false
              ? { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 341 }
              : { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: DEAL_TO_COMPANY_PRIMARY },
          ],
        })),
        ...lineItemIds.map((id) => ({
          to: { id },
          types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: DEAL_TO_LINE_ITEM }],
        })),
      ],
    );

  beforeAll(async () => {
    twin = await startHubSpotTwin({
      port: 0,
      faults: {},
      customProperties: {
        deals: [
          'revbridge_billing_customer_id',
          'revbridge_subscription_id',
          'revbridge_erp_customer_id',
          'revbridge_sales_order_id',
          'revbridge_status',
          'revbridge_subscription_status',
          { name: 'revbridge_contract_value', type: 'number' },
        ],
        companies: ['tax_id', 'billing_email', 'subsidiary'],
        line_items: ['catalog_code'],
      },
    });
    client = clientWith();
  });

  afterEach(() => {
    twin.faults.set({});
  });

  afterAll(async () => {
    await twin.close();
  });

  it('reads a won deal with its primary company, address, tax id and line items in minor units', async () => {
    const other = company({ name: 'Globex Holding' });
    const primary = company();
    const platform = lineItem({ hs_sku: 'PLT', quantity: '1', price: '1200.50' });
    const seats = lineItem({ hs_sku: 'SEAT', quantity: '12', price: '25' });
    const dealId = deal(
      [
        { id: other, primary: false },
        { id: primary, primary: true },
      ],
      [platform, seats],
      { deal_currency_code: 'EUR' },
    );
    twin.setDealStage(dealId, 'closedwon');
    const stamp = twin.getObject('deals', dealId)?.properties.hs_lastmodifieddate;

    await expect(client.getDeal(dealId)).resolves.toEqual({
      crm: 'hubspot',
      dealId,
      version: stamp,
      name: 'Globex - Platform',
      stage: 'closedwon',
      isWon: true,
      currency: 'EUR',
      account: {
        id: primary,
        name: 'Globex GmbH',
        email: 'ap@globex.example',
        billingAddress: {
          line1: 'Unter den Linden 1',
          line2: 'Aufgang B',
          city: 'Berlin',
          postalCode: '10117',
          state: null,
          country: 'DE',
        },
        taxId: 'DE123456789',
      },
      subsidiary: 'EU',
      lines: [
        { id: platform, productCode: 'PLT', quantity: 1, unitAmount: 120_050 },
        { id: seats, productCode: 'SEAT', quantity: 12, unitAmount: 2_500 },
      ],
      existing: { billingCustomerId: null, subscriptionId: null, erpCustomerId: null, salesOrderId: null },
    });
  });

  it('uses the default currency without deal_currency_code and a configured product code property', async () => {
    const item = lineItem({ hs_sku: 'IGNORED', catalog_code: 'PLT-HS', quantity: '3', price: '10' });
    const dealId = deal([{ id: company() }], [item]);

    await expect(clientWith({ productCodeProperty: 'catalog_code' }).getDeal(dealId)).resolves.toMatchObject({
      currency: 'USD',
      isWon: false,
      lines: [{ productCode: 'PLT-HS', quantity: 3, unitAmount: 1_000 }],
    });
  });

  it('reads more line items than one batch read takes', async () => {
    const items = Array.from({ length: 105 }, (_, i) =>
      lineItem({ hs_sku: `SKU-${i}`, quantity: '1', price: '1' }),
    );
    const dealId = deal([{ id: company() }], items);

    const read = await client.getDeal(dealId);
    expect(read?.lines.map((l) => l.id)).toEqual(items);
  });

  it('refuses line items without a product code, a fractional quantity or a price finer than a cent', async () => {
    const account = company();
    const noSku = deal([{ id: account }], [lineItem({ quantity: '1', price: '5' })]);
    const fractional = deal([{ id: account }], [lineItem({ hs_sku: 'PLT', quantity: '1.5', price: '5' })]);
    const subCent = deal([{ id: account }], [lineItem({ hs_sku: 'PLT', quantity: '1', price: '5.005' })]);

    await expect(client.getDeal(noSku)).rejects.toMatchObject({ code: 'MissingProductCode' });
    await expect(client.getDeal(fractional)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'MalformedPayload',
      message: expect.stringContaining('deal.lines.0.quantity'),
    });
    await expect(client.getDeal(subCent)).rejects.toMatchObject({ code: 'SubMinorUnitAmount' });
  });

  it('gives no billing address when the country is free text, and refuses a deal without a company', async () => {
    const spelledOut = deal([{ id: company({ country: 'Germany' }) }], []);
    await expect(client.getDeal(spelledOut)).resolves.toMatchObject({
      account: { billingAddress: null },
      lines: [],
    });

    const orphan = deal([], []);
    await expect(client.getDeal(orphan)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'DealHasNoAccount',
    });
  });

  it('answers null for a deal that does not exist, and refuses an id that is not numeric', async () => {
    await expect(client.getDeal('999999999')).resolves.toBeNull();
    await expect(client.getDeal('../companies/1')).rejects.toMatchObject({ code: 'InvalidDealId' });
  });

  it('writes named deal properties, numbers as decimal strings', async () => {
    const dealId = deal([{ id: company() }], []);
    await client.writeDealFields(dealId, {
      revbridge_subscription_status: 'canceled',
      revbridge_contract_value: 1525.5,
    });
    expect(twin.getObject('deals', dealId)?.properties).toMatchObject({
      revbridge_subscription_status: 'canceled',
      revbridge_contract_value: '1525.5',
    });
    await expect(client.writeDealFields('../companies/1', { revbridge_status: 'x' })).rejects.toMatchObject({
      code: 'InvalidDealId',
    });
  });

  it('writes ids and status back to the deal, and reads them as what already exists', async () => {
    const dealId = deal([{ id: company() }], []);

    await client.writeBack(dealId, {
      billingCustomerId: 'cus_123',
      subscriptionId: 'sub_456',
      erpCustomerId: '1001',
      salesOrderId: '2002',
      status: 'Activated',
    });

    expect(twin.getObject('deals', dealId)?.properties).toMatchObject({
      revbridge_billing_customer_id: 'cus_123',
      revbridge_subscription_id: 'sub_456',
      revbridge_erp_customer_id: '1001',
      revbridge_sales_order_id: '2002',
      revbridge_status: 'Activated',
    });
    await expect(client.getDeal(dealId)).resolves.toMatchObject({
      existing: {
        billingCustomerId: 'cus_123',
        subscriptionId: 'sub_456',
        erpCustomerId: '1001',
        salesOrderId: '2002',
      },
    });
  });

  it('reports a 429 as transient with Retry-After, and 5xx as transient', async () => {
    const dealId = deal([{ id: company() }], []);
    twin.faults.set({ throttle: { rate: 1, burst: 1, retryAfterSeconds: 9 } });
    const limited = await caught(client.getDeal(dealId));
    expect(limited).toBeInstanceOf(TransientError);
    expect(limited).toMatchObject({ code: 'RATE_LIMITS', status: 429, retryAfterSeconds: 9 });

    twin.faults.set({ errorRate: 1 });
    const unavailable = await caught(client.writeBack(dealId, { status: 'Activated' }));
    expect(unavailable).toBeInstanceOf(TransientError);
    expect(unavailable).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
  });

  it('waits one burst window when a 429 carries no Retry-After', async () => {
    const answered = clientWith({
      fetchImpl: async () =>
        new Response(
          JSON.stringify({ status: 'error', category: 'RATE_LIMITS', policyName: 'TEN_SECONDLY_ROLLING' }),
          {
            status: 429,
            headers: { 'x-hubspot-ratelimit-interval-milliseconds': '10000' },
          },
        ),
    });
    await expect(answered.getDeal('1')).rejects.toMatchObject({
      name: 'TransientError',
      retryAfterSeconds: 10,
    });
  });

  it('reports a property the portal does not have as permanent with HubSpot’s category', async () => {
    const dealId = deal([{ id: company() }], []);
    const misconfigured = clientWith({ writeBackProperties: { status: 'missing_status' } });

    const error = await caught(misconfigured.writeBack(dealId, { status: 'Activated' }));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', status: 400 });
    expect((error as Error).message).not.toContain('Activated');
  });

  it('asks for a fresh token once on 401, and reports a revoked one as permanent', async () => {
    const asked: boolean[] = [];
    const dealId = deal([{ id: company() }], []);
    const refreshing = clientWith({
      accessToken: async ({ refresh }) => {
        asked.push(refresh);
        return refresh || asked.length > 1 ? twin.accessToken : 'expired';
      },
    });
    await expect(refreshing.writeBack(dealId, { status: 'Activated' })).resolves.toBeUndefined();
    expect(asked).toEqual([false, true]);

    const revoked = clientWith({ accessToken: async () => 'revoked' });
    await expect(revoked.getDeal(dealId)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'INVALID_AUTHENTICATION',
      status: 401,
    });
  });
});
