import {
  EventType as BatchEventType,
  BatchProcessor,
  processPartialResponse,
} from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { type CanonicalEvent, type EventType, parseEvent } from '../domain/events';
import { safeMessage } from './errors';
import { type RetryPolicy, receiveCountOf, redelivery, retryDelaySeconds } from './sqs-retry';

/** Canonical events are deduplicated for 7 days: longer than any vendor's retry horizon (Stripe: 3 days). */
const IDEMPOTENCY_SECONDS = 7 * 24 * 60 * 60;

/** What EventBridge puts on a consumer's queue: the bus event, whose `detail` is the canonical envelope. */
const busMessageSchema = z.object({ 'detail-type': z.string(), detail: z.unknown() });

export interface EventConsumerOptions<T extends EventType, R> {
  /** The canonical event type the queue carries. */
  readonly type: T;
  /** The work for one event; runs at most once per canonical event id (Powertools idempotency). */
  readonly handle: (event: CanonicalEvent<T>) => Promise<R>;
  /** What to log about a handled event besides the ids: outcome fields, never payload data. */
  readonly describe: (result: R, event: CanonicalEvent<T>) => Record<string, unknown>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly idempotencyTableName: string;
  /** The queue the records come from, to delay a failed record's redelivery. */
  readonly queueUrl: string;
  readonly retryPolicy: RetryPolicy;
}

/**
 * The shape every queue consumer shares: read the bus message, run the work once per canonical
 * event, and on failure report only that record (partial batch response) with its redelivery
 * delayed per the retry policy. A message that cannot be read is made visible again at once, so it
 * reaches the DLQ (and its alarm) after maxReceiveCount quick receives rather than hours of backoff.
 * Records run one at a time, so the mapping's maximum concurrency bounds the load on the vendor.
 */
export const eventConsumer = <T extends EventType, R>(options: EventConsumerOptions<T, R>) => {
  const { logger } = options;
  const delayRedelivery = redelivery(new SQSClient({}), options.queueUrl, (error) =>
    logger.warn('could not delay redelivery', { error: safeMessage(error) }),
  );
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: 'id',
    expiresAfterSeconds: IDEMPOTENCY_SECONDS,
  });
  const handleOnce = makeIdempotent(options.handle, {
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: options.idempotencyTableName }),
    config: idempotencyConfig,
  });

  const processRecord = async (record: SQSRecord) => {
    let event: CanonicalEvent<T>;
    try {
      event = parseEvent(busMessageSchema.parse(JSON.parse(record.body)).detail, options.type);
    } catch (error) {
      logger.error('malformed message, sending it on to the DLQ', {
        messageId: record.messageId,
        error: safeMessage(error),
      });
      await delayRedelivery(record, 0);
      throw error;
    }
    logger.appendKeys({ correlationId: event.correlationId, eventId: event.id });
    try {
      const result = await handleOnce(event);
      logger.info('event handled', options.describe(result, event));
      return result;
    } catch (error) {
      const delay = retryDelaySeconds(error, receiveCountOf(record), options.retryPolicy);
      logger.warn('event not handled, will retry', { error: safeMessage(error), retryInSeconds: delay });
      await delayRedelivery(record, delay);
      throw error;
    } finally {
      logger.removeKeys(['correlationId', 'eventId']);
    }
  };

  const processor = new BatchProcessor(BatchEventType.SQS);
  return middy(async (event: SQSEvent, context: Context) => {
    idempotencyConfig.registerLambdaContext(context);
    return processPartialResponse(event, processRecord, processor, {
      context,
      processInParallel: false,
      throwOnFullBatchFailure: false,
    });
  })
    .use(injectLambdaContext(logger))
    .use(logMetrics(options.metrics));
};
