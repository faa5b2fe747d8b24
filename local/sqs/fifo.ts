/** FIFO queues: deduplication, message group locks, receive request attempts and sequence numbers. */
import { createHash } from 'node:crypto';
import { invalidParameter, sqsError } from './errors';
import { DEDUP_WINDOW_MS, FIFO_TOKEN, RECEIVE_ATTEMPT_WINDOW_MS } from './parameters';
import { type DedupEntry, type Queue, type StoredMessage, stateOf } from './queue';
import type { SendMessageInput } from './types';

/** 128-bit, non-consecutive and increasing, like SQS's (API_SendMessage, SequenceNumber). */
export class SequenceNumbers {
  private sequence = 0n;

  next(now: number): string {
    this.sequence += 1n;
    return (18_000_000_000_000_000_000n + BigInt(now) * 1_000_000n + this.sequence).toString();
  }
}

export interface Deduplication {
  /** The key the dedup window is kept under; undefined on standard queues. */
  readonly key?: string | undefined;
  /** The MessageDeduplicationId given or derived from the body. */
  readonly id?: string | undefined;
  /** The earlier send inside the 5-minute interval this one duplicates. */
  readonly duplicate?: DedupEntry | undefined;
}

/**
 * A FIFO send needs a group id and a deduplication id (given, or the body's SHA-256 with
 * ContentBasedDeduplication); a standard queue takes no deduplication id (API_SendMessage).
 */
export const deduplicationOf = (queue: Queue, input: SendMessageInput, now: number): Deduplication => {
  if (!queue.fifo) {
    if (input.messageDeduplicationId !== undefined) {
      throw invalidParameter(
        'MessageDeduplicationId',
        input.messageDeduplicationId,
        'The request include parameter that is not valid for this queue type.',
      );
    }
    return {};
  }
  if (input.messageGroupId === undefined) {
    throw sqsError('MissingParameter', 'The request must contain the parameter MessageGroupId.');
  }
  let id = input.messageDeduplicationId;
  if (id !== undefined && !FIFO_TOKEN.test(id)) {
    throw invalidParameter(
      'MessageDeduplicationId',
      id,
      'Must be 1 to 128 alphanumeric or punctuation characters.',
    );
  }
  if (id === undefined) {
    if (queue.attributes.get('ContentBasedDeduplication') !== 'true') {
      throw sqsError(
        'InvalidParameterValue',
        'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
      );
    }
    // Content-based deduplication hashes the body only, not the attributes.
    id = createHash('sha256').update(input.body, 'utf8').digest('hex');
  }
  const key =
    queue.attributes.get('DeduplicationScope') === 'messageGroup' ? `${input.messageGroupId}\u0000${id}` : id;
  for (const [entryKey, entry] of queue.dedup) if (entry.expiresAt <= now) queue.dedup.delete(entryKey);
  return { key, id, duplicate: queue.dedup.get(key) };
};

/** Starts the deduplication interval of a message just stored. */
export const rememberDeduplication = (
  queue: Queue,
  key: string,
  message: StoredMessage,
  now: number,
): void => {
  queue.dedup.set(key, {
    expiresAt: now + DEDUP_WINDOW_MS,
    messageId: message.messageId,
    ...(message.sequenceNumber ? { sequenceNumber: message.sequenceNumber } : {}),
  });
};

/** Groups with a message in flight: nothing else of theirs is delivered (FIFO-queues-understanding-logic.html). */
export const lockedGroups = (queue: Queue, now: number): Set<string> => {
  const locked = new Set<string>();
  if (!queue.fifo) return locked;
  for (const message of queue.messages.values()) {
    if (message.messageGroupId !== undefined && stateOf(message, now) === 'inflight') {
      locked.add(message.messageGroupId);
    }
  }
  return locked;
};

/**
 * The messages of an earlier receive with this attempt id, their visibility restarted, if none was
 * deleted or changed since (API_ReceiveMessage); undefined otherwise, forgetting the attempt.
 */
export const replayAttempt = (
  queue: Queue,
  attemptId: string,
  visibilityMs: number,
  now: number,
): StoredMessage[] | undefined => {
  const attempt = queue.attempts.get(attemptId);
  if (!attempt) return undefined;
  const messages = attempt.entries.map((entry) => {
    const message = queue.messages.get(entry.messageId);
    return message && message.receiptHandle === entry.receiptHandle && message.visibleAt === entry.visibleAt
      ? message
      : undefined;
  });
  if (!messages.every((message): message is StoredMessage => message !== undefined)) {
    queue.attempts.delete(attemptId);
    return undefined;
  }
  messages.forEach((message, index) => {
    message.visibleAt = now + visibilityMs;
    const entry = attempt.entries[index];
    if (entry) entry.visibleAt = message.visibleAt;
  });
  return messages;
};

/** Remembers what a receive with an attempt id returned, for 5 minutes. */
export const rememberAttempt = (
  queue: Queue,
  attemptId: string,
  taken: readonly StoredMessage[],
  now: number,
): void => {
  queue.attempts.set(attemptId, {
    expiresAt: now + RECEIVE_ATTEMPT_WINDOW_MS,
    entries: taken.map((message) => ({
      messageId: message.messageId,
      receiptHandle: message.receiptHandle ?? '',
      visibleAt: message.visibleAt,
    })),
  });
};
