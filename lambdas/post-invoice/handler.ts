import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { eventBridgePublisher } from '../adapters/aws/event-publisher';
import { dynamoExceptionsRepository } from '../adapters/aws/exceptions-repository';
import { dynamoLinksRepository } from '../adapters/aws/links-repository';
import { NetSuiteClient } from '../adapters/netsuite/client';
import { type CanonicalEvent, parseEvent } from '../domain/events';
import { parseEnv } from '../shared/env';
import { safeMessage } from '../shared/errors';
import { loadSecret } from '../shared/secrets';
import { receiveCountOf, redelivery, retryDelaySeconds } from '../shared/sqs-retry';
import { postInvoice } from './logic';
import { busMessageSchema, envSchema, netSuiteSecretSchema } from './schema';

/** Canonical events are deduplicated for 7 days: longer than any vendor's retry horizon (Stripe: 3 days). */
const IDEMPOTENCY_SECONDS = 7 * 24 * 60 * 60;

const env = parseEnv(envSchema);
const logger = new Logger();
/** Transient failures come back after the vendor's Retry-After, else 30 s doubling per receive. */
const RETRY_POLICY = { baseSeconds: 30 };
const delayRedelivery = redelivery(new SQSClient({}), env.QUEUE_URL, (error) =>
  logger.warn('could not delay redelivery', { error: safeMessage(error) }),
);
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

const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'id',
  expiresAfterSeconds: IDEMPOTENCY_SECONDS,
});
const postOnce = makeIdempotent(
  async (event: CanonicalEvent<'billing.invoice.finalized'>) => {
    const result = await postInvoice(event, deps);
    if (result.outcome === 'posted') {
      metrics.addMetric('InvoicesPosted', MetricUnit.Count, 1);
      metrics.addMetric('SyncLatency', MetricUnit.Milliseconds, Date.now() - Date.parse(event.occurredAt));
    } else {
      metrics.addMetric('InvoicePostingFailed', MetricUnit.Count, 1);
      metrics.addMetric('ExceptionsOpened', MetricUnit.Count, 1);
    }
    return result;
  },
  {
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: env.IDEMPOTENCY_TABLE_NAME }),
    config: idempotencyConfig,
  },
);

const processRecord = async (record: SQSRecord) => {
  let event: CanonicalEvent<'billing.invoice.finalized'>;
  try {
    event = parseEvent(busMessageSchema.parse(JSON.parse(record.body)).detail, 'billing.invoice.finalized');
  } catch (error) {
    // Retrying a message that cannot be read never helps: make it visible again at once, so it
    // reaches the DLQ (and its alarm) after maxReceiveCount quick receives, not hours of backoff.
    logger.error('malformed message, sending it on to the DLQ', {
      messageId: record.messageId,
      error: safeMessage(error),
    });
    await delayRedelivery(record, 0);
    throw error;
  }
  logger.appendKeys({ correlationId: event.correlationId, eventId: event.id });
  try {
    const result = await postOnce(event);
    logger.info('invoice handled', { outcome: result.outcome, invoiceId: event.data.id });
    return result;
  } catch (error) {
    const delay = retryDelaySeconds(error, receiveCountOf(record), RETRY_POLICY);
    logger.warn('invoice not posted, will retry', { error: safeMessage(error), retryInSeconds: delay });
    await delayRedelivery(record, delay);
    throw error;
  } finally {
    logger.removeKeys(['correlationId', 'eventId']);
  }
};

const processor = new BatchProcessor(EventType.SQS);

export const handler = middy(async (event: SQSEvent, context: Context) => {
  idempotencyConfig.registerLambdaContext(context);
  // One record at a time: with the mapping's maximum concurrency this bounds the requests in flight
  // to the ERP account, whose concurrency limit is the real constraint (NetSuite: 5-15 per account).
  return processPartialResponse(event, processRecord, processor, {
    context,
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
