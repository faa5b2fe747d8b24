import {
  EventType as BatchEventType,
  BatchProcessor,
  processPartialResponse,
} from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { type CanonicalEvent, type EventType, parseEvent } from '../domain/events';
import { type ExceptionReporterDeps, reportException } from '../domain/exception-reporting';
import { isPermanent, safeMessage } from './errors';
import { type RetryPolicy, receiveCountOf, redelivery, retryDelaySeconds } from './sqs-retry';

/** Canonical events are deduplicated for 7 days: longer than any vendor's retry horizon (Stripe: 3 days). */
const IDEMPOTENCY_SECONDS = 7 * 24 * 60 * 60;

/** What EventBridge puts on a consumer's queue: the bus event, whose `detail` is the canonical envelope. */
const busMessageSchema = z.object({ 'detail-type': z.string(), detail: z.unknown() });

/** What a record comes to when its work failed for good: the exception a person works from. */
export interface ExceptionOutcome {
  readonly outcome: 'exception';
  readonly exceptionId: string;
  readonly code: string;
}

/** One handled event as its idempotency record keeps it (`data.handled`), read by the operator's trail. */
export interface HandledEvent {
  readonly flow: string;
  readonly eventId: string;
  readonly type: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly occurredAt: string;
  /** The ids the event's data names (`id`, `customerId`, `dealId`...): what the trail follows. */
  readonly ids: Record<string, string>;
  readonly handledAt: string;
  readonly outcome: Record<string, unknown>;
}

const ID_KEY = /^(id|.+Id)$/;

/**
 * The ids an event's data names: string fields called `id` or `...Id`, at the top and one object
 * down (`customer.billingId`). Ids only, never other data.
 */
const idsOf = (data: unknown): Record<string, string> => {
  const ids: Record<string, string> = {};
  for (const [key, value] of Object.entries((data ?? {}) as Record<string, unknown>)) {
    if (typeof value === 'string' && ID_KEY.test(key)) ids[key] = value;
    else if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value as Record<string, unknown>)) {
        if (typeof innerValue === 'string' && ID_KEY.test(inner)) ids[`${key}.${inner}`] = innerValue;
      }
    }
  }
  return ids;
};

export interface EventConsumerOptions<T extends EventType, R> {
  /** The canonical event type the queue carries, or the types when its rule matches several. */
  readonly type: T | readonly T[];
  /** The flow's name: the exceptions it opens carry it, and their ids derive from it and the event id. */
  readonly flow: string;
  /**
   * The work for one event; runs at most once per canonical event id (Powertools idempotency). It
   * throws `TransientError` to be retried and `PermanentError` to open an exception: the consumer
   * owns both paths, so the work never catches either.
   */
  readonly handle: (event: CanonicalEvent<T>) => Promise<R>;
  /**
   * What to log about a handled event besides the ids: outcome fields, never payload data. It sees
   * the work's result or the exception the consumer opened.
   */
  readonly describe: (result: R | ExceptionOutcome, event: CanonicalEvent<T>) => Record<string, unknown>;
  /** Where exceptions are opened and announced (`ops.exception.opened`). */
  readonly exceptions: ExceptionReporterDeps;
  /**
   * Runs after an exception was opened, for the flow's own metrics (`ExceptionsOpened` is counted
   * already). @default nothing
   */
  readonly onException?: (code: string, event: CanonicalEvent<T>) => void;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly idempotencyTableName: string;
  /** The queue the records come from, to delay a failed record's redelivery. */
  readonly queueUrl: string;
  readonly retryPolicy: RetryPolicy;
  /**
   * Wraps each batch's work, e.g. in the NetSuite client's `sharingLease`, so the batch's records
   * (one at a time) share one account lease. @default the work alone
   */
  readonly aroundBatch?: <B>(work: () => Promise<B>) => Promise<B>;
}

/**
 * The shape every queue consumer shares: read the bus message, run the work once per canonical
 * event, and on a transient failure report only that record (partial batch response) with its
 * redelivery delayed per the retry policy. A permanent failure opens an exception (exceptions table
 * and `ops.exception.opened`), counts `ExceptionsOpened` and completes the record: retrying cannot
 * help, so no `PermanentError` ever reaches the backoff or the DLQ. The exception is opened inside
 * the idempotent section, so a redelivered event returns the same outcome without a second report. A message that cannot be read is made visible again at once, so it
 * reaches the DLQ (and its alarm) after maxReceiveCount quick receives rather than hours of backoff.
 * Records run one at a time, so the mapping's maximum concurrency bounds the load on the vendor.
 */
export const eventConsumer = <T extends EventType, R>(options: EventConsumerOptions<T, R>) => {
  const { logger } = options;
  const types: readonly T[] = typeof options.type === 'string' ? [options.type] : options.type;
  const delayRedelivery = redelivery(new SQSClient({}), options.queueUrl, (error) =>
    logger.warn('could not delay redelivery', { error: safeMessage(error) }),
  );
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: 'id',
    expiresAfterSeconds: IDEMPOTENCY_SECONDS,
  });
  const handleOrOpenException = async (event: CanonicalEvent<T>): Promise<R | ExceptionOutcome> => {
    try {
      return await options.handle(event);
    } catch (error) {
      if (!isPermanent(error)) throw error;
      // A failure here (the exceptions table or the bus unavailable) is transient: the record is retried.
      const record = await reportException(
        options.exceptions,
        options.flow,
        error.code,
        error.message,
        // A generic `CanonicalEvent<T>` is one of the union's members; TypeScript cannot see it.
        event as CanonicalEvent,
      );
      logger.warn('permanent failure, exception opened', {
        error: safeMessage(error),
        exceptionId: record.exceptionId,
      });
      options.metrics.addMetric('ExceptionsOpened', MetricUnit.Count, 1);
      options.onException?.(error.code, event);
      return { outcome: 'exception', exceptionId: record.exceptionId, code: error.code };
    }
  };
  // The idempotency record keeps what `handled` returns: the outcome and the envelope's ids make it
  // the log of handled events that `revbridge trail` reads (the bus archive can only be replayed),
  // without a write more per event. Ids and outcome fields only, as logged: never the payload.
  const handleAndLog = async (event: CanonicalEvent<T>) => {
    const result = await handleOrOpenException(event);
    const handled: HandledEvent = {
      flow: options.flow,
      eventId: event.id,
      type: event.type,
      correlationId: event.correlationId,
      causationId: event.causationId,
      occurredAt: event.occurredAt,
      ids: idsOf(event.data),
      handledAt: new Date().toISOString(),
      // Through JSON: the record is marshalled without `removeUndefinedValues`.
      outcome: JSON.parse(JSON.stringify(options.describe(result, event))) as Record<string, unknown>,
    };
    return { result, handled };
  };
  const handleOnce = makeIdempotent(handleAndLog, {
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: options.idempotencyTableName }),
    config: idempotencyConfig,
  });

  const processRecord = async (record: SQSRecord) => {
    let event: CanonicalEvent<T>;
    try {
      event = parseEvent(busMessageSchema.parse(JSON.parse(record.body)).detail, ...types);
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
      const stored = await handleOnce(event);
      // A record saved before the trail was kept holds the bare result (a redelivery within 7 days).
      const handled = (stored as { handled?: HandledEvent }).handled;
      const result = handled ? stored.result : (stored as unknown as R | ExceptionOutcome);
      logger.info('event handled', handled?.outcome ?? options.describe(result, event));
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
  const processBatch = (event: SQSEvent, context: Context) =>
    processPartialResponse(event, processRecord, processor, {
      context,
      processInParallel: false,
      throwOnFullBatchFailure: false,
    });
  return middy(async (event: SQSEvent, context: Context) => {
    idempotencyConfig.registerLambdaContext(context);
    const work = () => processBatch(event, context);
    return options.aroundBatch ? options.aroundBatch(work) : work();
  })
    .use(injectLambdaContext(logger))
    .use(logMetrics(options.metrics));
};
