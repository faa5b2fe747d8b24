import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Connection } from 'jsforce';
import type Stripe from 'stripe';
import type { ReconciliationResult } from '../../lambdas/reconcile/logic';
import type { LocalRuntime } from '../../local/runtime/runtime';
import {
  type ExceptionItem,
  listExceptions,
  replayException,
  showException,
  trailOf,
} from '../../ops/queries';
import {
  eventually,
  runtimeParts,
  salesforceCatalog,
  settle,
  startRuntime,
  twinClients,
} from '../support/local-runtime';

/**
 * Reconciliation's won-deal kinds in the local runtime: two deals won in the Salesforce twin and
 * activated by the quote-to-cash saga, then one's Stripe subscription and the other's NetSuite sales
 * order taken away behind revbridge's back. Reconciliation names each deal with its subscription and
 * sales order, re-driving runs the saga again and makes only what is missing (once, replayed twice),
 * and the next run closes the exceptions.
 */

let runtime: LocalRuntime;
let salesforce: Connection;
let stripe: Stripe;
let clients: { documents: DynamoDBDocumentClient; events: EventBridgeClient };
let products: Record<string, string> = {};
let parts: ReturnType<typeof runtimeParts>;

beforeAll(async () => {
  runtime = await startRuntime({ waitTimeScale: 0.05 });
  parts = runtimeParts(runtime);
  ({ salesforce, stripe } = twinClients(runtime));
  const common = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  clients = {
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, endpoint: runtime.dynamoUrl })),
    events: new EventBridgeClient({ ...common, endpoint: runtime.awsUrl }),
  };
  products = await salesforceCatalog(salesforce, ['PLATFORM', 'SEAT']);
}, 30_000);

afterAll(async () => {
  clients?.documents.destroy();
  clients?.events.destroy();
  await runtime?.stop();
});

const stripeTwin = () => {
  if (!runtime.stripe) throw new Error('the Stripe twin is not running');
  return runtime.stripe;
};

const reconcile = async (): Promise<ReconciliationResult> => {
  const outcome = await runtime.lambda.invoke(parts.functionNamed('ReconciliationFunction'), {
    from: new Date(Date.now() - 3_600_000).toISOString(),
    to: new Date(Date.now() + 60_000).toISOString(),
  });
  if (!outcome.ok) throw new Error(`reconciliation failed: ${outcome.error.errorMessage}`);
  return outcome.result as ReconciliationResult;
};
const reconcileExceptions = async (): Promise<ExceptionItem[]> =>
  (await listExceptions(clients.documents, parts.table('Exceptions'))).filter((e) => e.flow === 'reconcile');

interface Activated {
  dealId: string;
  subscriptionId: string;
  salesOrderId: string;
  billingCustomerId: string;
}

/** An account and an opportunity won in Salesforce through jsforce, activated by the saga. */
const wonDeal = async (name: string): Promise<Activated> => {
  const account = await salesforce.sobject('Account').create({
    Name: name,
    BillingStreet: '1 Initech Way',
    BillingCity: 'Austin',
    BillingPostalCode: '78701',
    BillingState: 'TX',
    BillingCountry: 'US',
    Tax_Id__c: 'US-12-3456789',
    Billing_Email__c: 'ap@initech.example',
    Subsidiary__c: 'US',
  });
  if (!account.success) throw new Error('account not created');
  const opportunity = await salesforce.sobject('Opportunity').create({
    Name: `${name} platform`,
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
  await eventually(
    () => runtime.stepFunctions.snapshot().executions.some((e) => e.name.startsWith(`sf-${opportunity.id}`)),
    `the saga of ${opportunity.id} to start`,
  );
  await settle(runtime);
  const fields = (await salesforce.sobject('Opportunity').retrieve(opportunity.id)) as unknown as Record<
    string,
    string | null
  >;
  if (fields.Revbridge_Status__c !== 'Activated') {
    throw new Error(`deal ${opportunity.id} is ${fields.Revbridge_Status__c}, not Activated`);
  }
  return {
    dealId: opportunity.id,
    subscriptionId: String(fields.Subscription_Id__c),
    salesOrderId: String(fields.Sales_Order_Id__c),
    billingCustomerId: String(fields.Billing_Customer_Id__c),
  };
};

const salesOrdersOf = (dealId: string) =>
  parts
    .netsuite()
    .records('salesOrder')
    .filter((order) => order.externalId === `salesforce-${dealId}`);
const subscriptionsOf = async (customer: string) =>
  (await stripe.subscriptions.list({ customer, status: 'all' })).data;

describe('reconciling won deals in the local runtime', () => {
  let lostSubscription: Activated;
  let lostSalesOrder: Activated;

  beforeAll(async () => {
    lostSubscription = await wonDeal('Initech');
    lostSalesOrder = await wonDeal('Globex');
  }, 90_000);

  // settle() waits for each deal's first invoice too (it comes back as a Stripe webhook): this window
  // ends after now, so an invoice still in flight is rightly a difference. A first version of this test
  // flushed only the CRM's webhooks and found one `invoice-missing-in-erp` more than it expected (4
  // open, not 3): the test's miscount, not reconciliation's.
  it('compares the activated deals without finding a difference', async () => {
    const result = await reconcile();
    expect(result).toMatchObject({ status: 'complete', open: 0, differences: {} });
    expect(result.compared.deals).toBe(2);
    expect(await reconcileExceptions()).toEqual([]);
  });

  it('finds a deal whose subscription and a deal whose sales order were removed behind its back, naming the deal, subscription and sales order', async () => {
    expect(stripeTwin().forceDeleteSubscription(lostSubscription.subscriptionId)).toBe(true);
    expect(parts.netsuite().forceDelete('salesOrder', lostSalesOrder.salesOrderId)).toBe(true);

    const result = await reconcile();
    expect(result).toMatchObject({
      status: 'complete',
      open: 2,
      differences: { 'deal-without-subscription': 1, 'deal-without-sales-order': 1 },
    });
    const exceptions = await reconcileExceptions();
    expect(exceptions.map((e) => `${e.code} ${e.correlationId}`).sort()).toEqual([
      `DealWithoutSalesOrder ${lostSalesOrder.dealId}`,
      `DealWithoutSubscription ${lostSubscription.dealId}`,
    ]);
    const byCode = async (code: string) => {
      const exception = exceptions.find((e) => e.code === code) as ExceptionItem;
      return showException(clients.documents, parts.table('Exceptions'), exception.exceptionId, {
        withData: true,
      });
    };
    const withoutSubscription = await byCode('DealWithoutSubscription');
    expect(withoutSubscription.message).toBe(
      `won salesforce deal ${lostSubscription.dealId} links billing subscription ${lostSubscription.subscriptionId}, which billing does not have`,
    );
    expect(withoutSubscription.data).toMatchObject({
      kind: 'deal-without-subscription',
      crm: { system: 'salesforce', entity: 'deal', id: lostSubscription.dealId },
      billing: { system: 'stripe', entity: 'subscription', id: lostSubscription.subscriptionId },
      erp: {
        recordType: 'salesOrder',
        id: lostSubscription.salesOrderId,
        externalId: `salesforce-${lostSubscription.dealId}`,
      },
    });
    const withoutSalesOrder = await byCode('DealWithoutSalesOrder');
    expect(withoutSalesOrder.message).toBe(
      `won salesforce deal ${lostSalesOrder.dealId} has no ERP sales order with external id salesforce-${lostSalesOrder.dealId}`,
    );
    expect(withoutSalesOrder.data).toMatchObject({
      kind: 'deal-without-sales-order',
      crm: { system: 'salesforce', entity: 'deal', id: lostSalesOrder.dealId },
      billing: { system: 'stripe', entity: 'subscription', id: lostSalesOrder.subscriptionId },
      erp: { recordType: 'salesOrder', id: null, externalId: `salesforce-${lostSalesOrder.dealId}` },
    });
    // The difference correlates with the deal: the deal's trail shows it.
    const trail = await trailOf(
      clients.documents,
      {
        links: parts.table('Links'),
        exceptions: parts.table('Exceptions'),
        idempotency: parts.table('Idempotency'),
      },
      lostSalesOrder.dealId,
    );
    expect(trail.map((step) => `${step.kind} ${step.system} ${step.detail}`)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^exception reconcile DealWithoutSalesOrder/)]),
    );
  });

  it('re-drives each deal through the saga, making only what is missing, once however often replayed', async () => {
    const exceptions = await reconcileExceptions();
    for (const attempt of [1, 2]) {
      for (const exception of exceptions) {
        const replay = await replayException(
          clients,
          { exceptions: parts.table('Exceptions'), busName: parts.busName() },
          exception.exceptionId,
        );
        expect(replay.attempt).toBe(attempt);
      }
      await eventually(
        () => runtime.stepFunctions.snapshot().executions.length >= 2 + exceptions.length * attempt,
        `the re-driven sagas of attempt ${attempt} to start`,
      );
      await settle(runtime);
    }
    const executions = runtime.stepFunctions.snapshot().executions;
    expect(executions.map((e) => e.status)).toEqual(executions.map(() => 'SUCCEEDED'));

    // The deal that lost its subscription has one new live subscription (the removed one is gone)...
    const resubscribed = await subscriptionsOf(lostSubscription.billingCustomerId);
    expect(resubscribed).toHaveLength(1);
    expect(resubscribed[0]?.id).not.toBe(lostSubscription.subscriptionId);
    expect(resubscribed[0]?.status).toBe('active');
    const fields = (await salesforce.sobject('Opportunity').retrieve(lostSubscription.dealId)) as unknown as {
      Subscription_Id__c: string;
    };
    expect(fields.Subscription_Id__c).toBe(resubscribed[0]?.id);
    // ...and still its one sales order.
    expect(salesOrdersOf(lostSubscription.dealId).map((order) => order.id)).toEqual([
      lostSubscription.salesOrderId,
    ]);

    // The deal that lost its sales order has one again, and still its one subscription.
    expect(salesOrdersOf(lostSalesOrder.dealId)).toHaveLength(1);
    expect((await subscriptionsOf(lostSalesOrder.billingCustomerId)).map((s) => s.id)).toEqual([
      lostSalesOrder.subscriptionId,
    ]);
    expect(
      runtime
        .status()
        .metrics.filter((m) => m.metricName === 'ReconciliationDifferencesRedriven')
        .reduce((sum, m) => sum + m.sum, 0),
    ).toBe(4);
  });

  it('closes both exceptions on the next run (resolved by reconcile), and reports none open', async () => {
    const result = await reconcile();
    expect(result).toMatchObject({ status: 'complete', open: 0, closed: 2, differences: {} });
    const exceptions = await reconcileExceptions();
    expect(exceptions).toHaveLength(2);
    for (const exception of exceptions) {
      expect(
        await showException(clients.documents, parts.table('Exceptions'), exception.exceptionId),
      ).toMatchObject({ status: 'RESOLVED', resolvedBy: 'reconcile' });
    }
    // The alarm's metric: its latest value is what the last run left open.
    const open = runtime.status().metrics.filter((m) => m.metricName === 'ReconciliationOpenDifferences');
    expect(open.map((m) => ({ samples: m.sampleCount, latest: m.latest.value }))).toEqual([
      { samples: 3, latest: 0 },
    ]);
  });
});
