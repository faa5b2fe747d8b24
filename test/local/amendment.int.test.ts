import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { Client as HubSpotClient } from '@hubspot/api-client';
import { Connection } from 'jsforce';
import Stripe from 'stripe';
import { localSecrets } from '../../local/config';
import type { LocalRuntime } from '../../local/runtime/runtime';
import { eventually, salesforceCatalog, startRuntime } from '../support/local-runtime';

/**
 * Flow 7 end to end in the local runtime: a contract activated by quote-to-cash, then an amendment or
 * upsell won in a CRM twin that names it (Salesforce `Amended_Opportunity__c`, HubSpot
 * `revbridge_amends_deal`). The starter routes it to the amendment saga, whose steps change the Stripe
 * subscription's items (prorated) and the NetSuite sales order through the real clients. Every
 * assertion reads a twin's state or an execution's history.
 */

let runtime: LocalRuntime;
let salesforce: Connection;
let stripe: Stripe;
let hubspot: HubSpotClient;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const products: Record<string, string> = {};

const twinUrl = (name: string) => new URL(runtime.status().twins[name] ?? 'http://missing');

beforeAll(async () => {
  runtime = await startRuntime({ waitTimeScale: 0.05 });
  salesforce = new Connection({
    instanceUrl: twinUrl('salesforce').origin,
    accessToken: localSecrets().salesforceAccessToken,
    version: '62.0',
  });
  stripe = new Stripe(localSecrets().stripeApiKey, {
    host: twinUrl('stripe').hostname,
    port: Number(twinUrl('stripe').port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  hubspot = new HubSpotClient({
    accessToken: localSecrets().hubspotAccessToken,
    basePath: twinUrl('hubspot').origin,
  });
  Object.assign(products, await salesforceCatalog(salesforce, ['PLATFORM', 'SEAT', 'LEGACY']));
}, 30_000);

afterAll(async () => {
  await runtime?.stop();
});

afterEach(async () => {
  runtime.netsuite?.faults.set({});
  runtime.stripe?.faults.set({});
  await runtime.stripe?.flushWebhooks();
  await runtime.events.idle();
  await runtime.idle();
});

const netsuite = () => {
  if (!runtime.netsuite) throw new Error('the NetSuite twin is not running');
  return runtime.netsuite;
};

let seq = 0;
type Line = { code: string; quantity: number; unitPrice: number };

/** An opportunity with line items, through jsforce; `amends` names the opportunity it amends. */
const opportunity = async (accountId: string, lines: readonly Line[], amends?: string) => {
  seq += 1;
  const created = await salesforce.sobject('Opportunity').create({
    Name: amends ? `Initech upsell ${seq}` : `Initech platform ${seq}`,
    AccountId: accountId,
    StageName: 'Negotiation/Review',
    CloseDate: '2026-12-31',
    CurrencyIsoCode: 'USD',
    ...(amends ? { Amended_Opportunity__c: amends } : {}),
  });
  if (!created.success) throw new Error('opportunity not created');
  for (const line of lines) {
    await salesforce.sobject('OpportunityLineItem').create({
      OpportunityId: created.id,
      Product2Id: products[line.code],
      Quantity: line.quantity,
      UnitPrice: line.unitPrice,
    });
  }
  return created.id;
};

const closeWon = async (id: string) => {
  await salesforce.sobject('Opportunity').update({ Id: id, StageName: 'Closed Won' });
};

/** The execution of a deal's saga (either state machine), once it has ended. */
const sagaOf = async (dealId: string, prefix = 'sf') => {
  const name = `${prefix}-${dealId.slice(0, 24)}-`;
  const started = await eventually(
    () => runtime.stepFunctions.snapshot().executions.find((e) => e.name.startsWith(name)),
    `the saga of ${dealId} to start`,
  );
  const ended = await runtime.stepFunctions.waitForExecution(started.executionArn);
  const history = runtime.stepFunctions.getExecutionHistory(started.executionArn);
  return {
    ...ended,
    stateMachine: started.stateMachine,
    executions: () => runtime.stepFunctions.snapshot().executions.filter((e) => e.name.startsWith(name)),
    path: history.filter((e) => e.type.endsWith('StateEntered')).map((e) => String(e.details?.name)),
  };
};

interface OpportunityFields {
  Subscription_Id__c: string | null;
  Sales_Order_Id__c: string | null;
  Revbridge_Status__c: string | null;
}
const opportunityOf = async (id: string) =>
  (await salesforce.sobject('Opportunity').retrieve(id)) as unknown as OpportunityFields;

/** An account with an activated contract: PLATFORM × 1 and SEAT × 10, at the catalog's prices. */
const activatedContract = async () => {
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
  const original = await opportunity(account.id, [
    { code: 'PLATFORM', quantity: 1, unitPrice: 1200 },
    { code: 'SEAT', quantity: 10, unitPrice: 25 },
  ]);
  await closeWon(original);
  const activation = await sagaOf(original);
  expect(activation.status).toBe('SUCCEEDED');
  const fields = await opportunityOf(original);
  return { accountId: account.id, original, subscriptionId: fields.Subscription_Id__c ?? '' };
};

const seatsOf = async (subscriptionId: string) => {
  const subscription = await stripe.subscriptions.retrieve(subscriptionId, { expand: ['items.data.price'] });
  return {
    subscription,
    items: subscription.items.data.map((item) => [item.price.lookup_key, item.quantity]).sort(),
  };
};

type OrderLine = { item: { id: string }; quantity: number; rate: number; isClosed?: boolean };
const orderLinesOf = (original: string) => {
  const order = netsuite().getByExternalId('salesOrder', `salesforce-${original}`) as {
    item: { items: OrderLine[] };
  };
  return order.item.items.map((line) => [line.item.id, line.quantity, line.rate, line.isClosed === true]);
};

const exceptionsFor = async (correlationId: string) => {
  const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: runtime.dynamoUrl, credentials });
  const table = runtime.status().tables.find((name) => name.includes('Exceptions'));
  const scan = await dynamo.send(new ScanCommand({ TableName: table }));
  dynamo.destroy();
  return (scan.Items ?? []).filter((item) => item.correlationId?.S === correlationId);
};

const metricSum = (service: string, name: string) =>
  runtime
    .status()
    .metrics.filter((m) => m.metricName === name && m.dimensions.service === service)
    .reduce((sum, m) => sum + m.sum, 0);

const AMENDED = [
  'ValidateAmendment',
  'ChangeSubscription',
  'ChangeSalesOrder',
  'WriteBackToCrm',
  'PublishContractAmended',
  'ContractAmended',
];

describe('contract amendment in the local runtime', () => {
  it('takes a seat increase won in Salesforce to the Stripe subscription (prorated, idempotency key) and the NetSuite sales order', async () => {
    const { accountId, original, subscriptionId } = await activatedContract();
    const upsell = await opportunity(accountId, [{ code: 'SEAT', quantity: 5, unitPrice: 25 }], original);
    await closeWon(upsell);
    const saga = await sagaOf(upsell);
    expect(saga.stateMachine).toContain('amend-contract');
    expect(saga.status).toBe('SUCCEEDED');
    expect(saga.path).toEqual(AMENDED);

    const { subscription, items } = await seatsOf(subscriptionId);
    expect(items).toEqual([
      ['platform_monthly_usd', 1],
      ['seat_monthly_usd', 15],
    ]);
    expect(subscription.metadata.revbridge_amendment).toMatch(/^amend-salesforce-/);
    // create_prorations (cdk.json): the 5 seats for the rest of the period wait for the next invoice.
    const pending = await stripe.invoiceItems.list({
      customer: String(subscription.customer),
      pending: true,
    });
    expect(pending.data.some((item) => item.amount > 0)).toBe(true);
    const update = (runtime.stripe?.requests ?? []).filter(
      (r) => r.method === 'POST' && r.path === `/v1/subscriptions/${subscriptionId}`,
    );
    expect(update.map((r) => r.idempotencyKey)).toEqual([
      `${subscription.metadata.revbridge_amendment}-amend`,
    ]);

    // The order keeps its lines as sold and gains one for the 5 seats.
    expect(orderLinesOf(original)).toEqual([
      ['100', 1, 1200, false],
      ['101', 10, 25, false],
      ['101', 5, 25, false],
    ]);
    const written = await opportunityOf(upsell);
    expect(written).toMatchObject({ Revbridge_Status__c: 'Amended', Subscription_Id__c: subscriptionId });
    expect((await opportunityOf(original)).Revbridge_Status__c).toBe('Activated');
    expect(metricSum('amend-contract', 'ContractsAmended')).toBeGreaterThanOrEqual(1);
  });

  it('takes an upsell won in HubSpot to Stripe and the ERP', async () => {
    const company = await hubspot.crm.companies.basicApi.create({
      properties: {
        name: 'Globex',
        address: 'Unter den Linden 1',
        city: 'Berlin',
        zip: '10117',
        country: 'DE',
        tax_id: 'DE123456789',
      },
      associations: [],
    });
    const deal = async (lines: { hs_sku: string; quantity: string; price: string }[], amends?: string) => {
      const items = await Promise.all(
        lines.map((properties) =>
          hubspot.crm.lineItems.basicApi.create({
            properties: { name: properties.hs_sku, ...properties },
            associations: [],
          }),
        ),
      );
      const created = await hubspot.crm.deals.basicApi.create({
        properties: {
          dealname: 'Globex',
          dealstage: 'contractsent',
          pipeline: 'default',
          deal_currency_code: 'EUR',
          ...(amends ? { revbridge_amends_deal: amends } : {}),
        },
        associations: [
          {
            to: { id: company.id },
            types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 5 }],
          },
          ...items.map((item) => ({
            to: { id: item.id },
            types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 19 }],
          })),
        ],
      });
      await hubspot.crm.deals.basicApi.update(created.id, { properties: { dealstage: 'closedwon' } });
      runtime.hubspot?.flushWebhooks();
      return created.id;
    };
    const original = await deal([
      { hs_sku: 'PLATFORM', quantity: '1', price: '1100' },
      { hs_sku: 'SEAT', quantity: '5', price: '23' },
    ]);
    expect((await sagaOf(original, 'hs')).status).toBe('SUCCEEDED');
    const upsell = await deal([{ hs_sku: 'SEAT', quantity: '3', price: '23' }], original);
    const saga = await sagaOf(upsell, 'hs');
    expect(saga.path).toEqual(AMENDED);
    const read = await hubspot.crm.deals.basicApi.getById(upsell, [
      'revbridge_status',
      'revbridge_subscription_id',
    ]);
    expect(read.properties.revbridge_status).toBe('Amended');
    const { items } = await seatsOf(read.properties.revbridge_subscription_id ?? '');
    expect(items).toEqual([
      ['platform_monthly_eur', 1],
      ['seat_monthly_eur', 8],
    ]);
    const order = netsuite().getByExternalId('salesOrder', `hubspot-${original}`) as {
      item: { items: OrderLine[] };
    };
    expect(order.item.items.map((line) => [line.item.id, line.quantity, line.rate])).toEqual([
      ['100', 1, 1100],
      ['101', 5, 23],
      ['101', 3, 23],
    ]);
  });

  it('runs one amendment for a won event delivered three times: the seats are added once', async () => {
    const { accountId, original, subscriptionId } = await activatedContract();
    const upsell = await opportunity(accountId, [{ code: 'SEAT', quantity: 2, unitPrice: 25 }], original);
    await closeWon(upsell);
    const saga = await sagaOf(upsell);
    expect(saga.status).toBe('SUCCEEDED');
    const event = (JSON.parse(saga.input) as { event: Record<string, unknown> }).event;
    const already = metricSum('start-deal-saga', 'DealSagasAlreadyStarted');
    const events = new EventBridgeClient({ region: 'us-east-1', endpoint: runtime.awsUrl, credentials });
    const bus = runtime.events.listEventBuses('revbridge-').at(0)?.Name;
    await Promise.all(
      [1, 2].map((n) =>
        events.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: bus,
                Source: 'revbridge.salesforce',
                DetailType: 'crm.deal.won',
                Detail: JSON.stringify({ ...event, id: `${String(event.id)}-again-${n}` }),
              },
            ],
          }),
        ),
      ),
    );
    events.destroy();
    await runtime.events.idle();
    await runtime.idle();
    expect(metricSum('start-deal-saga', 'DealSagasAlreadyStarted')).toBe(already + 2);
    expect(saga.executions()).toHaveLength(1);
    expect((await seatsOf(subscriptionId)).items).toContainEqual(['seat_monthly_usd', 12]);
    expect(orderLinesOf(original).filter((line) => line[0] === '101')).toEqual([
      ['101', 10, 25, false],
      ['101', 2, 25, false],
    ]);
  });

  it('undoes the subscription change when the ERP refuses the sales order change, in reverse, and opens an exception', async () => {
    const { accountId, original, subscriptionId } = await activatedContract();
    const upsell = await opportunity(accountId, [{ code: 'SEAT', quantity: 4, unitPrice: 25 }], original);
    runtime.netsuite?.faults.set({ reject: [{ method: 'PATCH', path: '/salesOrder/' }] });
    await closeWon(upsell);
    const saga = await sagaOf(upsell);
    expect(saga.status).toBe('FAILED');
    expect(saga.path).toEqual([
      'ValidateAmendment',
      'ChangeSubscription',
      'ChangeSalesOrder',
      'RestoreSalesOrder',
      'RevertSubscription',
      'OpenException',
      'NotifyCrmOwner',
      'AmendmentNotApplied',
    ]);
    const { subscription, items } = await seatsOf(subscriptionId);
    expect(items).toEqual([
      ['platform_monthly_usd', 1],
      ['seat_monthly_usd', 10],
    ]);
    expect(subscription.metadata.revbridge_amendment ?? '').toBe('');
    // The order was never changed, and nothing is deleted anywhere.
    expect(orderLinesOf(original)).toEqual([
      ['100', 1, 1200, false],
      ['101', 10, 25, false],
    ]);
    const [exception, ...more] = await exceptionsFor(upsell);
    expect(more).toEqual([]);
    expect(exception?.flow?.S).toBe('amend-contract');
    expect((await opportunityOf(upsell)).Revbridge_Status__c).toMatch(
      /^Failed: changing the ERP sales order was rejected/,
    );
  });

  it('fails an amendment of a deal that has no activated contract with an exception, writing nothing to billing or the ERP', async () => {
    const account = await salesforce.sobject('Account').create({ Name: 'Hooli', BillingCountry: 'US' });
    if (!account.success) throw new Error('account not created');
    const notActivated = await opportunity(account.id, [{ code: 'SEAT', quantity: 1, unitPrice: 25 }]);
    const upsell = await opportunity(
      account.id,
      [
        { code: 'SEAT', quantity: 3, unitPrice: 25 },
        { code: 'LEGACY', quantity: 1, unitPrice: 10 },
      ],
      notActivated,
    );
    const writes = () => ({
      stripe: (runtime.stripe?.requests ?? []).filter((r) => r.method !== 'GET').length,
      netsuite: netsuite().requestLog.filter((r) => r.method !== 'GET').length,
    });
    const before = writes();
    await closeWon(upsell);
    const saga = await sagaOf(upsell);
    expect(saga.path).toEqual([
      'ValidateAmendment',
      'OpenException',
      'NotifyCrmOwner',
      'AmendmentNotApplied',
    ]);
    expect(writes()).toEqual(before);
    const status = (await opportunityOf(upsell)).Revbridge_Status__c ?? '';
    expect(status).toContain(`the amended deal ${notActivated} has no activated contract`);
    expect(status).toContain('product LEGACY is not in the catalog');
    const [exception] = await exceptionsFor(upsell);
    expect(exception?.code?.S).toBe('ValidationFailed');
  });
});
