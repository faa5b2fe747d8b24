import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { Client as HubSpotClient } from '@hubspot/api-client';
import type { ReconciliationResult } from '../../lambdas/reconcile/logic';
import { localSecrets } from '../../local/config';
import { ManualClock } from '../../local/eventbridge/schedule';
import { LocalRuntime } from '../../local/runtime/runtime';
import { type ExceptionItem, listExceptions } from '../../ops/queries';
import { eventually } from '../support/local-runtime';

/**
 * Won deals against their subscription and sales order, differences closed by a later run, and the
 * stack's schedule firing reconciliation: the schedule runs on a clock the test advances.
 */
let runtime: LocalRuntime;
let hubspot: HubSpotClient;
let clients: { documents: DynamoDBDocumentClient; events: EventBridgeClient };
const clock = new ManualClock(Date.now());

beforeAll(async () => {
  runtime = await LocalRuntime.start({ ephemeralPorts: true, scheduleClock: clock });
  hubspot = new HubSpotClient({
    accessToken: localSecrets().hubspotAccessToken,
    basePath: new URL(runtime.status().twins.hubspot ?? '').origin,
  });
  const common = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  clients = {
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, endpoint: runtime.dynamoUrl })),
    events: new EventBridgeClient({ ...common, endpoint: runtime.awsUrl }),
  };
});

afterAll(async () => {
  await runtime?.stop();
});

const netsuite = () => {
  if (!runtime.netsuite) throw new Error('the NetSuite twin is not running');
  return runtime.netsuite;
};
const table = (part: string) => {
  const name = runtime.tables.find((t) => t.includes(part));
  if (!name) throw new Error(`no ${part} table`);
  return name;
};
const _busName = () => runtime.status().events.buses.find((bus) => bus.name !== 'default')?.name ?? '';
const reconcileFunction = () => {
  const fn = (runtime.status().functions as { name: string; logicalId: string }[]).find((f) =>
    f.logicalId.startsWith('ReconciliationFunction'),
  );
  if (!fn) throw new Error('no reconciliation function');
  return fn.name;
};
const settle = async () => {
  runtime.hubspot?.flushWebhooks();
  await runtime.idle();
};
const _reconcile = async (): Promise<ReconciliationResult> => {
  const outcome = await runtime.lambda.invoke(reconcileFunction(), {
    from: new Date(Date.now() - 3_600_000).toISOString(),
    to: new Date(Date.now() + 60_000).toISOString(),
  });
  if (!outcome.ok) throw new Error(`reconciliation failed: ${outcome.error.errorMessage}`);
  return outcome.result as ReconciliationResult;
};
const _reconcileExceptions = async (): Promise<ExceptionItem[]> =>
  (await listExceptions(clients.documents, table('Exceptions'))).filter((e) => e.flow === 'reconcile');

/** A HubSpot company with line items and a deal, moved to closedwon through the official client. */
const wonHubSpotDeal = async (address: string) => {
  const company = await hubspot.crm.companies.basicApi.create({
    properties: {
      name: 'Initech',
      address,
      city: 'Berlin',
      zip: '10117',
      country: 'DE',
      tax_id: 'DE123456789',
    },
    associations: [],
  });
  const line = await hubspot.crm.lineItems.basicApi.create({
    properties: { name: 'PLATFORM', hs_sku: 'PLATFORM', quantity: '1', price: '1100' },
    associations: [],
  });
  const deal = await hubspot.crm.deals.basicApi.create({
    properties: {
      dealname: 'Initech platform',
      dealstage: 'contractsent',
      pipeline: 'default',
      deal_currency_code: 'EUR',
    },
    associations: [
      {
        to: { id: company.id },
        types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 5 }],
      },
      {
        to: { id: line.id },
        types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 19 }],
      },
    ],
  });
  await hubspot.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'closedwon' } });
  await settle();
  return { dealId: deal.id, companyId: company.id };
};

const salesOrdersOf = (dealId: string) =>
  netsuite()
    .records('salesOrder')
    .filter((order) => order.externalId === `hubspot-${dealId}`);

describe('reconciling won deals in the local runtime', () => {
  let activated = '';
  let _invalid = { dealId: '', companyId: '' };

  beforeAll(async () => {
    activated = (await wonHubSpotDeal('Unter den Linden 1')).dealId;
    // No street: the saga refuses the deal (ValidationFailed) and makes neither subscription nor order.
    _invalid = await wonHubSpotDeal('');
    await eventually(() => salesOrdersOf(activated).length === 1, 'the valid deal activated');
  });

  it('runs on the stack’s schedule: an hour on the clock fires the scheduled run', async () => {
    const checkpoint = async () =>
      (
        await clients.documents.send(
          new GetCommand({ TableName: table('Checkpoints'), Key: { pk: 'scheduled' }, ConsistentRead: true }),
        )
      ).Item;
    expect(await checkpoint()).toBeUndefined();
    clock.advance(60 * 60_000);
    expect(Object.values(runtime.schedules.firings())).toEqual([1]);
    // The target is invoked asynchronously (as EventBridge invokes Lambda): wait for its checkpoint.
    let status: unknown;
    for (let i = 0; i < 400 && status !== 'COMPLETE'; i += 1) {
      status = (await checkpoint())?.status;
      if (status !== 'COMPLETE') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe('COMPLETE');
  });
});
