import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { eventBridgePublisher } from '../adapters/aws/event-publisher';
import { dynamoExceptionsRepository } from '../adapters/aws/exceptions-repository';
import { dynamoLinksRepository } from '../adapters/aws/links-repository';
import { NetSuiteClient } from '../adapters/netsuite/client';
import { parseEnv } from '../shared/env';
import { eventConsumer } from '../shared/event-consumer';
import { loadSecret } from '../shared/secrets';
import { applyPayment, INVOICE_NOT_POSTED } from './logic';
import { envSchema, netSuiteSecretSchema } from './schema';

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const deps = {
  netsuite: new NetSuiteClient({
    baseUrl: env.NETSUITE_BASE_URL,
    timeoutMs: env.NETSUITE_TIMEOUT_MS,
    credentials: () => loadSecret(env.NETSUITE_SECRET_ID, netSuiteSecretSchema),
  }),
  links: dynamoLinksRepository(documents, env.LINKS_TABLE_NAME),
  exceptions: dynamoExceptionsRepository(documents, env.EXCEPTIONS_TABLE_NAME),
  publisher: eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME),
  mapping: env.NETSUITE_MAPPING,
};

export const handler = eventConsumer({
  type: 'billing.invoice.paid',
  logger,
  metrics,
  idempotencyTableName: env.IDEMPOTENCY_TABLE_NAME,
  queueUrl: env.QUEUE_URL,
  // A throttled or failing ERP: its Retry-After, else 15 s doubling per receive. An invoice not
  // posted yet is a race expected to settle in seconds: 3 s doubling (see INVOICE_NOT_POSTED).
  retryPolicy: { baseSeconds: 15, baseSecondsByCode: { [INVOICE_NOT_POSTED]: 3 } },
  handle: async (event) => {
    const result = await applyPayment(event, deps);
    if (result.outcome === 'applied') {
      metrics.addMetric('PaymentsApplied', MetricUnit.Count, 1);
      metrics.addMetric('SyncLatency', MetricUnit.Milliseconds, Date.now() - Date.parse(event.occurredAt));
    } else if (result.outcome === 'exception') {
      metrics.addMetric('PaymentApplicationFailed', MetricUnit.Count, 1);
      metrics.addMetric('ExceptionsOpened', MetricUnit.Count, 1);
    }
    return result;
  },
  describe: (result, event) => ({ outcome: result.outcome, invoiceId: event.data.invoiceId }),
});
