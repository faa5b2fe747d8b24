/** What the engine shows of stored messages: a received message, peeks, metrics and the status snapshot. */
import { md5OfMessageAttributes } from './md5';
import { BODY_PREVIEW_CHARS } from './parameters';
import { countsOf, type Queue, type StoredMessage, stateOf } from './queue';
import { redrivePolicyOf } from './redrive';
import type {
  MessageAttributeValue,
  MessageView,
  QueueSnapshot,
  ReceivedMessage,
  ReceiveOptions,
  SqsQueueMetrics,
} from './types';

/** A received message with the system and message attributes the receive asked for. */
export const toReceived = (
  queue: Queue,
  message: StoredMessage,
  options: ReceiveOptions,
  now: number,
): ReceivedMessage => {
  const wanted = new Set(options.attributeNames ?? []);
  const all = wanted.has('All');
  const system: Record<string, string | undefined> = {
    SenderId: message.senderId,
    SentTimestamp: String(message.sentTimestamp),
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? now),
    AWSTraceHeader: message.systemAttributes.AWSTraceHeader?.stringValue,
    MessageGroupId: message.messageGroupId,
    DeadLetterQueueSourceArn: message.deadLetterSourceArn,
    ...(queue.fifo
      ? { SequenceNumber: message.sequenceNumber, MessageDeduplicationId: message.messageDeduplicationId }
      : {}),
  };
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(system)) {
    if (value !== undefined && (all || wanted.has(name))) attributes[name] = value;
  }
  const patterns = options.messageAttributeNames ?? [];
  const selected: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(message.messageAttributes)) {
    const match = patterns.some(
      (pattern) =>
        pattern === 'All' ||
        pattern === '.*' ||
        pattern === name ||
        (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))),
    );
    if (match) selected[name] = value;
  }
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle ?? '',
    body: message.body,
    md5OfBody: message.md5OfBody,
    attributes,
    messageAttributes: selected,
    md5OfMessageAttributes: md5OfMessageAttributes(selected),
  };
};

export const toMessageView = (message: StoredMessage, now: number): MessageView => ({
  messageId: message.messageId,
  body: message.body,
  state: stateOf(message, now),
  receiveCount: message.receiveCount,
  sentTimestamp: message.sentTimestamp,
  messageGroupId: message.messageGroupId,
  messageAttributes: message.messageAttributes,
  deadLetterInfo: message.deadLetterInfo,
});

/** The AWS/SQS metrics that alarms read (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html). */
export const queueMetrics = (queue: Queue, now: number): SqsQueueMetrics => {
  const counts = countsOf(queue, now);
  return {
    ApproximateNumberOfMessagesVisible: counts.visible,
    ApproximateNumberOfMessagesNotVisible: counts.inflight,
    ApproximateNumberOfMessagesDelayed: counts.delayed,
    ApproximateAgeOfOldestMessage: counts.oldestAgeSeconds,
    NumberOfMessagesSent: queue.counters.sent,
    NumberOfMessagesReceived: queue.counters.received,
    NumberOfMessagesDeleted: queue.counters.deleted,
    NumberOfEmptyReceives: queue.counters.emptyReceives,
  };
};

/** One queue on the status page; a queue is a DLQ when a redrive policy targets it or it holds dead letters. */
export const queueSnapshot = (queue: Queue, isRedriveTarget: boolean, now: number): QueueSnapshot => {
  const counts = countsOf(queue, now);
  const policy = redrivePolicyOf(queue);
  const deadLetters = [...queue.messages.values()].flatMap((message) =>
    message.deadLetterInfo
      ? [
          {
            messageId: message.messageId,
            bodyPreview: message.body.slice(0, BODY_PREVIEW_CHARS),
            receiveCount: message.deadLetterInfo.receiveCount,
            sourceQueue: message.deadLetterInfo.sourceQueueName,
            sourceQueueArn: message.deadLetterInfo.sourceQueueArn,
            reason: message.deadLetterInfo.reason,
            movedAt: new Date(message.deadLetterInfo.movedAt).toISOString(),
          },
        ]
      : [],
  );
  const isDeadLetterQueue = isRedriveTarget || deadLetters.length > 0;
  return {
    name: queue.name,
    url: queue.url,
    arn: queue.arn,
    fifo: queue.fifo,
    visible: counts.visible,
    inflight: counts.inflight,
    delayed: counts.delayed,
    oldestMessageAgeSeconds: counts.oldestAgeSeconds,
    waitingReceives: queue.waiters.length,
    isDeadLetterQueue,
    ...(policy
      ? {
          redriveTarget: {
            arn: policy.deadLetterTargetArn,
            name: policy.deadLetterTargetArn.split(':').at(-1) ?? '',
            maxReceiveCount: policy.maxReceiveCount,
          },
        }
      : {}),
    ...(isDeadLetterQueue ? { deadLetters } : {}),
  };
};
