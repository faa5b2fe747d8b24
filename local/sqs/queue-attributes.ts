/** Queue attributes: which can be set and how each is validated, the defaults, and how a change merges. */
import { invalidAttributeValue, sqsError } from './errors';
import {
  booleanString,
  integerIn,
  MAX_DELAY_SECONDS,
  MAX_VISIBILITY_SECONDS,
  MAX_WAIT_SECONDS,
  oneOf,
  parseJsonObject,
} from './parameters';
import type { Queue } from './queue';
import { parseRedriveAllowPolicy, parseRedrivePolicy, type RedrivePolicy } from './redrive';

interface AttributeRule {
  readonly fifoOnly?: boolean;
  readonly createOnly?: boolean;
  /** Returns the value as GetQueueAttributes reports it, or throws InvalidAttributeValue. */
  readonly normalize: (value: string) => string;
}

/** Settable attributes (API_SetQueueAttributes / API_CreateQueue). */
const SETTABLE: Readonly<Record<string, AttributeRule>> = {
  DelaySeconds: { normalize: integerIn('DelaySeconds', 0, MAX_DELAY_SECONDS) },
  MaximumMessageSize: { normalize: integerIn('MaximumMessageSize', 1024, 1_048_576) },
  MessageRetentionPeriod: { normalize: integerIn('MessageRetentionPeriod', 60, 1_209_600) },
  ReceiveMessageWaitTimeSeconds: {
    normalize: integerIn('ReceiveMessageWaitTimeSeconds', 0, MAX_WAIT_SECONDS),
  },
  VisibilityTimeout: { normalize: integerIn('VisibilityTimeout', 0, MAX_VISIBILITY_SECONDS) },
  Policy: {
    normalize: (value) => {
      if (value !== '') parseJsonObject('Policy', value);
      return value;
    },
  },
  RedrivePolicy: { normalize: (value) => (value === '' ? '' : JSON.stringify(parseRedrivePolicy(value))) },
  RedriveAllowPolicy: {
    normalize: (value) => (value === '' ? '' : JSON.stringify(parseRedriveAllowPolicy(value))),
  },
  KmsMasterKeyId: { normalize: (value) => value },
  KmsDataKeyReusePeriodSeconds: { normalize: integerIn('KmsDataKeyReusePeriodSeconds', 60, 86_400) },
  SqsManagedSseEnabled: { normalize: booleanString('SqsManagedSseEnabled') },
  FifoQueue: { fifoOnly: true, createOnly: true, normalize: booleanString('FifoQueue') },
  ContentBasedDeduplication: { fifoOnly: true, normalize: booleanString('ContentBasedDeduplication') },
  DeduplicationScope: { fifoOnly: true, normalize: oneOf('DeduplicationScope', ['messageGroup', 'queue']) },
  FifoThroughputLimit: {
    fifoOnly: true,
    normalize: oneOf('FifoThroughputLimit', ['perQueue', 'perMessageGroupId']),
  },
};

const COMPUTED = [
  'QueueArn',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
] as const;

export const STANDARD_DEFAULTS: Readonly<Record<string, string>> = {
  DelaySeconds: '0',
  // 1 MiB since August 2025 (API_CreateQueue: "Default: 1,048,576 bytes (1 MiB)").
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  // New queues get SSE-SQS unless a KMS key is given.
  SqsManagedSseEnabled: 'true',
};

export const FIFO_DEFAULTS: Readonly<Record<string, string>> = {
  ...STANDARD_DEFAULTS,
  FifoQueue: 'true',
  ContentBasedDeduplication: 'false',
  DeduplicationScope: 'queue',
  FifoThroughputLimit: 'perQueue',
};

/** Whether GetQueueAttributes knows the name for this queue type. */
export const isKnownAttribute = (queue: Queue, name: string): boolean =>
  (name in SETTABLE && (queue.fifo || !SETTABLE[name]?.fifoOnly)) ||
  (COMPUTED as readonly string[]).includes(name);

/** CreateQueue on an existing name succeeds only when every given attribute equals the queue's. */
export const firstDifferentAttribute = (
  queue: Queue,
  attributes: Readonly<Record<string, string>>,
): string | undefined =>
  Object.entries(attributes).find(([key, value]) => {
    const rule = SETTABLE[key];
    const current = queue.attributes.get(key) ?? (key === 'FifoQueue' ? String(queue.fifo) : '');
    return !rule || rule.normalize(value) !== current;
  })?.[0];

/**
 * The queue's attributes after a CreateQueue or SetQueueAttributes, validated and merged, and the
 * RedrivePolicy the change sets, if any (the caller checks its target before committing).
 */
export const mergeAttributes = (
  queue: Queue,
  attributes: Readonly<Record<string, string>>,
  creating: boolean,
): { merged: Map<string, string>; redrivePolicy: RedrivePolicy | undefined } => {
  const normalized = new Map<string, string>();
  for (const [name, value] of Object.entries(attributes)) {
    // createQueue has already read FifoQueue to pick the queue type.
    if (name === 'FifoQueue' && creating) continue;
    const rule = SETTABLE[name];
    if (!rule || (rule.fifoOnly && !queue.fifo) || (rule.createOnly && !creating)) {
      throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    }
    if (typeof value !== 'string') throw invalidAttributeValue(name, String(value));
    normalized.set(name, rule.normalize(value));
  }
  const merged = new Map(queue.attributes);
  for (const [name, value] of normalized) merged.set(name, value);
  // SSE-KMS and SSE-SQS exclude each other (API_CreateQueue, "server-side-encryption").
  if (normalized.get('KmsMasterKeyId')) {
    if (normalized.get('SqsManagedSseEnabled') === 'true') {
      throw invalidAttributeValue(
        'SqsManagedSseEnabled',
        'true',
        'You can use one type of server-side encryption (SSE) at one time: KMS SSE or SQS SSE',
      );
    }
    merged.set('SqsManagedSseEnabled', 'false');
    if (!merged.has('KmsDataKeyReusePeriodSeconds')) merged.set('KmsDataKeyReusePeriodSeconds', '300');
  }
  if (normalized.get('SqsManagedSseEnabled') === 'true') {
    merged.delete('KmsMasterKeyId');
    merged.delete('KmsDataKeyReusePeriodSeconds');
  }
  // Empty strings remove optional policies (API_SetQueueAttributes).
  for (const name of ['Policy', 'RedrivePolicy', 'RedriveAllowPolicy', 'KmsMasterKeyId']) {
    if (merged.get(name) === '') merged.delete(name);
  }
  if (
    merged.get('FifoThroughputLimit') === 'perMessageGroupId' &&
    merged.get('DeduplicationScope') !== 'messageGroup'
  ) {
    throw invalidAttributeValue(
      'FifoThroughputLimit',
      'perMessageGroupId',
      'perMessageGroupId needs DeduplicationScope messageGroup',
    );
  }
  const redrive = merged.get('RedrivePolicy');
  return {
    merged,
    redrivePolicy: normalized.has('RedrivePolicy') && redrive ? parseRedrivePolicy(redrive) : undefined,
  };
};

/** CreateQueue's FifoQueue attribute picks the queue type; only true or false is accepted. */
export const fifoRequested = (attributes: Readonly<Record<string, string>>): boolean => {
  const fifoAttribute = attributes.FifoQueue?.trim().toLowerCase();
  if (fifoAttribute !== undefined && fifoAttribute !== 'true' && fifoAttribute !== 'false') {
    throw invalidAttributeValue('FifoQueue', attributes.FifoQueue ?? '', 'Must be true or false');
  }
  return fifoAttribute === 'true';
};

/** Every attribute GetQueueAttributes reports: the computed ones, then the stored ones. */
export const allAttributes = (
  queue: Queue,
  counts: { readonly visible: number; readonly inflight: number; readonly delayed: number },
): Record<string, string> => ({
  QueueArn: queue.arn,
  ApproximateNumberOfMessages: String(counts.visible),
  ApproximateNumberOfMessagesNotVisible: String(counts.inflight),
  ApproximateNumberOfMessagesDelayed: String(counts.delayed),
  CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
  LastModifiedTimestamp: String(Math.floor(queue.lastModifiedAt / 1000)),
  ...Object.fromEntries(queue.attributes),
});
