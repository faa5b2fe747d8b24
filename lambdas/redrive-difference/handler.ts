import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { documentClient } from '../adapters/aws/documents';
import { eventBridgePublisher } from '../adapters/aws/event-publisher';
import { dynamoExceptionsRepository } from '../adapters/aws/exceptions-repository';
import { dynamoLinksEraser } from '../adapters/aws/links-repository';
import { crmClientsFromEnv } from '../adapters/crm-clients';
import { StripeBillingReader } from '../adapters/stripe/billing-reader';
import { stripeApiKeyFrom } from '../adapters/stripe/sdk';
import { parseEnv } from '../shared/env';
import { eventConsumer } from '../shared/event-consumer';
import { FLOW, redriveDifference } from './logic';
import { envSchema } from './schema';

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const documents = documentClient();
const publisher = eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME);
const deps = {
  billing: new StripeBillingReader({
    apiKey: stripeApiKeyFrom(env.STRIPE_API_KEY_SECRET_ID),
    baseUrl: env.STRIPE_API_BASE_URL,
    timeoutMs: env.STRIPE_TIMEOUT_MS,
  }),
  links: dynamoLinksEraser(documents, env.LINKS_TABLE_NAME),
  publisher,
  account: env.STRIPE_ACCOUNT_ID,
  crm: crmClientsFromEnv(env),
  // HubSpot names the portal only in its webhooks; a re-driven deal event says where it came from.
  crmAccounts: { salesforce: env.SALESFORCE_ORG_ID, hubspot: 'reconciliation' },
};

export const handler = eventConsumer({
  type: 'ops.reconciliation.difference',
  flow: FLOW,
  exceptions: { exceptions: dynamoExceptionsRepository(documents, env.EXCEPTIONS_TABLE_NAME), publisher },
  logger,
  metrics,
  idempotencyTableName: env.IDEMPOTENCY_TABLE_NAME,
  queueUrl: env.QUEUE_URL,
  retryPolicy: { baseSeconds: 15 },
  handle: async (event) => {
    const result = await redriveDifference(event, deps);
    if (result.outcome === 'redriven')
      metrics.addMetric('ReconciliationDifferencesRedriven', MetricUnit.Count, 1);
    return result;
  },
  describe: (result, event) => ({
    outcome: result.outcome,
    kind: event.data.kind,
    differenceId: event.data.differenceId,
    ...('reason' in result ? { reason: result.reason } : {}),
  }),
});
