/** A queue's stored state: its messages and their states, counts, retention sweep and waiting receives. */
import type { DeadLetterInfo, MessageAttributeValue, ReceivedMessage, ReceiveOptions } from './types';

export interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly systemAttributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly senderId: string;
  /** When the producer sent it (SentTimestamp), kept across a move to a DLQ. */
  readonly sentTimestamp: number;
  readonly messageGroupId?: string | undefined;
  readonly messageDeduplicationId?: string | undefined;
  sequenceNumber?: string | undefined;
  /** When it entered this queue: ApproximateAgeOfOldestMessage counts from here. */
  enqueuedAt: number;
  /** Retention counts from here: the original send for standard queues, the move for FIFO DLQs. */
  retentionFrom: number;
  /** Delay end, or visibility timeout end while in flight; visible when `visibleAt <= now`. */
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number | undefined;
  /** When the current receive happened: a message may stay in flight 12 hours at most. */
  receivedAt?: number | undefined;
  /** The receipt handle of the latest receive. */
  receiptHandle?: string | undefined;
  deadLetterInfo?: DeadLetterInfo | undefined;
  deadLetterSourceArn?: string | undefined;
}

export interface Waiter {
  readonly options: ReceiveOptions;
  readonly resolve: (messages: ReceivedMessage[]) => void;
  timer?: NodeJS.Timeout | undefined;
  onAbort?: (() => void) | undefined;
}

export interface ReceiveAttempt {
  readonly expiresAt: number;
  readonly entries: { readonly messageId: string; readonly receiptHandle: string; visibleAt: number }[];
}

/** A FIFO send remembered for the deduplication interval. */
export interface DedupEntry {
  readonly expiresAt: number;
  readonly messageId: string;
  readonly sequenceNumber?: string;
}

export interface Queue {
  readonly name: string;
  readonly fifo: boolean;
  readonly url: string;
  readonly arn: string;
  readonly createdAt: number;
  lastModifiedAt: number;
  readonly attributes: Map<string, string>;
  readonly tags: Map<string, string>;
  /** Insertion order is send order, which FIFO delivery follows. */
  readonly messages: Map<string, StoredMessage>;
  /**
   * No stored message's retention started before this (a lower bound: deletes leave it alone), so a
   * sweep scans the queue only when a message may really have expired, not on every call.
   */
  oldestRetentionFrom: number;
  readonly dedup: Map<string, DedupEntry>;
  readonly attempts: Map<string, ReceiveAttempt>;
  readonly waiters: Waiter[];
  wakeTimer?: NodeJS.Timeout | undefined;
  lastPurgeAt?: number | undefined;
  readonly counters: { sent: number; received: number; deleted: number; emptyReceives: number };
}

export type MessageState = 'visible' | 'inflight' | 'delayed';

export const stateOf = (message: StoredMessage, now: number): MessageState => {
  if (message.visibleAt <= now) return 'visible';
  return message.receiveCount > 0 ? 'inflight' : 'delayed';
};

/** Messages by state, and the age of the oldest one that is not delayed. */
export const countsOf = (queue: Queue, now: number) => {
  let visible = 0;
  let inflight = 0;
  let delayed = 0;
  let oldest: number | undefined;
  for (const message of queue.messages.values()) {
    const state = stateOf(message, now);
    if (state === 'visible') visible += 1;
    else if (state === 'inflight') inflight += 1;
    else delayed += 1;
    if (state !== 'delayed' && (oldest === undefined || message.enqueuedAt < oldest))
      oldest = message.enqueuedAt;
  }
  const oldestAgeSeconds = oldest === undefined ? 0 : Math.max(0, Math.floor((now - oldest) / 1000));
  return { visible, inflight, delayed, oldestAgeSeconds };
};

/** Drops messages older than MessageRetentionPeriod, in flight or not, and expired receive attempts. */
export const sweep = (queue: Queue, now: number): void => {
  const retentionMs = Number(queue.attributes.get('MessageRetentionPeriod')) * 1000;
  if (queue.oldestRetentionFrom + retentionMs <= now) {
    let oldest = Number.POSITIVE_INFINITY;
    for (const [id, message] of queue.messages) {
      if (message.retentionFrom + retentionMs <= now) queue.messages.delete(id);
      else oldest = Math.min(oldest, message.retentionFrom);
    }
    queue.oldestRetentionFrom = oldest;
  }
  for (const [id, attempt] of queue.attempts) if (attempt.expiresAt <= now) queue.attempts.delete(id);
};

/** Stores a message and lowers the queue's retention bound to it. */
export const store = (queue: Queue, message: StoredMessage): void => {
  queue.messages.set(message.messageId, message);
  queue.oldestRetentionFrom = Math.min(queue.oldestRetentionFrom, message.retentionFrom);
  queue.counters.sent += 1;
};
