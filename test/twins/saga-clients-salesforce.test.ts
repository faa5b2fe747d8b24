import {
  SalesforceCrmClient,
  type SalesforceCrmClientOptions,
} from '../../lambdas/adapters/salesforce/crm-client';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';
import { type SalesforceTwin, startSalesforceTwin } from '../../local/twins/salesforce';

const caught = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

describe('Salesforce CRM client against the Salesforce twin', () => {
  let twin: SalesforceTwin;
  let client: SalesforceCrmClient;
  let platform: string;
  let seats: string;
  let noCode: string;

  const clientWith = (options: Partial<SalesforceCrmClientOptions> = {}) =>
    new SalesforceCrmClient({
      instanceUrl: twin.instanceUrl,
      accessToken: async () => twin.accessToken,
      defaultCurrency: 'USD',
      accountEmailField: 'Billing_Email__c',
      subsidiaryField: 'Account.Subsidiary__c',
      ...options,
    });

  const product = (name: string, code: string | null): string => {
    const id = twin.createRecord('Product2', { Name: name, ProductCode: code, IsActive: true });
    const pricebook = twin.records('Pricebook2')[0]?.Id as string;
    for (const currency of ['USD', 'JPY']) {
      twin.createRecord('PricebookEntry', {
        Pricebook2Id: pricebook,
        Product2Id: id,
        UnitPrice: 100,
        IsActive: true,
        CurrencyIsoCode: currency,
      });
    }
    return id;
  };

  const account = (values: Record<string, unknown> = {}): string =>
    twin.createRecord('Account', {
      Name: 'Acme Corp',
      BillingStreet: '1 Market St\nFloor 3',
      BillingCity: 'San Francisco',
      BillingPostalCode: '94105',
      BillingState: 'CA',
      BillingCountry: 'US',
      Tax_Id__c: 'US-12-3456789',
      Billing_Email__c: 'billing@acme.example',
      Subsidiary__c: 'US',
      ...values,
    });

  const opportunity = (accountId: string | null, values: Record<string, unknown> = {}): string =>
    twin.createRecord('Opportunity', {
      Name: 'Acme - Platform',
      StageName: 'Negotiation/Review',
      CloseDate: '2025-03-31',
      AccountId: accountId,
      ...values,
    });

  const line = (opportunityId: string, product2Id: string, quantity: number, unitPrice: number): string =>
    twin.createRecord('OpportunityLineItem', {
      OpportunityId: opportunityId,
      Product2Id: product2Id,
      Quantity: quantity,
      UnitPrice: unitPrice,
    });

  beforeAll(async () => {
    twin = await startSalesforceTwin({
      port: 0,
      faults: {},
      customFields: {
        Opportunity: [
          'Billing_Customer_Id__c',
          'Subscription_Id__c',
          'ERP_Customer_Id__c',
          'Sales_Order_Id__c',
          'Revbridge_Status__c',
          'Subscription_Status__c',
          { name: 'Contract_Value__c', type: 'currency' },
        ],
        Account: ['Tax_Id__c', 'Billing_Email__c', 'Subsidiary__c'],
      },
    });
    client = clientWith();
    platform = product('Platform', 'PLT');
    seats = product('Seats', 'SEAT');
    noCode = product('Legacy bundle', null);
  });

  afterEach(() => {
    twin.faults.set({});
  });

  afterAll(async () => {
    await twin.close();
  });

  it('reads a won opportunity with its account, billing address, tax id and lines in minor units', async () => {
    const accountId = account();
    const opportunityId = opportunity(accountId);
    const first = line(opportunityId, platform, 1, 1200.5);
    const second = line(opportunityId, seats, 12, 25);
    twin.closeOpportunity(opportunityId);
    const record = twin.getRecord('Opportunity', opportunityId);

    await expect(client.getDeal(opportunityId)).resolves.toEqual({
      crm: 'salesforce',
      dealId: opportunityId,
      version: record?.LastModifiedDate,
      name: 'Acme - Platform',
      stage: 'Closed Won',
      isWon: true,
      currency: 'USD',
      account: {
        id: accountId,
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
      subsidiary: 'US',
      lines: [
        { id: first, productCode: 'PLT', quantity: 1, unitAmount: 120_050 },
        { id: second, productCode: 'SEAT', quantity: 12, unitAmount: 2_500 },
      ],
      existing: { billingCustomerId: null, subscriptionId: null, erpCustomerId: null, salesOrderId: null },
    });
  });

  it('takes the currency from CurrencyIsoCode with its own exponent, or the default in a single-currency org', async () => {
    const opportunityId = opportunity(account(), { CurrencyIsoCode: 'JPY' });
    line(opportunityId, platform, 2, 120_000);

    await expect(client.getDeal(opportunityId)).resolves.toMatchObject({
      currency: 'JPY',
      lines: [{ quantity: 2, unitAmount: 120_000 }],
    });
    const singleCurrency = clientWith({ multiCurrency: false, defaultCurrency: 'eur' });
    await expect(singleCurrency.getDeal(opportunityId)).resolves.toMatchObject({ currency: 'EUR' });
  });

  it('falls back to Product2.ProductCode and refuses a line without any product code', async () => {
    const opportunityId = opportunity(account());
    line(opportunityId, platform, 1, 10);
    await expect(client.getDeal(opportunityId)).resolves.toMatchObject({ lines: [{ productCode: 'PLT' }] });

    line(opportunityId, noCode, 1, 10);
    await expect(client.getDeal(opportunityId)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'MissingProductCode',
    });
  });

  it('gives no billing address when it is incomplete or the country is not an ISO code', async () => {
    const noCity = opportunity(account({ BillingCity: null }));
    const countryName = opportunity(account({ BillingCountry: 'United States' }));

    await expect(client.getDeal(noCity)).resolves.toMatchObject({ account: { billingAddress: null } });
    await expect(client.getDeal(countryName)).resolves.toMatchObject({ account: { billingAddress: null } });
  });

  it('answers null for an opportunity that does not exist, and refuses an id that cannot be one', async () => {
    await expect(client.getDeal('006000000000000AAA')).resolves.toBeNull();
    await expect(client.getDeal("006' OR Name != '")).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'InvalidDealId',
    });
  });

  it('refuses an opportunity without an account', async () => {
    const opportunityId = opportunity(null);
    await expect(client.getDeal(opportunityId)).rejects.toMatchObject({ code: 'DealHasNoAccount' });
  });

  it('writes ids and status back to the opportunity, and reads them as what already exists', async () => {
    const opportunityId = opportunity(account());
    line(opportunityId, platform, 1, 10);

    await client.writeBack(opportunityId, {
      billingCustomerId: 'cus_123',
      subscriptionId: 'sub_456',
      erpCustomerId: '1001',
      salesOrderId: '2002',
      status: 'Activated',
    });

    expect(twin.getRecord('Opportunity', opportunityId)).toMatchObject({
      Billing_Customer_Id__c: 'cus_123',
      Subscription_Id__c: 'sub_456',
      ERP_Customer_Id__c: '1001',
      Sales_Order_Id__c: '2002',
      Revbridge_Status__c: 'Activated',
    });
    await expect(client.getDeal(opportunityId)).resolves.toMatchObject({
      existing: {
        billingCustomerId: 'cus_123',
        subscriptionId: 'sub_456',
        erpCustomerId: '1001',
        salesOrderId: '2002',
      },
    });

    await client.writeBack(opportunityId, { status: `Failed: ${'x'.repeat(300)}` });
    const after = twin.getRecord('Opportunity', opportunityId);
    expect(String(after?.Revbridge_Status__c)).toHaveLength(255);
    expect(after?.Billing_Customer_Id__c).toBe('cus_123');
  });

  it('writes named opportunity fields, a number as a number, and refuses a name that is not an API name', async () => {
    const opportunityId = opportunity(account());
    await client.writeDealFields(opportunityId, {
      Subscription_Status__c: 'active',
      Contract_Value__c: 1525.5,
    });
    expect(twin.getRecord('Opportunity', opportunityId)).toMatchObject({
      Subscription_Status__c: 'active',
      Contract_Value__c: 1525.5,
    });
    await expect(client.writeDealFields(opportunityId, { 'Name, Amount': 'x' })).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'InvalidFieldName',
    });
  });

  it('asks for a fresh token once when the session expired', async () => {
    const asked: boolean[] = [];
    const refreshing = clientWith({
      accessToken: async ({ refresh }) => {
        asked.push(refresh);
        return refresh ? twin.accessToken : 'expired-token';
      },
    });
    const opportunityId = opportunity(account());

    await expect(refreshing.getDeal(opportunityId)).resolves.toMatchObject({ dealId: opportunityId });
    expect(asked).toEqual([false, true]);

    const revoked = clientWith({ accessToken: async () => 'revoked-token' });
    const error = await caught(revoked.getDeal(opportunityId));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'INVALID_SESSION_ID', status: 401 });
  });

  it('reports 5xx and the org’s request limit as transient', async () => {
    const opportunityId = opportunity(account());
    twin.faults.set({ errorRate: 1 });
    const unavailable = await caught(client.getDeal(opportunityId));
    expect(unavailable).toBeInstanceOf(TransientError);
    expect(unavailable).toMatchObject({ code: 'SERVER_UNAVAILABLE', status: 503 });

    // Salesforce has no 429: too many concurrent requests is a 403 REQUEST_LIMIT_EXCEEDED.
    twin.faults.set({ throttle: { rate: 1, burst: 1, retryAfterSeconds: 1 } });
    const limited = await caught(client.writeBack(opportunityId, { status: 'Activated' }));
    expect(limited).toBeInstanceOf(TransientError);
    expect(limited).toMatchObject({ code: 'REQUEST_LIMIT_EXCEEDED', status: 403 });
  });

  it('reports a field the org does not have as permanent with Salesforce’s code', async () => {
    const opportunityId = opportunity(account());
    const misconfigured = clientWith({ writeBackFields: { status: 'Missing_Status__c' } });

    const error = await caught(misconfigured.writeBack(opportunityId, { status: 'Activated' }));
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'INVALID_FIELD', status: 400 });
    expect(() => clientWith({ accountTaxIdField: "Tax_Id__c FROM Account WHERE Name != ''" })).toThrow(
      /not an API name/,
    );
  });

  it('reports a timeout and an unreachable instance as transient', async () => {
    twin.faults.set({ timeoutRate: 1, timeoutMs: 5_000 });
    const slow = clientWith({ timeoutMs: 100 });
    await expect(slow.getDeal('006000000000000AAA')).rejects.toMatchObject({
      name: 'TransientError',
      code: 'Timeout',
    });

    const unreachable = clientWith({ instanceUrl: 'http://127.0.0.1:1' });
    await expect(unreachable.getDeal('006000000000000AAA')).rejects.toMatchObject({
      name: 'TransientError',
      code: 'NetworkError',
    });
  });
});
