/** Dead-letter queues: redrive policies, the check that a target may take a source, and the moved copy of a message. */
import { invalidAttributeValue } from './errors';
import { parseJsonObject } from './parameters';
import type { Queue, StoredMessage } from './queue';

export interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

export interface RedriveAllowPolicy {
  readonly redrivePermission: 'allowAll' | 'denyAll' | 'byQueue';
  readonly sourceQueueArns?: readonly string[];
}

export const parseRedrivePolicy = (value: string): RedrivePolicy => {
  const json = parseJsonObject('RedrivePolicy', value);
  const target = json.deadLetterTargetArn;
  // CloudFormation passes maxReceiveCount as a string, the SDKs as a number; SQS accepts both.
  const count = Number(json.maxReceiveCount);
  if (typeof target !== 'string' || !target.startsWith('arn:')) {
    throw invalidAttributeValue('RedrivePolicy', value, 'deadLetterTargetArn must be a queue ARN');
  }
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw invalidAttributeValue('RedrivePolicy', value, 'maxReceiveCount must be an integer from 1 to 1000');
  }
  return { deadLetterTargetArn: target, maxReceiveCount: count };
};

export const parseRedriveAllowPolicy = (value: string): RedriveAllowPolicy => {
  const json = parseJsonObject('RedriveAllowPolicy', value);
  const permission = json.redrivePermission;
  const sources = json.sourceQueueArns;
  if (permission !== 'allowAll' && permission !== 'denyAll' && permission !== 'byQueue') {
    throw invalidAttributeValue(
      'RedriveAllowPolicy',
      value,
      'redrivePermission must be allowAll, denyAll or byQueue',
    );
  }
  if (permission !== 'byQueue') {
    if (sources !== undefined) {
      throw invalidAttributeValue(
        'RedriveAllowPolicy',
        value,
        'sourceQueueArns is only allowed with byQueue',
      );
    }
    return { redrivePermission: permission };
  }
  if (
    !Array.isArray(sources) ||
    sources.length < 1 ||
    sources.length > 10 ||
    !sources.every((arn): arn is string => typeof arn === 'string')
  ) {
    throw invalidAttributeValue('RedriveAllowPolicy', value, 'byQueue needs 1 to 10 sourceQueueArns');
  }
  return { redrivePermission: permission, sourceQueueArns: sources };
};

export const redrivePolicyOf = (queue: Queue): RedrivePolicy | undefined => {
  const value = queue.attributes.get('RedrivePolicy');
  return value ? parseRedrivePolicy(value) : undefined;
};

/** The DLQ must exist, be of the same type and allow this source (RedriveAllowPolicy). */
export const checkDeadLetterTarget = (
  source: Queue,
  target: Queue | undefined,
  policy: RedrivePolicy,
): void => {
  const value = JSON.stringify(policy);
  if (!target) throw invalidAttributeValue('RedrivePolicy', value, 'Dead letter target does not exist');
  if (target.fifo !== source.fifo) {
    throw invalidAttributeValue(
      'RedrivePolicy',
      value,
      'Dead-letter queue must be same type of queue as the source',
    );
  }
  const allow = target.attributes.get('RedriveAllowPolicy');
  if (allow) {
    const parsed = parseRedriveAllowPolicy(allow);
    const allowed =
      parsed.redrivePermission === 'allowAll' ||
      (parsed.redrivePermission === 'byQueue' && (parsed.sourceQueueArns ?? []).includes(source.arn));
    if (!allowed) {
      throw invalidAttributeValue(
        'RedrivePolicy',
        value,
        "The dead-letter queue's RedriveAllowPolicy denies this queue",
      );
    }
  }
};

/**
 * The message as the DLQ stores it: same id, body, attributes and receive count. Standard queues
 * keep the original enqueue time for retention, FIFO queues reset it
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html).
 */
export const deadLetterCopy = (
  source: Queue,
  message: StoredMessage,
  target: Queue,
  maxReceiveCount: number,
  now: number,
  sequenceNumber: string | undefined,
): StoredMessage => ({
  ...message,
  sequenceNumber,
  enqueuedAt: now,
  retentionFrom: target.fifo ? now : message.retentionFrom,
  visibleAt: now,
  receivedAt: undefined,
  receiptHandle: undefined,
  deadLetterSourceArn: source.arn,
  deadLetterInfo: {
    sourceQueueName: source.name,
    sourceQueueArn: source.arn,
    receiveCount: message.receiveCount,
    maxReceiveCount,
    movedAt: now,
    reason: `received ${message.receiveCount} times from ${source.name} without being deleted (maxReceiveCount ${maxReceiveCount})`,
  },
});
