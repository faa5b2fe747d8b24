import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Client as HubSpotClient } from '@hubspot/api-client';
import type { Connection } from 'jsforce';
import type Stripe from 'stripe';
import type { LocalRuntime } from '../../local/runtime/runtime';
import {
  eventually,
  postStripeWebhook,
  salesforceCatalog,
  startRuntime,
  twinClients,
} from '../support/local-runtime';

/**
 * Flow 5 end to end in the local runtime: an opportunity won in the Salesforce twin becomes a Stripe
 * subscription and a NetSuite sales order through the quote-to-cash saga; then the subscription is
 * changed or canceled in the Stripe twin through the official SDK, the twin's signed webhook reaches
 * revbridge, and the sales order and the opportunity follow. Every assertion reads a twin's state.
 */

let runtime: LocalRuntime;
let salesforce: Connection;
let stripe: Stripe;
let hubspot: HubSpotClient;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const products: Record<string, string> = {};

beforeAll(async () => {
  runtime = await startRuntime({ waitTimeScale: 0.05 });
  ({ salesforce, stripe, hubspot } = twinClients(runtime));
  Object.assign(products, await salesforceCatalog(salesforce, ['PLATFORM', 'SEAT']));
}, 30_000);

afterAll(async () => {
  await runtime?.stop();
});

afterEach(async () => {
  runtime.netsuite?.faults.set({});
  runtime.stripe?.faults.set({});
  await quiet();
});

/** Lets every flow started so far finish, webhooks the Stripe twin still holds included. */
const quiet = async () => {
  await runtime.stripe?.flushWebhooks();
  await runtime.idle();
};

const netsuite = () => {
  if (!runtime.netsuite) throw new Error('the NetSuite twin is not running');
  return runtime.netsuite;
};

let seq = 0;

/**
 * A won opportunity for one platform and ten seats at the catalog's prices, activated by the saga:
 * its Stripe subscription and NetSuite sales order.
 */
const activeContract = async () => {
  seq += 1;
  const account = await salesforce.sobject('Account').create({
    Name: `Initech ${seq}`,
    BillingStreet: '1 Initech Way',
    BillingCity: 'Austin',
    BillingPostalCode: '78701',
    BillingState: 'TX',
    BillingCountry: 'US',
    Tax_Id__c: `US-${seq}`,
    Subsidiary__c: 'US',
  });
  if (!account.success) throw new Error('account not created');
  const opportunity = await salesforce.sobject('Opportunity').create({
    Name: `Initech platform ${seq}`,
    AccountId: account.id,
    StageName: 'Negotiation/Review',
    CloseDate: '2026-12-31',
    CurrencyIsoCode: 'USD',
  });
  if (!opportunity.success) throw new Error('opportunity not created');
  for (const [code, quantity, unitPrice] of [
    ['PLATFORM', 1, 1200],
    ['SEAT', 10, 25],
  ] as const) {
    await salesforce.sobject('OpportunityLineItem').create({
      OpportunityId: opportunity.id,
      Product2Id: products[code],
      Quantity: quantity,
      UnitPrice: unitPrice,
    });
  }
  await salesforce.sobject('Opportunity').update({ Id: opportunity.id, StageName: 'Closed Won' });
  const fields = await waitFor(async () => {
    const record = await opportunityOf(opportunity.id);
    return record.Revbridge_Status__c === 'Activated' ? record : undefined;
  }, `the saga to activate ${opportunity.id}`);
  await quiet();
  const subscription = await stripe.subscriptions.retrieve(fields.Subscription_Id__c ?? '');
  const seatItem = subscription.items.data.find((item) => item.price.lookup_key === 'seat_monthly_usd');
  if (!seatItem) throw new Error('no seat item');
  return {
    opportunityId: opportunity.id,
    subscriptionId: subscription.id,
    seatItem,
    orderExternalId: `salesforce-${opportunity.id}`,
  };
};

interface OpportunityFields {
  Subscription_Id__c: string | null;
  Revbridge_Status__c: string | null;
  Subscription_Status__c: string | null;
  Contract_Value__c: number | null;
}
const opportunityOf = async (id: string) =>
  (await salesforce.sobject('Opportunity').retrieve(id)) as unknown as OpportunityFields;

/** Polls an async probe (a twin read through an SDK) until it gives a value. */
const waitFor = async <T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

interface OrderLine {
  line: number;
  item: { id: string };
  quantity: number;
  rate: number;
  isClosed?: boolean;
  custcol_revbridge_effective_date?: string;
}
const linesOf = (externalId: string): OrderLine[] =>
  (netsuite().getByExternalId('salesOrder', externalId) as { item: { items: OrderLine[] } }).item.items;
const summary = (externalId: string) =>
  linesOf(externalId).map((l) => [l.line, l.item.id, l.quantity, l.rate, l.isClosed === true]);
const orderWrites = (externalId: string) =>
  netsuite().requestLog.filter((r) => r.method === 'PATCH' && r.path.includes(`salesOrder/eid:${externalId}`))
    .length;

const exceptionsOf = async (dealId: string) => {
  const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: runtime.dynamoUrl, credentials });
  const table = runtime.status().tables.find((name) => name.includes('Exceptions'));
  const scan = await dynamo.send(new ScanCommand({ TableName: table }));
  dynamo.destroy();
  return (scan.Items ?? []).filter(
    (item) => item.correlationId?.S === dealId && item.flow?.S === 'sync-subscription',
  );
};

/** Records the subscription consumer reported as failed (to be retried), so far. */
const syncFailures = () =>
  runtime
    .status()
    .eventSourceMappings.filter((mapping) => String(mapping.function).includes('SyncSubscription'))
    .reduce((sum, mapping) => sum + mapping.failedMessages, 0);

/** The last Stripe event of this type the twin made for the subscription, as it sent it. */
const lastEventOf = (subscriptionId: string, type: string) => {
  const event = (runtime.stripe?.events() ?? [])
    .filter((e) => e.type === type && (e.data as { object: { id: string } }).object.id === subscriptionId)
    .at(-1);
  if (!event) throw new Error(`no ${type} for ${subscriptionId}`);
  return event;
};

describe('subscription changes in the local runtime', () => {
  it('turns a seat increase in Stripe into a dated sales order line and shows the new contract value on the opportunity', async () => {
    const contract = await activeContract();
    expect(summary(contract.orderExternalId)).toEqual([
      [1, '100', 1, 1200, false],
      [2, '101', 10, 25, false],
    ]);
    await stripe.subscriptions.update(contract.subscriptionId, {
      items: [{ id: contract.seatItem.id, quantity: 13 }],
      proration_behavior: 'always_invoice',
    });
    await quiet();
    const lines = linesOf(contract.orderExternalId);
    expect(summary(contract.orderExternalId)).toEqual([
      [1, '100', 1, 1200, false],
      [2, '101', 10, 25, false],
      [3, '101', 3, 25, false],
    ]);
    expect(lines[2]?.custcol_revbridge_effective_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const opportunity = await opportunityOf(contract.opportunityId);
    expect(opportunity).toMatchObject({
      Subscription_Status__c: 'active',
      Contract_Value__c: 1525,
      Revbridge_Status__c: 'Activated',
    });
    // The proration invoice Stripe issued reaches NetSuite as a receivable through flow 2.
    const invoice = await stripe.invoices.retrieve(
      String((await stripe.subscriptions.retrieve(contract.subscriptionId)).latest_invoice),
    );
    expect(invoice.billing_reason).toBe('subscription_update');
    expect(netsuite().getByExternalId('invoice', invoice.id)).toMatchObject({ externalId: invoice.id });
  });

  it('changes nothing for the same webhook delivered again or an older one delivered late', async () => {
    const contract = await activeContract();
    await stripe.subscriptions.update(contract.subscriptionId, {
      items: [{ id: contract.seatItem.id, quantity: 12 }],
    });
    await quiet();
    const older = lastEventOf(contract.subscriptionId, 'customer.subscription.updated');
    await stripe.subscriptions.update(contract.subscriptionId, {
      items: [{ id: contract.seatItem.id, quantity: 15 }],
    });
    await quiet();
    const after = summary(contract.orderExternalId);
    expect(after).toEqual([
      [1, '100', 1, 1200, false],
      [2, '101', 10, 25, false],
      [3, '101', 2, 25, false],
      [4, '101', 3, 25, false],
    ]);
    const writes = orderWrites(contract.orderExternalId);

    // The latest event again (a duplicate), then the older one (12 seats in its copy), both signed.
    const latest = lastEventOf(contract.subscriptionId, 'customer.subscription.updated');
    expect((await postStripeWebhook(runtime, latest)).status).toBe(200);
    expect((await postStripeWebhook(runtime, { ...older, id: `${String(older.id)}_late` })).status).toBe(200);
    await quiet();
    expect(summary(contract.orderExternalId)).toEqual(after);
    expect(orderWrites(contract.orderExternalId)).toBe(writes);
    expect((await opportunityOf(contract.opportunityId)).Contract_Value__c).toBe(1200 + 15 * 25);
  });

  it('retries a change the ERP throttled, after its Retry-After, and applies it once', async () => {
    const contract = await activeContract();
    netsuite().faults.set({ seed: 3, throttle: { rate: 1, burst: 1000, retryAfterSeconds: 1 } });
    const failedBefore = syncFailures();
    await stripe.subscriptions.update(contract.subscriptionId, {
      items: [{ id: contract.seatItem.id, quantity: 11 }],
    });
    await runtime.stripe?.flushWebhooks();
    await eventually(() => syncFailures() > failedBefore, 'the throttled change to be reported as failed');
    expect(orderWrites(contract.orderExternalId)).toBe(0);
    netsuite().faults.set({});
    await quiet();
    expect(summary(contract.orderExternalId)).toEqual([
      [1, '100', 1, 1200, false],
      [2, '101', 10, 25, false],
      [3, '101', 1, 25, false],
    ]);
    expect(orderWrites(contract.orderExternalId)).toBe(1);
    expect(await exceptionsOf(contract.opportunityId)).toEqual([]);
  });

  it('opens an exception for a price the catalog does not map, and leaves the order as it was', async () => {
    const contract = await activeContract();
    const before = summary(contract.orderExternalId);
    const addon = await stripe.products.create({ name: 'Premium support' });
    const price = await stripe.prices.create({
      product: addon.id,
      currency: 'usd',
      unit_amount: 9_900,
      recurring: { interval: 'month' },
    });
    await stripe.subscriptions.update(contract.subscriptionId, { items: [{ price: price.id }] });
    await quiet();
    expect(summary(contract.orderExternalId)).toEqual(before);
    const exceptions = await exceptionsOf(contract.opportunityId);
    expect(exceptions).toHaveLength(1);
    expect(exceptions[0]).toMatchObject({ code: { S: 'ProductNotMapped' }, status: { S: 'OPEN' } });
    expect((await opportunityOf(contract.opportunityId)).Subscription_Status__c).not.toBe('canceled');
  });

  it('closes what remains of the order when the subscription is canceled, and shows it canceled with no value', async () => {
    const contract = await activeContract();
    await stripe.subscriptions.update(contract.subscriptionId, {
      items: [{ id: contract.seatItem.id, quantity: 12 }],
    });
    await quiet();
    await stripe.subscriptions.cancel(contract.subscriptionId);
    await quiet();
    expect(summary(contract.orderExternalId)).toEqual([
      [1, '100', 1, 1200, true],
      [2, '101', 10, 25, true],
      [3, '101', 2, 25, true],
    ]);
    expect(await opportunityOf(contract.opportunityId)).toMatchObject({
      Subscription_Status__c: 'canceled',
      Contract_Value__c: 0,
    });
    // A change reported after the cancellation (delivered late) reopens nothing.
    const late = lastEventOf(contract.subscriptionId, 'customer.subscription.updated');
    expect((await postStripeWebhook(runtime, { ...late, id: `${String(late.id)}_late` })).status).toBe(200);
    await quiet();
    expect(linesOf(contract.orderExternalId).every((line) => line.isClosed === true)).toBe(true);
  });

  it('shows the new status and contract value on a HubSpot deal, through the same flow', async () => {
    const company = await hubspot.crm.companies.basicApi.create({
      properties: {
        name: 'Globex',
        address: 'Unter den Linden 1',
        city: 'Berlin',
        zip: '10117',
        country: 'DE',
        tax_id: 'DE100000001',
      },
      associations: [],
    });
    const items = await Promise.all(
      [
        { hs_sku: 'PLATFORM', quantity: '1', price: '1100' },
        { hs_sku: 'SEAT', quantity: '5', price: '23' },
      ].map((properties) =>
        hubspot.crm.lineItems.basicApi.create({
          properties: { name: properties.hs_sku, ...properties },
          associations: [],
        }),
      ),
    );
    const association = (id: string, associationTypeId: number) => ({
      to: { id },
      types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId }],
    });
    const deal = await hubspot.crm.deals.basicApi.create({
      properties: {
        dealname: 'Globex platform',
        dealstage: 'contractsent',
        pipeline: 'default',
        deal_currency_code: 'EUR',
      },
      associations: [association(company.id, 5), ...items.map((item) => association(item.id, 19))],
    });
    await hubspot.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'closedwon' } });
    const subscriptionId = await waitFor(async () => {
      const read = await hubspot.crm.deals.basicApi.getById(deal.id, [
        'revbridge_status',
        'revbridge_subscription_id',
      ]);
      return read.properties.revbridge_status === 'Activated'
        ? (read.properties.revbridge_subscription_id ?? undefined)
        : undefined;
    }, `the saga to activate HubSpot deal ${deal.id}`);
    await quiet();
    const subscription = await stripe.subscriptions.retrieve(subscriptionId);
    const seats = subscription.items.data.find((item) => item.price.lookup_key === 'seat_monthly_eur');
    await stripe.subscriptions.update(subscriptionId, { items: [{ id: String(seats?.id), quantity: 7 }] });
    await quiet();
    const read = await hubspot.crm.deals.basicApi.getById(deal.id, [
      'revbridge_subscription_status',
      'revbridge_contract_value',
    ]);
    expect(read.properties).toMatchObject({
      revbridge_subscription_status: 'active',
      revbridge_contract_value: String(1100 + 7 * 23),
    });
    expect(summary(`hubspot-${deal.id}`)).toEqual([
      [1, '100', 1, 1100, false],
      [2, '101', 5, 23, false],
      [3, '101', 2, 23, false],
    ]);
  });

  // Last: it moves the catalog's seat lookup key to a new price for the rest of this runtime.
  it('re-prices seats moved to a new price that took the lookup key over: old lines closed, one line at the new price', async () => {
    const contract = await activeContract();
    const newer = await stripe.prices.create({
      product: String(contract.seatItem.price.product),
      currency: 'usd',
      unit_amount: 3_000,
      recurring: { interval: 'month' },
      lookup_key: 'seat_monthly_usd',
      transfer_lookup_key: true,
    });
    await stripe.subscriptions.update(contract.subscriptionId, {
      items: [{ id: contract.seatItem.id, price: newer.id }],
    });
    await quiet();
    expect(summary(contract.orderExternalId)).toEqual([
      [1, '100', 1, 1200, false],
      [2, '101', 10, 25, true],
      [3, '101', 10, 30, false],
    ]);
    expect((await opportunityOf(contract.opportunityId)).Contract_Value__c).toBe(1500);
  });
});
