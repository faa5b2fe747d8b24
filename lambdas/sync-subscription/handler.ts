import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { crmClientsFromEnv } from '../adapters/crm-clients';
import { erpFlowDeps } from '../adapters/erp-flow-deps';
import { NetSuiteSalesOrders } from '../adapters/netsuite/sales-order-lines';
import { StripeBillingClient } from '../adapters/stripe/billing-client';
import { StripePriceCatalog } from '../adapters/stripe/price-catalog';
import { stripeApiKeyFrom } from '../adapters/stripe/sdk';
import { parseEnv } from '../shared/env';
import { eventConsumer } from '../shared/event-consumer';
import { FLOW, type SyncSubscriptionDeps, syncSubscription } from './logic';
import { envSchema } from './schema';

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const shared = erpFlowDeps(env);
const stripe = {
  apiKey: stripeApiKeyFrom(env.STRIPE_API_KEY_SECRET_ID),
  baseUrl: env.STRIPE_API_BASE_URL,
  timeoutMs: env.STRIPE_TIMEOUT_MS,
};
const deps: SyncSubscriptionDeps = {
  billing: new StripeBillingClient(stripe),
  prices: new StripePriceCatalog(stripe),
  salesOrders: new NetSuiteSalesOrders({
    client: shared.netsuite,
    effectiveDateField: env.SUBSCRIPTION_SYNC_MAPPING.effectiveDateField,
  }),
  links: shared.links,
  crm: crmClientsFromEnv(env),
  mapping: env.SUBSCRIPTION_SYNC_MAPPING,
};

export const handler = eventConsumer({
  type: ['billing.subscription.updated', 'billing.subscription.canceled'],
  flow: FLOW,
  exceptions: shared,
  logger,
  metrics,
  idempotencyTableName: env.IDEMPOTENCY_TABLE_NAME,
  queueUrl: env.QUEUE_URL,
  // A throttled vendor: 15 s doubling per receive, never sooner than its Retry-After. A saga still
  // making the order is seconds from done: 3 s doubling.
  retryPolicy: {
    baseSeconds: 15,
    baseSecondsByCode: { SalesOrderNotLinkedYet: 3, SubscriptionNotLinkedYet: 3 },
  },
  // A batch's records share one NetSuite lease while the account has room (NetSuiteClient.sharingLease).
  aroundBatch: (work) => shared.netsuite.sharingLease(work),
  handle: async (event) => {
    const result = await syncSubscription(event, deps);
    if (result.outcome === 'synced' && result.orderChanged) {
      metrics.addMetric('SalesOrdersChanged', MetricUnit.Count, 1);
      metrics.addMetric('SyncLatency', MetricUnit.Milliseconds, Date.now() - Date.parse(event.occurredAt));
    }
    return result;
  },
  onException: () => metrics.addMetric('SubscriptionSyncFailed', MetricUnit.Count, 1),
  describe: (result, event) => ({
    outcome: result.outcome,
    subscriptionId: event.data.id,
    ...(result.outcome === 'synced'
      ? {
          dealId: result.dealId,
          orderChanged: result.orderChanged,
          linesAdded: result.linesAdded,
          linesClosed: result.linesClosed,
          status: result.status,
        }
      : {}),
  }),
});
