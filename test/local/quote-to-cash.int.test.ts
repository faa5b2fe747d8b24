import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Client as HubSpotClient } from '@hubspot/api-client';
import { Connection } from 'jsforce';
import Stripe from 'stripe';
import { localSecrets } from '../../local/config';
import type { LocalRuntime } from '../../local/runtime/runtime';
import type { FaultConfig } from '../../local/twins/common';
import { eventually, startRuntime } from '../support/local-runtime';

/**
 * Flow 1 end to end in the local runtime: a deal won in a CRM twin reaches revbridge as a webhook, the
 * consumer starts the quote-to-cash state machine, and its steps call the Stripe, NetSuite and CRM twins
 * through the real clients. Every assertion reads a twin's state or the execution's history.
 */

let runtime: LocalRuntime;
let salesforce: Connection;
let stripe: Stripe;
let hubspot: HubSpotClient;
let activatedQueueUrl: string;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const aws = () => ({ region: 'us-east-1', endpoint: runtime.awsUrl, credentials });
/** Product2 ids by product code. LEGACY is sold in Salesforce but is not in revbridge's catalog. */
const products: Record<string, string> = {};
const CURRENCIES = ['USD', 'GBP', 'EUR'];

const twinUrl = (name: string) => {
  const url = runtime.status().twins[name];
  if (!url) throw new Error(`twin ${name} is not running`);
  return new URL(url);
};

beforeAll(async () => {
  // Retry intervals run at 1/20: a 2 s backoff takes 100 ms, so a retried step still waits visibly.
  runtime = await startRuntime({ waitTimeScale: 0.05 });
  salesforce = new Connection({
    instanceUrl: twinUrl('salesforce').origin,
    accessToken: localSecrets().salesforceAccessToken,
    version: '62.0',
  });
  const stripeUrl = twinUrl('stripe');
  stripe = new Stripe(localSecrets().stripeApiKey, {
    host: stripeUrl.hostname,
    port: Number(stripeUrl.port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  hubspot = new HubSpotClient({
    accessToken: localSecrets().hubspotAccessToken,
    basePath: twinUrl('hubspot').origin,
  });

  const pricebook = (
    await salesforce.query<{ Id: string }>('SELECT Id FROM Pricebook2 WHERE IsStandard = true')
  ).records[0]?.Id;
  for (const code of ['PLATFORM', 'SEAT', 'LEGACY']) {
    const product = await salesforce
      .sobject('Product2')
      .create({ Name: code, ProductCode: code, IsActive: true });
    if (!product.success) throw new Error(`product ${code} not created`);
    products[code] = product.id;
    for (const currency of CURRENCIES) {
      await salesforce.sobject('PricebookEntry').create({
        Pricebook2Id: pricebook,
        Product2Id: product.id,
        UnitPrice: 100,
        IsActive: true,
        CurrencyIsoCode: currency,
      });
    }
  }

  // A rule of our own on the bus, to see the `contract.activated` events the saga publishes.
  const sqs = new SQSClient(aws());
  const events = new EventBridgeClient(aws());
  activatedQueueUrl =
    (await sqs.send(new CreateQueueCommand({ QueueName: 'test-contract-activated' }))).QueueUrl ?? '';
  const queueArn = (
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: activatedQueueUrl, AttributeNames: ['QueueArn'] }),
    )
  ).Attributes?.QueueArn;
  const bus = busName();
  await events.send(
    new PutRuleCommand({
      Name: 'test-contract-activated',
      EventBusName: bus,
      EventPattern: JSON.stringify({ 'detail-type': ['contract.activated'] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: 'test-contract-activated',
      EventBusName: bus,
      Targets: [{ Id: 'q', Arn: queueArn }],
    }),
  );
  sqs.destroy();
  events.destroy();
}, 30_000);

afterAll(async () => {
  await runtime?.stop();
});

afterEach(async () => {
  runtime.netsuite?.faults.set({});
  runtime.stripe?.faults.set({});
  runtime.salesforce?.faults.set({});
  runtime.hubspot?.faults.set({});
  await quiet();
});

/** Lets every flow started so far finish (webhooks the twins still hold included). */
const quiet = async () => {
  await runtime.stripe?.flushWebhooks();
  await runtime.events.idle();
  await drainActivated();
  await runtime.idle();
};

const busName = (): string => {
  const bus = runtime.events.listEventBuses('revbridge-').at(0)?.Name;
  if (!bus) throw new Error('no revbridge bus');
  return bus;
};

let accountSeq = 0;

interface SalesforceDealOptions {
  readonly currency?: string;
  readonly account?: Record<string, unknown>;
  readonly lines?: readonly { code: string; quantity: number; unitPrice: number }[];
  readonly accountId?: string;
}

/** An account (unless given) and an opportunity with line items, in Negotiation, through jsforce. */
const salesforceDeal = async (options: SalesforceDealOptions = {}) => {
  accountSeq += 1;
  let accountId = options.accountId;
  if (!accountId) {
    const account = await salesforce.sobject('Account').create({
      Name: `Initech ${accountSeq}`,
      BillingStreet: '1 Initech Way',
      BillingCity: 'Austin',
      BillingPostalCode: '78701',
      BillingState: 'TX',
      BillingCountry: 'US',
      Tax_Id__c: `US-${accountSeq}`,
      Billing_Email__c: `ap${accountSeq}@initech.example`,
      Subsidiary__c: 'US',
      ...options.account,
    });
    if (!account.success) throw new Error('account not created');
    accountId = account.id;
  }
  const opportunity = await salesforce.sobject('Opportunity').create({
    Name: `Initech platform ${accountSeq}`,
    AccountId: accountId,
    StageName: 'Negotiation/Review',
    CloseDate: '2026-12-31',
    CurrencyIsoCode: options.currency ?? 'USD',
  });
  if (!opportunity.success) throw new Error('opportunity not created');
  const lines = options.lines ?? [
    { code: 'PLATFORM', quantity: 1, unitPrice: 1200 },
    { code: 'SEAT', quantity: 10, unitPrice: 25 },
  ];
  for (const line of lines) {
    const created = await salesforce.sobject('OpportunityLineItem').create({
      OpportunityId: opportunity.id,
      Product2Id: products[line.code],
      Quantity: line.quantity,
      UnitPrice: line.unitPrice,
    });
    if (!created.success) throw new Error('line not created');
  }
  return { accountId, opportunityId: opportunity.id };
};

/** A company, line items and a deal in Contract Sent, through the official HubSpot client. */
const hubspotDeal = async () => {
  accountSeq += 1;
  const company = await hubspot.crm.companies.basicApi.create({
    properties: {
      name: `Globex ${accountSeq}`,
      address: 'Unter den Linden 1',
      city: 'Berlin',
      zip: '10117',
      country: 'DE',
      tax_id: `DE${100_000_000 + accountSeq}`,
      billing_email: `ap${accountSeq}@globex.example`,
      // No subsidiary on the company: the deal is routed by its currency (EUR → EU).
    },
    associations: [],
  });
  const lineItems = await Promise.all(
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
  const deal = await hubspot.crm.deals.basicApi.create({
    properties: {
      dealname: `Globex platform ${accountSeq}`,
      dealstage: 'contractsent',
      pipeline: 'default',
      deal_currency_code: 'EUR',
    },
    associations: [
      {
        to: { id: company.id },
        types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 5 }],
      },
      ...lineItems.map((item) => ({
        to: { id: item.id },
        types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 19 }],
      })),
    ],
  });
  return { companyId: company.id, dealId: deal.id };
};

const closeWon = async (opportunityId: string) => {
  const result = await salesforce
    .sobject('Opportunity')
    .update({ Id: opportunityId, StageName: 'Closed Won' });
  if (!result.success) throw new Error('opportunity not updated');
};

interface OpportunityFields {
  Billing_Customer_Id__c: string | null;
  Subscription_Id__c: string | null;
  ERP_Customer_Id__c: string | null;
  Sales_Order_Id__c: string | null;
  Revbridge_Status__c: string | null;
}
const opportunityOf = async (id: string) =>
  (await salesforce.sobject('Opportunity').retrieve(id)) as unknown as OpportunityFields;

/** The saga execution of a deal (named `sf-<deal id>-...` / `hs-<deal id>-...`), once it has ended. */
const sagaOf = async (crm: 'sf' | 'hs', dealId: string) => {
  const prefix = `${crm}-${dealId.slice(0, 24)}-`;
  const started = await eventually(
    () => runtime.stepFunctions.snapshot().executions.find((e) => e.name.startsWith(prefix)),
    `the saga of ${dealId} to start`,
  );
  const ended = await runtime.stepFunctions.waitForExecution(started.executionArn);
  const history = runtime.stepFunctions.getExecutionHistory(started.executionArn);
  return {
    ...ended,
    executions: () => runtime.stepFunctions.snapshot().executions.filter((e) => e.name.startsWith(prefix)),
    /** The states entered, in order. */
    path: history.filter((e) => e.type.endsWith('StateEntered')).map((e) => String(e.details?.name)),
    history,
  };
};

const FORWARD = ['ValidateDeal', 'UpsertErpCustomer', 'UpsertBillingCustomer', 'CreateSubscription'];
const FAILURE_TAIL = ['OpenException', 'NotifyCrmOwner', 'DealNotActivated'];

const billingCustomerOf = async (accountId: string) =>
  (await stripe.customers.search({ query: `metadata['revbridge_account_id']:'${accountId}'` })).data[0];

const subscriptionsOf = async (customerId: string) =>
  (await stripe.subscriptions.list({ customer: customerId, status: 'all' })).data;

const metricSum = (service: string, name: string) =>
  runtime
    .status()
    .metrics.filter((m) => m.metricName === name && m.dimensions.service === service)
    .reduce((sum, m) => sum + m.sum, 0);

const netsuite = () => {
  if (!runtime.netsuite) throw new Error('the NetSuite twin is not running');
  return runtime.netsuite;
};

const exceptionsFor = async (correlationId: string) => {
  const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: runtime.dynamoUrl, credentials });
  const table = runtime.status().tables.find((name) => name.includes('Exceptions'));
  const scan = await dynamo.send(new ScanCommand({ TableName: table }));
  dynamo.destroy();
  return (scan.Items ?? []).filter((item) => item.correlationId?.S === correlationId);
};

const linksRecordedBy = async (eventId: string) => {
  const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: runtime.dynamoUrl, credentials });
  const table = runtime.status().tables.find((name) => name.includes('Links'));
  const scan = await dynamo.send(new ScanCommand({ TableName: table }));
  dynamo.destroy();
  return (scan.Items ?? []).filter((item) => item.recordedBy?.S === eventId).map((item) => item.pk?.S ?? '');
};

interface ActivatedEvent {
  readonly detail: { readonly data: Record<string, string>; readonly causationId: string };
}
/** Every `contract.activated` seen on the bus so far. */
const activated: ActivatedEvent[] = [];

/** Moves what the test rule delivered into `activated` (deleted from the queue, so the runtime goes idle). */
const drainActivated = async () => {
  const sqs = new SQSClient(aws());
  for (;;) {
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: activatedQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      activated.push(JSON.parse(message.Body ?? '{}') as ActivatedEvent);
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: activatedQueueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
  sqs.destroy();
};

const activatedFor = async (dealId: string) => {
  await runtime.events.idle();
  await drainActivated();
  return activated.filter((event) => event.detail.data.dealId === dealId);
};

/** Writes the saga made to Stripe and NetSuite so far (reads excluded). */
const vendorWrites = () => ({
  stripe: (runtime.stripe?.requests ?? []).filter((r) => r.method !== 'GET').length,
  netsuite: netsuite().requestLog.filter((r) => r.method !== 'GET').length,
});

const failWith = (twin: 'netsuite' | 'stripe' | 'salesforce', reject: NonNullable<FaultConfig['reject']>) =>
  runtime[twin]?.faults.set({ reject });

describe('quote to cash in the local runtime', () => {
  it('activates an opportunity closed won in Salesforce through jsforce: subscription, ERP customer and sales order, ids back on the opportunity', async () => {
    const { accountId, opportunityId } = await salesforceDeal();
    await closeWon(opportunityId);
    const saga = await sagaOf('sf', opportunityId);
    expect(saga.status).toBe('SUCCEEDED');
    expect(saga.path).toEqual([
      ...FORWARD,
      'CreateSalesOrder',
      'WriteBackToCrm',
      'PublishContractActivated',
      'ContractActivated',
    ]);

    const written = await opportunityOf(opportunityId);
    expect(written.Revbridge_Status__c).toBe('Activated');

    const subscription = await stripe.subscriptions.retrieve(written.Subscription_Id__c ?? '', {
      expand: ['items.data.price'],
    });
    expect(subscription.status).not.toBe('canceled');
    expect(subscription.customer).toBe(written.Billing_Customer_Id__c);
    expect(subscription.items.data.map((item) => [item.price.lookup_key, item.quantity]).sort()).toEqual([
      ['platform_monthly_usd', 1],
      ['seat_monthly_usd', 10],
    ]);

    const customer = netsuite().getByExternalId('customer', `salesforce-${accountId}`);
    expect(customer).toMatchObject({ id: written.ERP_Customer_Id__c, subsidiary: { id: '1' } });
    const order = netsuite().getByExternalId('salesOrder', `salesforce-${opportunityId}`) as {
      id: string;
      entity: { id: string };
      item: { items: { item: { id: string }; quantity: number; rate: number }[] };
    };
    expect(order.id).toBe(written.Sales_Order_Id__c);
    expect(order.entity.id).toBe(written.ERP_Customer_Id__c);
    expect(order.item.items.map((line) => [line.item.id, line.quantity, line.rate])).toEqual([
      ['100', 1, 1200],
      ['101', 10, 25],
    ]);

    const event = JSON.parse(saga.input) as { event: { id: string } };
    const [announced, ...more] = await activatedFor(opportunityId);
    expect(more).toEqual([]);
    expect(announced?.detail).toMatchObject({
      causationId: event.event.id,
      data: {
        crm: 'salesforce',
        subscriptionId: written.Subscription_Id__c,
        salesOrderId: written.Sales_Order_Id__c,
        erpCustomerId: written.ERP_Customer_Id__c,
        billingCustomerId: written.Billing_Customer_Id__c,
      },
    });
    expect((await linksRecordedBy(event.event.id)).sort()).toEqual(
      [
        `customer#salesforce#${accountId}`,
        `customer#netsuite#${written.ERP_Customer_Id__c}`,
        `customer#salesforce#${accountId}`,
        `customer#stripe#${written.Billing_Customer_Id__c}`,
        `customer#stripe#${written.Billing_Customer_Id__c}`,
        `customer#netsuite#${written.ERP_Customer_Id__c}`,
        `customerSubsidiary#stripe#${written.Billing_Customer_Id__c}`,
        `subscription#salesforce#${opportunityId}`,
        `subscription#stripe#${written.Subscription_Id__c}`,
        `salesOrder#salesforce#${opportunityId}`,
        `salesOrder#netsuite#${written.Sales_Order_Id__c}`,
      ].sort(),
    );
  });

  it('activates a deal moved to closedwon in HubSpot: routed by currency to the EU subsidiary, EUR prices, ids written back', async () => {
    const { companyId, dealId } = await hubspotDeal();
    await hubspot.crm.deals.basicApi.update(dealId, { properties: { dealstage: 'closedwon' } });
    runtime.hubspot?.flushWebhooks();
    const saga = await sagaOf('hs', dealId);
    expect(saga.status).toBe('SUCCEEDED');

    const deal = await hubspot.crm.deals.basicApi.getById(dealId, [
      'revbridge_status',
      'revbridge_subscription_id',
      'revbridge_billing_customer_id',
      'revbridge_erp_customer_id',
      'revbridge_sales_order_id',
    ]);
    const written = deal.properties;
    expect(written.revbridge_status).toBe('Activated');
    const subscription = await stripe.subscriptions.retrieve(written.revbridge_subscription_id ?? '', {
      expand: ['items.data.price'],
    });
    expect(subscription.customer).toBe(written.revbridge_billing_customer_id);
    expect(subscription.currency).toBe('eur');
    expect(subscription.items.data.map((item) => item.price.lookup_key).sort()).toEqual([
      'platform_monthly_eur',
      'seat_monthly_eur',
    ]);
    expect(netsuite().getByExternalId('customer', `hubspot-${companyId}`)).toMatchObject({
      id: written.revbridge_erp_customer_id,
      subsidiary: { id: '3' },
      currency: { id: '4' },
    });
    expect(netsuite().getByExternalId('salesOrder', `hubspot-${dealId}`)).toMatchObject({
      id: written.revbridge_sales_order_id,
      entity: { id: written.revbridge_erp_customer_id },
    });
    expect(await activatedFor(dealId)).toHaveLength(1);
    // The subscription's first invoice books to the customer's subsidiary (NetSuite refuses another).
    const [firstInvoice] = await stripe.invoices
      .list({ subscription: subscription.id, limit: 1 })
      .then((page) => page.data);
    const posted = await eventually(
      () => netsuite().getByExternalId('invoice', firstInvoice?.id ?? ''),
      'the first EUR invoice in the ERP',
    );
    expect(posted).toMatchObject({
      entity: { id: written.revbridge_erp_customer_id },
      subsidiary: { id: '3' },
    });
  });

  it('fails a deal that does not pass validation without writing to billing or the ERP, and tells the CRM owner every problem', async () => {
    await quiet();
    const before = vendorWrites();
    const { accountId, opportunityId } = await salesforceDeal({
      currency: 'GBP',
      account: { BillingStreet: null, Tax_Id__c: null, Subsidiary__c: 'UK' },
      lines: [
        { code: 'PLATFORM', quantity: 1, unitPrice: 950 },
        { code: 'LEGACY', quantity: 1, unitPrice: 10 },
      ],
    });
    await closeWon(opportunityId);
    const saga = await sagaOf('sf', opportunityId);
    expect(saga.status).toBe('FAILED');
    expect(saga.path).toEqual(['ValidateDeal', ...FAILURE_TAIL]);
    await quiet();
    expect(vendorWrites()).toEqual(before);
    expect(netsuite().getByExternalId('customer', `salesforce-${accountId}`)).toBeUndefined();
    expect(await billingCustomerOf(accountId)).toBeUndefined();

    const written = await opportunityOf(opportunityId);
    expect(written.Revbridge_Status__c).toMatch(/^Failed: /);
    expect(written.Revbridge_Status__c).toContain('no billing address');
    expect(written.Revbridge_Status__c).toContain('no tax id, which subsidiary UK requires');
    expect(written.Revbridge_Status__c).toContain('product LEGACY is not in the catalog');
    expect(written.Subscription_Id__c).toBeNull();
    expect(await exceptionsFor(opportunityId)).toEqual([
      expect.objectContaining({
        flow: { S: 'quote-to-cash' },
        code: { S: 'ValidationFailed' },
        status: { S: 'OPEN' },
      }),
    ]);
  });

  it('retries a step the ERP throttled and then completes it, writing the ERP customer once', async () => {
    await quiet();
    const { accountId, opportunityId } = await salesforceDeal();
    const twin = netsuite();
    twin.faults.set({ throttle: { rate: 1, burst: 1000, retryAfterSeconds: 0 } });
    await closeWon(opportunityId);
    await eventually(() => {
      const execution = runtime.stepFunctions
        .snapshot()
        .executions.find((e) => e.name.startsWith(`sf-${opportunityId}-`));
      return (
        execution &&
        runtime.stepFunctions
          .getExecutionHistory(execution.executionArn)
          .some((e) => e.type === 'TaskFailed' && e.details?.error === 'TransientError')
      );
    }, 'the ERP customer upsert to be throttled');
    twin.faults.set({});
    const saga = await sagaOf('sf', opportunityId);
    expect(saga.status).toBe('SUCCEEDED');
    const attempts = saga.history.filter(
      (e) => e.type.startsWith('Task') && e.details?.resource === 'invoke' && e.type !== 'TaskStarted',
    );
    expect(attempts.some((e) => e.type === 'TaskFailed' && e.details?.error === 'TransientError')).toBe(true);
    expect(saga.path.filter((state) => state === 'UpsertErpCustomer')).toHaveLength(1);
    expect(twin.writeCount('customer', `salesforce-${accountId}`)).toBe(1);
    expect((await opportunityOf(opportunityId)).Revbridge_Status__c).toBe('Activated');
  });

  const REJECTIONS: readonly {
    step: string;
    twin: 'netsuite' | 'stripe' | 'salesforce';
    rule: NonNullable<FaultConfig['reject']>[number];
    undo: readonly string[];
  }[] = [
    { step: 'UpsertErpCustomer', twin: 'netsuite', rule: { method: 'PUT', path: '/customer/' }, undo: [] },
    {
      step: 'UpsertBillingCustomer',
      twin: 'stripe',
      rule: { method: 'POST', path: '/v1/customers' },
      undo: ['UndoErpCustomerIfCreated', 'DeactivateErpCustomer'],
    },
    {
      step: 'CreateSubscription',
      twin: 'stripe',
      rule: { method: 'POST', path: '/v1/subscriptions' },
      undo: ['UndoErpCustomerIfCreated', 'DeactivateErpCustomer'],
    },
    {
      step: 'CreateSalesOrder',
      twin: 'netsuite',
      rule: { method: 'PUT', path: '/salesOrder/' },
      undo: [
        'UndoSubscriptionIfCreated',
        'CancelSubscription',
        'UndoErpCustomerIfCreated',
        'DeactivateErpCustomer',
      ],
    },
    {
      step: 'WriteBackToCrm',
      twin: 'salesforce',
      rule: { method: 'PATCH', path: '/sobjects/Opportunity/', times: 1 },
      undo: [
        'UndoSalesOrderIfCreated',
        'CloseSalesOrder',
        'UndoSubscriptionIfCreated',
        'CancelSubscription',
        'UndoErpCustomerIfCreated',
        'DeactivateErpCustomer',
      ],
    },
  ];

  it.each(REJECTIONS)(
    'undoes exactly the steps before $step, in reverse, when $twin refuses it',
    async ({ step, twin, rule, undo }) => {
      const { accountId, opportunityId } = await salesforceDeal();
      failWith(twin, [rule]);
      // The sales rep closes it in the Salesforce UI (the refusal is for the API's writes).
      runtime.salesforce?.closeOpportunity(opportunityId);
      const saga = await sagaOf('sf', opportunityId);
      expect(saga.status).toBe('FAILED');
      const forward = [
        'ValidateDeal',
        'UpsertErpCustomer',
        'UpsertBillingCustomer',
        'CreateSubscription',
        'CreateSalesOrder',
        'WriteBackToCrm',
      ];
      expect(saga.path).toEqual([...forward.slice(0, forward.indexOf(step) + 1), ...undo, ...FAILURE_TAIL]);
      const failed = saga.history.find(
        (e) => e.type === 'TaskFailed' && e.details?.error === 'PermanentError',
      );
      expect(failed).toMatchObject({ type: 'TaskFailed', details: { error: 'PermanentError' } });

      const customer = netsuite().getByExternalId('customer', `salesforce-${accountId}`);
      if (step === 'UpsertErpCustomer') expect(customer).toBeUndefined();
      else expect(customer).toMatchObject({ isInactive: true });

      const billingCustomer = await billingCustomerOf(accountId);
      const reachedBilling = forward.indexOf(step) > forward.indexOf('UpsertBillingCustomer');
      // The billing customer is kept (finance-safe); its subscription, if any, is canceled.
      if (reachedBilling)
        expect(billingCustomer).toMatchObject({ metadata: { revbridge_account_id: accountId } });
      const subscriptions = billingCustomer ? await subscriptionsOf(billingCustomer.id) : [];
      expect(subscriptions.map((s) => s.status)).toEqual(
        forward.indexOf(step) > forward.indexOf('CreateSubscription') ? ['canceled'] : [],
      );

      const order = netsuite().getByExternalId('salesOrder', `salesforce-${opportunityId}`) as
        | { item: { items: { isClosed?: boolean }[] } }
        | undefined;
      if (step === 'WriteBackToCrm')
        expect(order?.item.items.every((line) => line.isClosed === true)).toBe(true);
      else expect(order).toBeUndefined();

      const written = await opportunityOf(opportunityId);
      expect(written.Revbridge_Status__c).toMatch(
        /^Failed: .*was rejected \((USER_ERROR|request_refused|FIELD_CUSTOM_VALIDATION_EXCEPTION)\)$/,
      );
      const [exception] = await exceptionsFor(opportunityId);
      expect(exception?.flow?.S).toBe('quote-to-cash');
      expect(await activatedFor(opportunityId)).toEqual([]);
    },
  );

  it('keeps the ERP customer an earlier deal of the account uses when a later deal fails, and leaves that deal alone', async () => {
    const first = await salesforceDeal();
    await closeWon(first.opportunityId);
    expect((await sagaOf('sf', first.opportunityId)).status).toBe('SUCCEEDED');
    const firstWritten = await opportunityOf(first.opportunityId);

    // Same account, now in EUR: Stripe refuses a second currency on one customer.
    const second = await salesforceDeal({ accountId: first.accountId, currency: 'EUR', account: {} });
    await salesforce.sobject('Account').update({ Id: first.accountId, Subsidiary__c: 'EU' });
    await closeWon(second.opportunityId);
    const saga = await sagaOf('sf', second.opportunityId);
    expect(saga.status).toBe('FAILED');
    expect(saga.path).toEqual([...FORWARD, 'UndoErpCustomerIfCreated', ...FAILURE_TAIL]);
    expect(netsuite().getByExternalId('customer', `salesforce-${first.accountId}`)).toMatchObject({
      id: firstWritten.ERP_Customer_Id__c,
      isInactive: false,
    });
    const subscription = await stripe.subscriptions.retrieve(firstWritten.Subscription_Id__c ?? '');
    expect(subscription.status).not.toBe('canceled');
    expect((await opportunityOf(second.opportunityId)).Revbridge_Status__c).toMatch(
      /^Failed: creating the subscription was rejected/,
    );
  });

  it('starts one saga for a deal whose won event arrives three times', async () => {
    const { accountId, opportunityId } = await salesforceDeal();
    await closeWon(opportunityId);
    const saga = await sagaOf('sf', opportunityId);
    const original = (JSON.parse(saga.input) as { event: Record<string, unknown> }).event;
    const alreadyStarted = metricSum('start-deal-saga', 'DealSagasAlreadyStarted');
    const events = new EventBridgeClient(aws());
    const again = (n: number) =>
      events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: busName(),
              Source: 'revbridge.salesforce',
              DetailType: 'crm.deal.won',
              // Another delivery of the same change: a new event id, the same deal and version.
              Detail: JSON.stringify({ ...original, id: `${String(original.id)}-again-${n}` }),
            },
          ],
        }),
      );
    await Promise.all([again(1), again(2)]);
    await quiet();
    events.destroy();
    // Both copies reached the starter, which found the execution already there.
    expect(metricSum('start-deal-saga', 'DealSagasAlreadyStarted')).toBe(alreadyStarted + 2);
    expect(saga.executions()).toHaveLength(1);
    const customer = await billingCustomerOf(accountId);
    expect(await subscriptionsOf(customer?.id ?? '')).toHaveLength(1);
    expect(await activatedFor(opportunityId)).toHaveLength(1);
  });

  it('ignores a won event for a deal the CRM no longer shows as won', async () => {
    const { opportunityId } = await salesforceDeal();
    const ignored = metricSum('start-deal-saga', 'DealEventsIgnored');
    const events = new EventBridgeClient(aws());
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: busName(),
            Source: 'revbridge.salesforce',
            DetailType: 'crm.deal.won',
            Detail: JSON.stringify({
              id: `evt_stale_${opportunityId}`,
              type: 'crm.deal.won',
              version: 1,
              occurredAt: new Date().toISOString(),
              source: {
                vendor: 'salesforce',
                account: '00D000000000001EAA',
                eventId: `04l_stale_${opportunityId}`,
              },
              correlationId: opportunityId,
              causationId: null,
              data: {
                crm: 'salesforce',
                dealId: opportunityId,
                version: '2026-01-01T00:00:00.000Z',
                stage: 'Closed Won',
                name: null,
                accountId: null,
              },
            }),
          },
        ],
      }),
    );
    events.destroy();
    await quiet();
    expect(metricSum('start-deal-saga', 'DealEventsIgnored')).toBe(ignored + 1);
    expect(
      runtime.stepFunctions.snapshot().executions.some((e) => e.name.startsWith(`sf-${opportunityId}`)),
    ).toBe(false);
  });
});
