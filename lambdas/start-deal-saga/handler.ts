import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { eventBridgePublisher } from '../adapters/aws/event-publisher';
import { dynamoExceptionsRepository } from '../adapters/aws/exceptions-repository';
import { stepFunctionsStarter } from '../adapters/aws/execution-starter';
import { crmClientsFromEnv } from '../adapters/crm-clients';
import { type CanonicalEvent, parseEvent } from '../domain/events';
import { parseEnv } from '../shared/env';
import { safeMessage } from '../shared/errors';
import { receiveCountOf, redelivery, retryDelaySeconds } from '../shared/sqs-retry';
import { type StartDealSagaDeps, startDealSaga } from './logic';
import { busMessageSchema, envSchema } from './schema';

/** Canonical events are deduplicated for 7 days, as in every consumer. */
const IDEMPOTENCY_SECONDS = 7 * 24 * 60 * 60;

const env = parseEnv(envSchema);
const logger = new Logger();
/** Transient failures come back after the vendor's Retry-After, else 10 s doubling per receive. */
const RETRY_POLICY = { baseSeconds: 10 };
const delayRedelivery = redelivery(new SQSClient({}), env.QUEUE_URL, (error) =>
  logger.warn('could not delay redelivery', { error: safeMessage(error) }),
);
const metrics = new Metrics();
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const deps: StartDealSagaDeps = {
  crm: crmClientsFromEnv(env),
  startExecution: stepFunctionsStarter(new SFNClient({}), env.STATE_MACHINE_ARN),
  exceptions: dynamoExceptionsRepository(documents, env.EXCEPTIONS_TABLE_NAME),
  publisher: eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME),
};

const idempotencyConfig = new IdempotencyConfig({
  eventKeyJmesPath: 'id',
  expiresAfterSeconds: IDEMPOTENCY_SECONDS,
});
const startOnce = makeIdempotent(
  async (event: CanonicalEvent<'crm.deal.won'>) => {
    const result = await startDealSaga(event, deps);
    metrics.addMetric(
      result.outcome === 'started'
        ? 'DealSagasStarted'
        : result.outcome === 'already-started'
          ? 'DealSagasAlreadyStarted'
          : result.outcome === 'ignored'
            ? 'DealEventsIgnored'
            : 'ExceptionsOpened',
      MetricUnit.Count,
      1,
    );
    return result;
  },
  {
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: env.IDEMPOTENCY_TABLE_NAME }),
    config: idempotencyConfig,
  },
);

const processRecord = async (record: SQSRecord) => {
  let event: CanonicalEvent<'crm.deal.won'>;
  try {
    event = parseEvent(busMessageSchema.parse(JSON.parse(record.body)).detail, 'crm.deal.won');
  } catch (error) {
    // Unreadable: no retry can help, so it goes on to the DLQ (and its alarm) after quick receives.
    logger.error('malformed message, sending it on to the DLQ', {
      messageId: record.messageId,
      error: safeMessage(error),
    });
    await delayRedelivery(record, 0);
    throw error;
  }
  logger.appendKeys({ correlationId: event.correlationId, eventId: event.id });
  try {
    const result = await startOnce(event);
    logger.info('deal event handled', { ...result, crm: event.data.crm, dealId: event.data.dealId });
    return result;
  } catch (error) {
    const delay = retryDelaySeconds(error, receiveCountOf(record), RETRY_POLICY);
    logger.warn('saga not started, will retry', { error: safeMessage(error), retryInSeconds: delay });
    await delayRedelivery(record, delay);
    throw error;
  } finally {
    logger.removeKeys(['correlationId', 'eventId']);
  }
};

const processor = new BatchProcessor(EventType.SQS);

export const handler = middy(async (event: SQSEvent, context: Context) => {
  idempotencyConfig.registerLambdaContext(context);
  // One record at a time: each one reads the CRM, whose API limits are per org / portal.
  return processPartialResponse(event, processRecord, processor, {
    context,
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
