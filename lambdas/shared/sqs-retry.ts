import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { isTransient } from './errors';

/** SQS's own ceiling for a visibility timeout. https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html */
const MAX_VISIBILITY_SECONDS = 43_200;
/** A duplicate of an event being processed right now: the other copy finishes within seconds. */
const IN_PROGRESS_RETRY_SECONDS = 2;

export interface RetryPolicy {
  /** First delay for a transient failure without Retry-After; doubles per receive. */
  readonly baseSeconds: number;
  /** A different first delay for some transient error codes (e.g. a race expected to settle in seconds). */
  readonly baseSecondsByCode?: Readonly<Record<string, number>>;
  /** @default 900 */
  readonly maxSeconds?: number;
}

/**
 * When a failed message should come back: exponential backoff on the receive count, and never sooner
 * than the vendor's Retry-After. Retry-After alone is not enough: HubSpot's rolling window answers
 * "1 s" to every caller while it is full, and the callers that all come back in a second spend a
 * message's receives in seconds (46 won deals dead-lettered in a 10,000-flow chaos run). A duplicate
 * of an event in progress elsewhere comes back in 2 s, doubling likewise. The queue's own visibility
 * timeout (six times the function timeout) is far too long for a retry and far too short for a
 * vendor outage.
 */
export const retryDelaySeconds = (error: unknown, receiveCount: number, policy: RetryPolicy): number => {
  const doubling = 2 ** Math.max(0, receiveCount - 1);
  const ceiling = policy.maxSeconds ?? 900;
  if (error instanceof Error && error.name === 'IdempotencyAlreadyInProgressError')
    return Math.min(ceiling, IN_PROGRESS_RETRY_SECONDS * doubling);
  const base = (isTransient(error) && policy.baseSecondsByCode?.[error.code]) || policy.baseSeconds;
  const backoff = Math.min(ceiling, base * doubling);
  if (isTransient(error) && error.retryAfterSeconds !== undefined)
    return Math.max(error.retryAfterSeconds, backoff);
  return backoff;
};

/** Hides a failed message for `seconds` instead of the queue's default; a failure here only costs time. */
export const redelivery =
  (client: SQSClient, queueUrl: string, onError: (error: unknown) => void) =>
  async (record: SQSRecord, seconds: number): Promise<void> => {
    try {
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: Math.min(Math.max(0, Math.ceil(seconds)), MAX_VISIBILITY_SECONDS),
        }),
      );
    } catch (error) {
      onError(error);
    }
  };

export const receiveCountOf = (record: SQSRecord): number =>
  Number(record.attributes.ApproximateReceiveCount ?? 1);
