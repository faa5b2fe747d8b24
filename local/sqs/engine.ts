import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AwsServiceError } from '../aws/json-protocol';

/**
 * An in-memory Amazon SQS: standard and FIFO queues, visibility timeouts, receive counts, redrive to
 * dead-letter queues, long polling and FIFO group locks, as the SQS API reference documents them
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/Welcome.html).
 *
 * Time comes from `now()` so tests can move it; waits (long polls, delays, visibility timeouts that
 * wake a long poll) use real timers. A test that moves an injected clock calls `tick()` afterwards so
 * waiting receives see what the jump made visible.
 */

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export interface SqsEngineOptions {
  /** Scheme, host and port put in front of queue URLs. @default 'http://127.0.0.1:4566' */
  readonly baseUrl?: string | undefined;
  /** @default 'us-east-1' */
  readonly region?: string | undefined;
  /** @default '000000000000' */
  readonly accountId?: string | undefined;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: (() => number) | undefined;
}

/** A queue URL (any host), a queue ARN or a bare queue name. */
export type QueueRef = string;

/** A message attribute as SQS models it; binary values are raw bytes. */
export interface MessageAttributeValue {
  readonly dataType: string;
  readonly stringValue?: string | undefined;
  readonly binaryValue?: Uint8Array | undefined;
  readonly stringListValues?: readonly string[] | undefined;
  readonly binaryListValues?: readonly Uint8Array[] | undefined;
}

export interface SendMessageInput {
  readonly body: string;
  readonly delaySeconds?: number | undefined;
  readonly messageAttributes?: Readonly<Record<string, MessageAttributeValue>> | undefined;
  readonly messageSystemAttributes?: Readonly<Record<string, MessageAttributeValue>> | undefined;
  readonly messageDeduplicationId?: string | undefined;
  readonly messageGroupId?: string | undefined;
}

export interface SendMessageResult {
  readonly messageId: string;
  readonly md5OfMessageBody: string;
  readonly md5OfMessageAttributes?: string | undefined;
  readonly md5OfMessageSystemAttributes?: string | undefined;
  readonly sequenceNumber?: string | undefined;
}

export interface ReceiveOptions {
  /** 1 to 10. @default 1 */
  readonly maxNumberOfMessages?: number | undefined;
  /** Overrides the queue's VisibilityTimeout for the returned messages. */
  readonly visibilityTimeout?: number | undefined;
  /** 0 to 20. @default the queue's ReceiveMessageWaitTimeSeconds */
  readonly waitTimeSeconds?: number | undefined;
  /** Message system attribute names (`All`, `ApproximateReceiveCount`...). */
  readonly attributeNames?: readonly string[] | undefined;
  /** Message attribute names: `All`, `.*`, `prefix.*` or exact names. */
  readonly messageAttributeNames?: readonly string[] | undefined;
  /** FIFO only: retrying with the same id returns the same messages and receipt handles. */
  readonly receiveRequestAttemptId?: string | undefined;
  /** Ends a long poll early with no messages (for pollers shutting down). */
  readonly signal?: AbortSignal | undefined;
}

export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly md5OfMessageAttributes?: string | undefined;
}

export interface BatchFailure {
  readonly id: string;
  readonly code: string;
  readonly message: string;
  readonly senderFault: boolean;
}

export interface BatchResult<T> {
  readonly successful: readonly (T & { readonly id: string })[];
  readonly failed: readonly BatchFailure[];
}

/** Why a message sits in a dead-letter queue. */
export interface DeadLetterInfo {
  readonly sourceQueueName: string;
  readonly sourceQueueArn: string;
  /** Times the message had been received from the source queue when it was moved. */
  readonly receiveCount: number;
  readonly maxReceiveCount: number;
  /** Epoch milliseconds. */
  readonly movedAt: number;
  readonly reason: string;
}

/** A read-only view of a stored message, for the runtime's status page and tests. */
export interface MessageView {
  readonly messageId: string;
  readonly body: string;
  readonly state: 'visible' | 'inflight' | 'delayed';
  readonly receiveCount: number;
  readonly sentTimestamp: number;
  readonly messageGroupId?: string | undefined;
  readonly messageAttributes: Readonly<Record<string, MessageAttributeValue>>;
  readonly deadLetterInfo?: DeadLetterInfo | undefined;
}

export interface QueueSnapshot {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly fifo: boolean;
  readonly visible: number;
  readonly inflight: number;
  readonly delayed: number;
  readonly oldestMessageAgeSeconds: number;
  /** Long polls parked on this queue. */
  readonly waitingReceives: number;
  readonly isDeadLetterQueue: boolean;
  readonly redriveTarget?:
    | { readonly arn: string; readonly name: string; readonly maxReceiveCount: number }
    | undefined;
  readonly deadLetters?:
    | readonly {
        readonly messageId: string;
        readonly bodyPreview: string;
        readonly receiveCount: number;
        readonly sourceQueue: string;
        readonly sourceQueueArn: string;
        readonly reason: string;
        readonly movedAt: string;
      }[]
    | undefined;
}

export interface SqsSnapshot {
  readonly generatedAt: string;
  readonly queues: readonly QueueSnapshot[];
}

/** The AWS/SQS CloudWatch metrics of one queue; `NumberOf*` are running totals since creation. */
export interface SqsQueueMetrics {
  readonly ApproximateNumberOfMessagesVisible: number;
  readonly ApproximateNumberOfMessagesNotVisible: number;
  readonly ApproximateNumberOfMessagesDelayed: number;
  readonly ApproximateAgeOfOldestMessage: number;
  readonly NumberOfMessagesSent: number;
  readonly NumberOfMessagesReceived: number;
  readonly NumberOfMessagesDeleted: number;
  readonly NumberOfEmptyReceives: number;
}

// ---------------------------------------------------------------------------------------------
// Errors: codes, HTTP status and the legacy query code the SDK reads from `x-amzn-query-error`
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-json-api-responses.html)
// ---------------------------------------------------------------------------------------------

const ERRORS = {
  QueueDoesNotExist: [400, 'AWS.SimpleQueueService.NonExistentQueue'],
  QueueNameExists: [400, 'QueueAlreadyExists'],
  ReceiptHandleIsInvalid: [404, 'ReceiptHandleIsInvalid'],
  MessageNotInflight: [400, 'AWS.SimpleQueueService.MessageNotInflight'],
  InvalidParameterValue: [400, 'InvalidParameterValue'],
  MissingParameter: [400, 'MissingParameter'],
  InvalidAttributeName: [400, 'InvalidAttributeName'],
  InvalidAttributeValue: [400, 'InvalidAttributeValue'],
  InvalidMessageContents: [400, 'InvalidMessageContents'],
  EmptyBatchRequest: [400, 'AWS.SimpleQueueService.EmptyBatchRequest'],
  TooManyEntriesInBatchRequest: [400, 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest'],
  BatchEntryIdsNotDistinct: [400, 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct'],
  InvalidBatchEntryId: [400, 'AWS.SimpleQueueService.InvalidBatchEntryId'],
  BatchRequestTooLong: [400, 'AWS.SimpleQueueService.BatchRequestTooLong'],
  PurgeQueueInProgress: [403, 'AWS.SimpleQueueService.PurgeQueueInProgress'],
  UnsupportedOperation: [400, 'AWS.SimpleQueueService.UnsupportedOperation'],
} as const satisfies Record<string, readonly [number, string]>;

export type SqsErrorCode = keyof typeof ERRORS;

export const sqsError = (code: SqsErrorCode, message: string): AwsServiceError => {
  const [status, queryCode] = ERRORS[code];
  return new AwsServiceError(code, message, status, queryCode);
};

const invalidParameter = (name: string, value: unknown, reason: string) =>
  sqsError(
    'InvalidParameterValue',
    `Value ${String(value)} for parameter ${name} is invalid. Reason: ${reason}`,
  );

/** An optional request parameter that must be an integer in [min, max]; SQS's reason text differs per parameter. */
const checkIntegerParameter = (
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  reason: string,
): void => {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max))
    throw invalidParameter(name, value, reason);
};

// ---------------------------------------------------------------------------------------------
// Limits (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html)
// ---------------------------------------------------------------------------------------------

const MAX_VISIBILITY_SECONDS = 43_200;
const MAX_DELAY_SECONDS = 900;
const MAX_WAIT_SECONDS = 20;
const MAX_BATCH_ENTRIES = 10;
const MAX_MESSAGE_ATTRIBUTES = 10;
/** A batch's messages together may not exceed 1 MiB (API_SendMessageBatch). */
const MAX_BATCH_PAYLOAD_BYTES = 1_048_576;
/** FIFO deduplication interval (FIFO-queues-exactly-once-processing.html). */
const DEDUP_WINDOW_MS = 5 * 60_000;
/** ReceiveRequestAttemptId can be retried for 5 minutes (API_ReceiveMessage). */
const RECEIVE_ATTEMPT_WINDOW_MS = 5 * 60_000;
/** One PurgeQueue per 60 seconds (API_PurgeQueue). */
const PURGE_COOLDOWN_MS = 60_000;
const BODY_PREVIEW_CHARS = 200;
/** Node's setTimeout stores delays in a signed 32-bit integer. */
const MAX_TIMER_MS = 2_147_483_647;

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const FIFO_QUEUE_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** MessageGroupId, MessageDeduplicationId and ReceiveRequestAttemptId: alphanumerics and punctuation, up to 128. */
const FIFO_TOKEN = /^[\x21-\x7e]{1,128}$/;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const ATTRIBUTE_DATA_TYPE = /^(String|Number|Binary)(\..+)?$/;
const NUMBER_VALUE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
/** SQS accepts #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF in bodies and string attributes. */
const hasInvalidMessageChars = (text: string): boolean => {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff);
    if (!allowed) return true;
  }
  return false;
};

// ---------------------------------------------------------------------------------------------
// Queue attributes
// ---------------------------------------------------------------------------------------------

interface AttributeRule {
  readonly fifoOnly?: boolean;
  readonly createOnly?: boolean;
  /** Returns the value as GetQueueAttributes reports it, or throws InvalidAttributeValue. */
  readonly normalize: (value: string) => string;
}

const invalidAttributeValue = (name: string, value: string, reason = '') =>
  sqsError(
    'InvalidAttributeValue',
    `Invalid value for the parameter ${name}: ${value}${reason ? `. ${reason}` : ''}`,
  );

const integerIn =
  (name: string, min: number, max: number) =>
  (value: string): string => {
    const trimmed = value.trim();
    const n = Number(trimmed);
    if (!/^\d+$/.test(trimmed) || n < min || n > max) {
      throw invalidAttributeValue(name, value, `Must be an integer from ${min} to ${max}`);
    }
    return String(n);
  };

const booleanString =
  (name: string) =>
  (value: string): string => {
    const lower = value.trim().toLowerCase();
    if (lower !== 'true' && lower !== 'false')
      throw invalidAttributeValue(name, value, 'Must be true or false');
    return lower;
  };

const oneOf =
  (name: string, allowed: readonly string[]) =>
  (value: string): string => {
    if (!allowed.includes(value))
      throw invalidAttributeValue(name, value, `Must be one of ${allowed.join(', ')}`);
    return value;
  };

interface RedrivePolicy {
  readonly deadLetterTargetArn: string;
  readonly maxReceiveCount: number;
}

interface RedriveAllowPolicy {
  readonly redrivePermission: 'allowAll' | 'denyAll' | 'byQueue';
  readonly sourceQueueArns?: readonly string[];
}

const parseJsonObject = (name: string, value: string): Record<string, unknown> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalidAttributeValue(name, value, 'Must be a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidAttributeValue(name, value, 'Must be a JSON object');
  }
  return parsed as Record<string, unknown>;
};

const parseRedrivePolicy = (value: string): RedrivePolicy => {
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

const parseRedriveAllowPolicy = (value: string): RedriveAllowPolicy => {
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

const STANDARD_DEFAULTS: Readonly<Record<string, string>> = {
  DelaySeconds: '0',
  // 1 MiB since August 2025 (API_CreateQueue: "Default: 1,048,576 bytes (1 MiB)").
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  // New queues get SSE-SQS unless a KMS key is given.
  SqsManagedSseEnabled: 'true',
};

const FIFO_DEFAULTS: Readonly<Record<string, string>> = {
  ...STANDARD_DEFAULTS,
  FifoQueue: 'true',
  ContentBasedDeduplication: 'false',
  DeduplicationScope: 'queue',
  FifoThroughputLimit: 'perQueue',
};

// ---------------------------------------------------------------------------------------------
// MD5 digests (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html#sqs-attributes-md5-message-digest-calculation)
// ---------------------------------------------------------------------------------------------

export const md5Hex = (data: string | Uint8Array): string => createHash('md5').update(data).digest('hex');

const lengthPrefixed = (bytes: Uint8Array): Buffer => {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

/**
 * MD5 of message attributes as SQS computes it: attributes sorted by name, each encoded as the
 * 4-byte big-endian length and UTF-8 bytes of the name and of the data type, one transport byte
 * (1 string, 2 binary, 3 string list, 4 binary list), then each value length-prefixed the same way.
 */
export const md5OfMessageAttributes = (
  attributes: Readonly<Record<string, MessageAttributeValue>>,
): string | undefined => {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  for (const name of names) {
    const attribute = attributes[name];
    if (!attribute) continue;
    parts.push(
      lengthPrefixed(Buffer.from(name, 'utf8')),
      lengthPrefixed(Buffer.from(attribute.dataType, 'utf8')),
    );
    if (attribute.stringValue !== undefined) {
      parts.push(Buffer.from([1]), lengthPrefixed(Buffer.from(attribute.stringValue, 'utf8')));
    } else if (attribute.binaryValue !== undefined) {
      parts.push(Buffer.from([2]), lengthPrefixed(attribute.binaryValue));
    } else if (attribute.stringListValues !== undefined) {
      parts.push(
        Buffer.from([3]),
        ...attribute.stringListValues.map((v) => lengthPrefixed(Buffer.from(v, 'utf8'))),
      );
    } else if (attribute.binaryListValues !== undefined) {
      parts.push(Buffer.from([4]), ...attribute.binaryListValues.map((v) => lengthPrefixed(v)));
    }
  }
  return md5Hex(Buffer.concat(parts));
};

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

interface StoredMessage {
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

interface Waiter {
  readonly options: ReceiveOptions;
  readonly resolve: (messages: ReceivedMessage[]) => void;
  timer?: NodeJS.Timeout | undefined;
  onAbort?: (() => void) | undefined;
}

interface ReceiveAttempt {
  readonly expiresAt: number;
  readonly entries: { readonly messageId: string; readonly receiptHandle: string; visibleAt: number }[];
}

interface Queue {
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
  readonly dedup: Map<
    string,
    { readonly expiresAt: number; readonly messageId: string; readonly sequenceNumber?: string }
  >;
  readonly attempts: Map<string, ReceiveAttempt>;
  readonly waiters: Waiter[];
  wakeTimer?: NodeJS.Timeout | undefined;
  lastPurgeAt?: number | undefined;
  readonly counters: { sent: number; received: number; deleted: number; emptyReceives: number };
}

type MessageState = 'visible' | 'inflight' | 'delayed';

const stateOf = (message: StoredMessage, now: number): MessageState => {
  if (message.visibleAt <= now) return 'visible';
  return message.receiveCount > 0 ? 'inflight' : 'delayed';
};

const utf8Length = (text: string) => Buffer.byteLength(text, 'utf8');

const attributeSize = (name: string, value: MessageAttributeValue): number =>
  utf8Length(name) +
  utf8Length(value.dataType) +
  (value.stringValue === undefined ? 0 : utf8Length(value.stringValue)) +
  (value.binaryValue?.length ?? 0) +
  (value.stringListValues ?? []).reduce((sum, v) => sum + utf8Length(v), 0) +
  (value.binaryListValues ?? []).reduce((sum, v) => sum + v.length, 0);

const encodeReceiptHandle = (queueName: string, messageId: string): string =>
  Buffer.from(JSON.stringify([queueName, messageId, randomBytes(12).toString('hex')]), 'utf8').toString(
    'base64url',
  );

const decodeReceiptHandle = (handle: string): { queueName: string; messageId: string } | undefined => {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(handle, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 3 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string' &&
      typeof parsed[2] === 'string'
    ) {
      return { queueName: parsed[0], messageId: parsed[1] };
    }
  } catch {
    // Falls through: anything we did not issue is an invalid handle.
  }
  return undefined;
};

const batchFailure = (id: string, error: unknown): BatchFailure => {
  if (error instanceof AwsServiceError) {
    return { id, code: error.code, message: error.message, senderFault: error.status < 500 };
  }
  return {
    id,
    code: 'InternalError',
    message: error instanceof Error ? error.message : 'internal error',
    senderFault: false,
  };
};

// ---------------------------------------------------------------------------------------------
// Engine
// ---------------------------------------------------------------------------------------------

export class SqsEngine {
  readonly region: string;
  readonly accountId: string;
  readonly baseUrl: string;
  readonly now: () => number;
  private readonly queues = new Map<string, Queue>();
  private sequence = 0n;
  private closed = false;

  constructor(options: SqsEngineOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.baseUrl = (options.baseUrl ?? 'http://127.0.0.1:4566').replace(/\/+$/, '');
    this.now = options.now ?? Date.now;
  }

  // ----- queues -------------------------------------------------------------------------------

  /** Returns the queue URL; idempotent when the given attributes equal the existing queue's. */
  createQueue(
    name: string,
    attributes: Readonly<Record<string, string>> = {},
    tags: Readonly<Record<string, string>> = {},
  ): string {
    const wantsFifo = name.endsWith('.fifo');
    const fifoAttribute = attributes.FifoQueue?.trim().toLowerCase();
    if (fifoAttribute !== undefined && fifoAttribute !== 'true' && fifoAttribute !== 'false') {
      throw invalidAttributeValue('FifoQueue', attributes.FifoQueue ?? '', 'Must be true or false');
    }
    const fifo = fifoAttribute === 'true';
    if (fifo ? !FIFO_QUEUE_NAME.test(name) : !QUEUE_NAME.test(name)) {
      throw sqsError(
        'InvalidParameterValue',
        fifo || wantsFifo
          ? 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.'
          : 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    const existing = this.queues.get(name);
    if (existing) {
      for (const [key, value] of Object.entries(attributes)) {
        const rule = SETTABLE[key];
        const current = existing.attributes.get(key) ?? (key === 'FifoQueue' ? String(existing.fifo) : '');
        if (!rule || rule.normalize(value) !== current) {
          throw sqsError(
            'QueueNameExists',
            `A queue already exists with the same name and a different value for attribute ${key}`,
          );
        }
      }
      return existing.url;
    }
    const now = this.now();
    const queue: Queue = {
      name,
      fifo,
      url: `${this.baseUrl}/${this.accountId}/${name}`,
      arn: `arn:aws:sqs:${this.region}:${this.accountId}:${name}`,
      createdAt: now,
      lastModifiedAt: now,
      attributes: new Map(Object.entries(fifo ? FIFO_DEFAULTS : STANDARD_DEFAULTS)),
      tags: new Map(),
      messages: new Map(),
      oldestRetentionFrom: Number.POSITIVE_INFINITY,
      dedup: new Map(),
      attempts: new Map(),
      waiters: [],
      counters: { sent: 0, received: 0, deleted: 0, emptyReceives: 0 },
    };
    this.applyAttributes(queue, attributes, true);
    this.applyTags(queue, tags);
    this.queues.set(name, queue);
    return queue.url;
  }

  getQueueUrl(name: string, ownerAccountId?: string): string {
    if (ownerAccountId !== undefined && ownerAccountId !== this.accountId) throw this.noSuchQueue();
    const queue = this.queues.get(name);
    if (!queue) throw this.noSuchQueue();
    return queue.url;
  }

  /** Queue URLs sorted by name; `nextToken` only when `maxResults` cut the list short (API_ListQueues). */
  listQueues(
    options: {
      prefix?: string | undefined;
      maxResults?: number | undefined;
      nextToken?: string | undefined;
    } = {},
  ): { queueUrls: string[]; nextToken?: string } {
    const { prefix = '', maxResults, nextToken } = options;
    checkIntegerParameter('MaxResults', maxResults, 1, 1000, 'Must be between 1 and 1000');
    let after = '';
    if (nextToken !== undefined) {
      after = Buffer.from(nextToken, 'base64url').toString('utf8');
    }
    const names = [...this.queues.keys()].filter((name) => name.startsWith(prefix) && name > after).sort();
    const limit = maxResults ?? 1000;
    const page = names.slice(0, limit);
    const last = page.at(-1);
    const result: { queueUrls: string[]; nextToken?: string } = {
      queueUrls: page.map((name) => this.queueOf(name).url),
    };
    if (maxResults !== undefined && names.length > limit && last !== undefined) {
      result.nextToken = Buffer.from(last, 'utf8').toString('base64url');
    }
    return result;
  }

  /** Names not given return nothing, as SQS does; `All` returns every attribute the queue has. */
  getQueueAttributes(ref: QueueRef, names: readonly string[] = []): Record<string, string> {
    const queue = this.resolve(ref);
    this.sweep(queue);
    const all = this.allAttributes(queue);
    if (names.includes('All')) return all;
    const result: Record<string, string> = {};
    for (const name of names) {
      const known =
        (name in SETTABLE && (queue.fifo || !SETTABLE[name]?.fifoOnly)) ||
        (COMPUTED as readonly string[]).includes(name);
      if (!known) throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      const value = all[name];
      if (value !== undefined) result[name] = value;
    }
    return result;
  }

  setQueueAttributes(ref: QueueRef, attributes: Readonly<Record<string, string>>): void {
    const queue = this.resolve(ref);
    this.applyAttributes(queue, attributes, false);
    queue.lastModifiedAt = this.now();
    // A shorter delay or retention changes what a waiting receive can get.
    this.serve(queue);
  }

  purgeQueue(ref: QueueRef): void {
    const queue = this.resolve(ref);
    const now = this.now();
    if (queue.lastPurgeAt !== undefined && now - queue.lastPurgeAt < PURGE_COOLDOWN_MS) {
      throw sqsError(
        'PurgeQueueInProgress',
        `Only one PurgeQueue operation on ${queue.name} is allowed every 60 seconds.`,
      );
    }
    queue.lastPurgeAt = now;
    queue.messages.clear();
    queue.attempts.clear();
  }

  deleteQueue(ref: QueueRef): void {
    const queue = this.resolve(ref);
    this.queues.delete(queue.name);
    this.releaseWaiters(queue);
  }

  tagQueue(ref: QueueRef, tags: Readonly<Record<string, string>>): void {
    this.applyTags(this.resolve(ref), tags);
  }

  untagQueue(ref: QueueRef, keys: readonly string[]): void {
    const queue = this.resolve(ref);
    for (const key of keys) queue.tags.delete(key);
  }

  listQueueTags(ref: QueueRef): Record<string, string> {
    return Object.fromEntries(this.resolve(ref).tags);
  }

  /** URLs of the queues whose RedrivePolicy targets this queue (API_ListDeadLetterSourceQueues). */
  listDeadLetterSourceQueues(ref: QueueRef): string[] {
    const target = this.resolve(ref);
    return [...this.queues.values()]
      .filter((queue) => this.redrivePolicyOf(queue)?.deadLetterTargetArn === target.arn)
      .map((queue) => queue.url);
  }

  /** Name, URL and ARN of a queue given by URL, ARN or name. */
  describeQueue(ref: QueueRef): { name: string; url: string; arn: string; fifo: boolean } {
    const { name, url, arn, fifo } = this.resolve(ref);
    return { name, url, arn, fifo };
  }

  // ----- messages -----------------------------------------------------------------------------

  sendMessage(ref: QueueRef, input: SendMessageInput): SendMessageResult {
    const queue = this.resolve(ref);
    this.sweep(queue);
    const result = this.enqueue(queue, input);
    this.serve(queue);
    return result;
  }

  sendMessageBatch(
    ref: QueueRef,
    entries: readonly (SendMessageInput & { readonly id: string })[],
  ): BatchResult<SendMessageResult> {
    const queue = this.resolve(ref);
    this.checkBatch(entries);
    const total = entries.reduce(
      (sum, entry) =>
        sum +
        utf8Length(entry.body) +
        Object.entries(entry.messageAttributes ?? {}).reduce((s, [name, v]) => s + attributeSize(name, v), 0),
      0,
    );
    if (total > MAX_BATCH_PAYLOAD_BYTES) {
      throw sqsError(
        'BatchRequestTooLong',
        `Batch requests cannot be longer than ${MAX_BATCH_PAYLOAD_BYTES} bytes. You have sent ${total} bytes.`,
      );
    }
    this.sweep(queue);
    const successful: (SendMessageResult & { id: string })[] = [];
    const failed: BatchFailure[] = [];
    for (const entry of entries) {
      try {
        successful.push({ id: entry.id, ...this.enqueue(queue, entry) });
      } catch (error) {
        failed.push(batchFailure(entry.id, error));
      }
    }
    this.serve(queue);
    return { successful, failed };
  }

  /**
   * Returns visible messages, moving to the DLQ those received more than maxReceiveCount times.
   * With a wait time it resolves as soon as a message becomes available (sent, delay over,
   * visibility timeout over, FIFO group unlocked) or with no messages when the wait ends
   * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html).
   */
  async receiveMessage(ref: QueueRef, options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const queue = this.resolve(ref);
    const { maxNumberOfMessages, visibilityTimeout, waitTimeSeconds, receiveRequestAttemptId } = options;
    checkIntegerParameter(
      'MaxNumberOfMessages',
      maxNumberOfMessages,
      1,
      MAX_BATCH_ENTRIES,
      'Must be between 1 and 10, if provided.',
    );
    checkIntegerParameter(
      'WaitTimeSeconds',
      waitTimeSeconds,
      0,
      MAX_WAIT_SECONDS,
      'Must be >= 0 and <= 20, if provided.',
    );
    checkIntegerParameter(
      'VisibilityTimeout',
      visibilityTimeout,
      0,
      MAX_VISIBILITY_SECONDS,
      'Must be >= 0 and <= 43200, if provided.',
    );
    if (receiveRequestAttemptId !== undefined && !FIFO_TOKEN.test(receiveRequestAttemptId)) {
      throw invalidParameter(
        'ReceiveRequestAttemptId',
        receiveRequestAttemptId,
        'Must be 1 to 128 printable characters.',
      );
    }
    this.sweep(queue);
    const immediate = this.collect(queue, options);
    const wait = waitTimeSeconds ?? Number(queue.attributes.get('ReceiveMessageWaitTimeSeconds'));
    if (immediate.length > 0 || wait <= 0 || this.closed || options.signal?.aborted) {
      if (immediate.length === 0) queue.counters.emptyReceives += 1;
      return immediate;
    }
    return new Promise<ReceivedMessage[]>((resolve) => {
      const waiter: Waiter = { options, resolve };
      const finish = () => {
        this.dropWaiter(queue, waiter);
        queue.counters.emptyReceives += 1;
        resolve([]);
      };
      waiter.timer = setTimeout(finish, wait * 1000);
      if (options.signal) {
        waiter.onAbort = finish;
        options.signal.addEventListener('abort', finish, { once: true });
      }
      queue.waiters.push(waiter);
      this.scheduleWake(queue);
    });
  }

  /**
   * Deletes the message. A handle from an earlier receive of a message still in a standard queue
   * deletes it (SQS documents this "might" happen; in practice it does); on a FIFO queue a handle
   * whose visibility timeout is over has expired. A message already gone is not an error
   * (API_DeleteMessage).
   */
  deleteMessage(ref: QueueRef, receiptHandle: string): void {
    const queue = this.resolve(ref);
    this.sweep(queue);
    this.deleteOne(queue, receiptHandle);
    this.serve(queue);
  }

  deleteMessageBatch(
    ref: QueueRef,
    entries: readonly { readonly id: string; readonly receiptHandle: string }[],
  ): BatchResult<object> {
    const queue = this.resolve(ref);
    this.checkBatch(entries);
    this.sweep(queue);
    const successful: { id: string }[] = [];
    const failed: BatchFailure[] = [];
    for (const entry of entries) {
      try {
        this.deleteOne(queue, entry.receiptHandle);
        successful.push({ id: entry.id });
      } catch (error) {
        failed.push(batchFailure(entry.id, error));
      }
    }
    this.serve(queue);
    return { successful, failed };
  }

  /**
   * Restarts the visibility timeout of an in-flight message from now. It never changes the receive
   * count; 0 makes the message visible at once (API_ChangeMessageVisibility).
   */
  changeMessageVisibility(ref: QueueRef, receiptHandle: string, visibilityTimeout: number): void {
    const queue = this.resolve(ref);
    this.sweep(queue);
    this.changeVisibilityOne(queue, receiptHandle, visibilityTimeout);
    this.serve(queue);
  }

  changeMessageVisibilityBatch(
    ref: QueueRef,
    entries: readonly {
      readonly id: string;
      readonly receiptHandle: string;
      readonly visibilityTimeout: number;
    }[],
  ): BatchResult<object> {
    const queue = this.resolve(ref);
    this.checkBatch(entries);
    this.sweep(queue);
    const successful: { id: string }[] = [];
    const failed: BatchFailure[] = [];
    for (const entry of entries) {
      try {
        this.changeVisibilityOne(queue, entry.receiptHandle, entry.visibilityTimeout);
        successful.push({ id: entry.id });
      } catch (error) {
        failed.push(batchFailure(entry.id, error));
      }
    }
    this.serve(queue);
    return { successful, failed };
  }

  // ----- runtime views ------------------------------------------------------------------------

  /** Every stored message without receiving it, in delivery order. */
  peekMessages(ref: QueueRef): MessageView[] {
    const queue = this.resolve(ref);
    this.sweep(queue);
    const now = this.now();
    return [...queue.messages.values()].map((message) => ({
      messageId: message.messageId,
      body: message.body,
      state: stateOf(message, now),
      receiveCount: message.receiveCount,
      sentTimestamp: message.sentTimestamp,
      messageGroupId: message.messageGroupId,
      messageAttributes: message.messageAttributes,
      deadLetterInfo: message.deadLetterInfo,
    }));
  }

  /** Why each message in this (dead-letter) queue was moved there, keyed by message id. */
  deadLetterInfo(ref: QueueRef): Record<string, DeadLetterInfo> {
    const queue = this.resolve(ref);
    this.sweep(queue);
    const result: Record<string, DeadLetterInfo> = {};
    for (const message of queue.messages.values()) {
      if (message.deadLetterInfo) result[message.messageId] = message.deadLetterInfo;
    }
    return result;
  }

  /** The AWS/SQS metrics that alarms read (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html). */
  metrics(queueName: string): SqsQueueMetrics {
    const queue = this.resolve(queueName);
    this.sweep(queue);
    const counts = this.countsOf(queue);
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
  }

  /** Plain JSON for the runtime's status page. */
  /**
   * Whether a queue that is not a dead-letter queue holds a message, visible, in flight or delayed.
   * Cheap enough to poll while waiting for the runtime to settle, unlike a snapshot.
   */
  hasMessagesOutsideDeadLetterQueues(): boolean {
    const targets = new Set<string>();
    for (const queue of this.queues.values()) {
      const policy = this.redrivePolicyOf(queue);
      if (policy) targets.add(policy.deadLetterTargetArn);
    }
    for (const queue of this.queues.values()) {
      if (targets.has(queue.arn)) continue;
      this.sweep(queue);
      for (const message of queue.messages.values()) if (!message.deadLetterInfo) return true;
    }
    return false;
  }

  snapshot(): SqsSnapshot {
    const now = this.now();
    const targets = new Set<string>();
    for (const queue of this.queues.values()) {
      const policy = this.redrivePolicyOf(queue);
      if (policy) targets.add(policy.deadLetterTargetArn);
    }
    const queues = [...this.queues.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((queue): QueueSnapshot => {
        this.sweep(queue);
        const counts = this.countsOf(queue);
        const policy = this.redrivePolicyOf(queue);
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
        const isDeadLetterQueue = targets.has(queue.arn) || deadLetters.length > 0;
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
      });
    return { generatedAt: new Date(now).toISOString(), queues };
  }

  /** Re-evaluates time-dependent state now; call after moving an injected clock. */
  tick(): void {
    for (const queue of this.queues.values()) {
      this.sweep(queue);
      this.serve(queue);
    }
  }

  /** Clears timers and ends pending long polls with no messages. */
  close(): void {
    this.closed = true;
    for (const queue of this.queues.values()) this.releaseWaiters(queue);
  }

  // ----- internals: resolution and attributes --------------------------------------------------

  private noSuchQueue() {
    return sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
  }

  private queueOf(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw this.noSuchQueue();
    return queue;
  }

  private resolve(ref: QueueRef): Queue {
    if (ref.startsWith('arn:')) {
      const [, , service, region, account, name] = ref.split(':');
      if (service !== 'sqs' || region !== this.region || account !== this.accountId || !name)
        throw this.noSuchQueue();
      return this.queueOf(name);
    }
    if (ref.includes('/')) {
      let path: string;
      try {
        path = new URL(ref).pathname;
      } catch {
        throw this.noSuchQueue();
      }
      const [account, name, ...rest] = path.split('/').filter((part) => part !== '');
      if (account !== this.accountId || !name || rest.length > 0) throw this.noSuchQueue();
      return this.queueOf(name);
    }
    return this.queueOf(ref);
  }

  private redrivePolicyOf(queue: Queue): RedrivePolicy | undefined {
    const value = queue.attributes.get('RedrivePolicy');
    return value ? parseRedrivePolicy(value) : undefined;
  }

  private applyAttributes(
    queue: Queue,
    attributes: Readonly<Record<string, string>>,
    creating: boolean,
  ): void {
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
    if (normalized.has('RedrivePolicy') && redrive)
      this.checkDeadLetterTarget(queue, parseRedrivePolicy(redrive));
    queue.attributes.clear();
    for (const [name, value] of merged) queue.attributes.set(name, value);
  }

  /** The DLQ must exist, be of the same type and allow this source (RedriveAllowPolicy). */
  private checkDeadLetterTarget(source: Queue, policy: RedrivePolicy): void {
    const value = JSON.stringify(policy);
    const [, , , region, account, name] = policy.deadLetterTargetArn.split(':');
    const target =
      region === this.region && account === this.accountId && name ? this.queues.get(name) : undefined;
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
  }

  private allAttributes(queue: Queue): Record<string, string> {
    const counts = this.countsOf(queue);
    return {
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inflight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.lastModifiedAt / 1000)),
      ...Object.fromEntries(queue.attributes),
    };
  }

  private applyTags(queue: Queue, tags: Readonly<Record<string, string>>): void {
    const merged = new Map(queue.tags);
    for (const [key, value] of Object.entries(tags)) {
      if (key.length < 1 || key.length > 128 || typeof value !== 'string' || value.length > 256) {
        throw invalidParameter('Tags', key, 'Tag keys are 1 to 128 characters, values up to 256.');
      }
      merged.set(key, value);
    }
    // Up to 50 tags per queue (quotas-queues.html).
    if (merged.size > 50) throw invalidParameter('Tags', merged.size, 'A queue can have at most 50 tags.');
    queue.tags.clear();
    for (const [key, value] of merged) queue.tags.set(key, value);
  }

  // ----- internals: sending -------------------------------------------------------------------

  private checkBatch(entries: readonly { readonly id: string }[]): void {
    if (entries.length === 0)
      throw sqsError('EmptyBatchRequest', 'There should be at least one entry in the request.');
    if (entries.length > MAX_BATCH_ENTRIES) {
      throw sqsError(
        'TooManyEntriesInBatchRequest',
        `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`,
      );
    }
    const seen = new Set<string>();
    for (const { id } of entries) {
      if (!BATCH_ENTRY_ID.test(id)) {
        throw sqsError(
          'InvalidBatchEntryId',
          'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
        );
      }
      if (seen.has(id)) throw sqsError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
      seen.add(id);
    }
  }

  private checkMessageAttributes(
    attributes: Readonly<Record<string, MessageAttributeValue>>,
    parameter: string,
  ): void {
    const names = Object.keys(attributes);
    if (names.length > MAX_MESSAGE_ATTRIBUTES) {
      throw sqsError(
        'InvalidParameterValue',
        `Number of message attributes [${names.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`,
      );
    }
    for (const name of names) {
      const value = attributes[name];
      if (!value) continue;
      // Names: alphanumerics, '-', '_', '.'; no leading, trailing or doubled '.', no AWS./Amazon. prefix.
      if (
        !ATTRIBUTE_NAME.test(name) ||
        name.startsWith('.') ||
        name.endsWith('.') ||
        name.includes('..') ||
        /^(aws|amazon)\./i.test(name)
      ) {
        throw invalidParameter(`${parameter}.Name`, name, 'Invalid message attribute name.');
      }
      const typeMatch = ATTRIBUTE_DATA_TYPE.exec(value.dataType ?? '');
      if (!typeMatch || value.dataType.length > 256) {
        throw sqsError(
          'InvalidParameterValue',
          `The type of message attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
        );
      }
      const base = typeMatch[1];
      if (base === 'Binary') {
        if (!value.binaryValue || value.binaryValue.length === 0) {
          throw sqsError(
            'InvalidParameterValue',
            `Message attribute '${name}' must contain a non-empty value of type 'Binary'.`,
          );
        }
        continue;
      }
      if (value.stringValue === undefined || value.stringValue === '') {
        throw sqsError(
          'InvalidParameterValue',
          `Message attribute '${name}' must contain a non-empty value of type '${base}'.`,
        );
      }
      if (base === 'Number' && !NUMBER_VALUE.test(value.stringValue)) {
        throw sqsError(
          'InvalidParameterValue',
          `Could not cast message attribute '${name}' value to number.`,
        );
      }
      if (hasInvalidMessageChars(value.stringValue)) {
        throw sqsError('InvalidParameterValue', `Message attribute '${name}' contains invalid characters.`);
      }
    }
  }

  private enqueue(queue: Queue, input: SendMessageInput): SendMessageResult {
    const now = this.now();
    const { body, delaySeconds, messageGroupId } = input;
    const messageAttributes = input.messageAttributes ?? {};
    const systemAttributes = input.messageSystemAttributes ?? {};
    if (body === '')
      throw sqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    if (hasInvalidMessageChars(body)) {
      throw sqsError(
        'InvalidMessageContents',
        'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
      );
    }
    if (delaySeconds !== undefined) {
      if (queue.fifo) {
        // FIFO queues take DelaySeconds only at queue level (API_SendMessage).
        throw invalidParameter(
          'DelaySeconds',
          delaySeconds,
          'The request include parameter that is not valid for this queue type.',
        );
      }
      checkIntegerParameter(
        'DelaySeconds',
        delaySeconds,
        0,
        MAX_DELAY_SECONDS,
        'DelaySeconds must be >= 0 and <= 900.',
      );
    }
    this.checkMessageAttributes(messageAttributes, 'MessageAttribute');
    for (const [name, value] of Object.entries(systemAttributes)) {
      // AWSTraceHeader is the only message system attribute a producer may set.
      if (name !== 'AWSTraceHeader' || value.dataType !== 'String' || !value.stringValue) {
        throw invalidParameter(
          'MessageSystemAttribute',
          name,
          'Only AWSTraceHeader of type String is supported.',
        );
      }
    }
    const size =
      utf8Length(body) +
      Object.entries(messageAttributes).reduce((sum, [name, value]) => sum + attributeSize(name, value), 0);
    const maxSize = Number(queue.attributes.get('MaximumMessageSize'));
    if (size > maxSize) {
      throw sqsError(
        'InvalidParameterValue',
        `One or more parameters are invalid. Reason: Message must be shorter than ${maxSize} bytes.`,
      );
    }
    if (messageGroupId !== undefined && !FIFO_TOKEN.test(messageGroupId)) {
      throw invalidParameter(
        'MessageGroupId',
        messageGroupId,
        'Must be 1 to 128 alphanumeric or punctuation characters.',
      );
    }

    let dedupKey: string | undefined;
    let dedupId: string | undefined;
    if (queue.fifo) {
      if (messageGroupId === undefined) {
        throw sqsError('MissingParameter', 'The request must contain the parameter MessageGroupId.');
      }
      dedupId = input.messageDeduplicationId;
      if (dedupId !== undefined && !FIFO_TOKEN.test(dedupId)) {
        throw invalidParameter(
          'MessageDeduplicationId',
          dedupId,
          'Must be 1 to 128 alphanumeric or punctuation characters.',
        );
      }
      if (dedupId === undefined) {
        if (queue.attributes.get('ContentBasedDeduplication') !== 'true') {
          throw sqsError(
            'InvalidParameterValue',
            'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
          );
        }
        // Content-based deduplication hashes the body only, not the attributes.
        dedupId = createHash('sha256').update(body, 'utf8').digest('hex');
      }
      dedupKey =
        queue.attributes.get('DeduplicationScope') === 'messageGroup'
          ? `${messageGroupId}\u0000${dedupId}`
          : dedupId;
      for (const [key, entry] of queue.dedup) if (entry.expiresAt <= now) queue.dedup.delete(key);
      const duplicate = queue.dedup.get(dedupKey);
      if (duplicate) {
        // A duplicate inside the 5-minute interval is accepted but not delivered again.
        return {
          messageId: duplicate.messageId,
          md5OfMessageBody: md5Hex(body),
          md5OfMessageAttributes: md5OfMessageAttributes(messageAttributes),
          md5OfMessageSystemAttributes: md5OfMessageAttributes(systemAttributes),
          sequenceNumber: duplicate.sequenceNumber,
        };
      }
    } else if (input.messageDeduplicationId !== undefined) {
      throw invalidParameter(
        'MessageDeduplicationId',
        input.messageDeduplicationId,
        'The request include parameter that is not valid for this queue type.',
      );
    }

    const delay = delaySeconds ?? Number(queue.attributes.get('DelaySeconds'));
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5Hex(body),
      messageAttributes,
      systemAttributes,
      senderId: this.accountId,
      sentTimestamp: now,
      messageGroupId,
      messageDeduplicationId: dedupId,
      sequenceNumber: queue.fifo ? this.nextSequenceNumber() : undefined,
      enqueuedAt: now,
      retentionFrom: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
    };
    queue.messages.set(message.messageId, message);
    queue.oldestRetentionFrom = Math.min(queue.oldestRetentionFrom, message.retentionFrom);
    queue.counters.sent += 1;
    if (dedupKey !== undefined) {
      queue.dedup.set(dedupKey, {
        expiresAt: now + DEDUP_WINDOW_MS,
        messageId: message.messageId,
        ...(message.sequenceNumber ? { sequenceNumber: message.sequenceNumber } : {}),
      });
    }
    return {
      messageId: message.messageId,
      md5OfMessageBody: message.md5OfBody,
      md5OfMessageAttributes: md5OfMessageAttributes(messageAttributes),
      md5OfMessageSystemAttributes: md5OfMessageAttributes(systemAttributes),
      sequenceNumber: message.sequenceNumber,
    };
  }

  /** 128-bit, non-consecutive and increasing, like SQS's (API_SendMessage, SequenceNumber). */
  private nextSequenceNumber(): string {
    this.sequence += 1n;
    return (18_000_000_000_000_000_000n + BigInt(this.now()) * 1_000_000n + this.sequence).toString();
  }

  // ----- internals: receiving -----------------------------------------------------------------

  private countsOf(queue: Queue) {
    const now = this.now();
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
  }

  /** Drops messages older than MessageRetentionPeriod, in flight or not. */
  private sweep(queue: Queue): void {
    const now = this.now();
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
  }

  /** Takes up to MaxNumberOfMessages available messages, redriving those past maxReceiveCount. */
  private collect(queue: Queue, options: ReceiveOptions): ReceivedMessage[] {
    const now = this.now();
    const max = options.maxNumberOfMessages ?? 1;
    const visibilityMs =
      (options.visibilityTimeout ?? Number(queue.attributes.get('VisibilityTimeout'))) * 1000;
    const attemptId = queue.fifo ? options.receiveRequestAttemptId : undefined;

    if (attemptId !== undefined) {
      const replay = this.replayAttempt(queue, attemptId, visibilityMs, options);
      if (replay) return replay;
    }

    const policy = this.redrivePolicyOf(queue);
    const deadLetterQueue = policy ? this.findByArn(policy.deadLetterTargetArn) : undefined;
    const taken: StoredMessage[] = [];
    // FIFO: a group with a message in flight is locked, and a group whose head is not yet available
    // blocks the messages behind it (FIFO-queues-understanding-logic.html).
    const lockedGroups = new Set<string>();
    if (queue.fifo) {
      for (const message of queue.messages.values()) {
        if (message.messageGroupId !== undefined && stateOf(message, now) === 'inflight') {
          lockedGroups.add(message.messageGroupId);
        }
      }
    }
    const blockedGroups = new Set<string>();
    // Deleting the entry being visited (a move to the DLQ) is safe while iterating a Map.
    for (const message of queue.messages.values()) {
      if (taken.length >= max) break;
      const group = message.messageGroupId;
      if (queue.fifo && group !== undefined && (lockedGroups.has(group) || blockedGroups.has(group)))
        continue;
      if (stateOf(message, now) !== 'visible') {
        if (queue.fifo && group !== undefined) blockedGroups.add(group);
        continue;
      }
      // maxReceiveCount N allows N receives; the attempt that would be receive N+1 moves the
      // message to the DLQ instead (sqs-dead-letter-queues.html).
      if (policy && deadLetterQueue && message.receiveCount >= policy.maxReceiveCount) {
        this.moveToDeadLetterQueue(queue, message, deadLetterQueue, policy.maxReceiveCount);
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.receivedAt = now;
      message.visibleAt = now + visibilityMs;
      message.receiptHandle = encodeReceiptHandle(queue.name, message.messageId);
      taken.push(message);
    }
    queue.counters.received += taken.length;
    if (attemptId !== undefined && taken.length > 0) {
      queue.attempts.set(attemptId, {
        expiresAt: now + RECEIVE_ATTEMPT_WINDOW_MS,
        entries: taken.map((message) => ({
          messageId: message.messageId,
          receiptHandle: message.receiptHandle ?? '',
          visibleAt: message.visibleAt,
        })),
      });
    }
    return taken.map((message) => this.toReceived(queue, message, options));
  }

  /** Same messages and handles again if none was deleted or changed since (API_ReceiveMessage). */
  private replayAttempt(
    queue: Queue,
    attemptId: string,
    visibilityMs: number,
    options: ReceiveOptions,
  ): ReceivedMessage[] | undefined {
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
    const now = this.now();
    messages.forEach((message, index) => {
      message.visibleAt = now + visibilityMs;
      const entry = attempt.entries[index];
      if (entry) entry.visibleAt = message.visibleAt;
    });
    return messages.map((message) => this.toReceived(queue, message, options));
  }

  private findByArn(arn: string): Queue | undefined {
    const [, , , region, account, name] = arn.split(':');
    return region === this.region && account === this.accountId && name ? this.queues.get(name) : undefined;
  }

  /**
   * Moves a message to the DLQ with its id, body, attributes and receive count. Standard queues
   * keep the original enqueue time for retention, FIFO queues reset it
   * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html).
   */
  private moveToDeadLetterQueue(
    source: Queue,
    message: StoredMessage,
    target: Queue,
    maxReceiveCount: number,
  ): void {
    const now = this.now();
    source.messages.delete(message.messageId);
    const moved: StoredMessage = {
      ...message,
      sequenceNumber: target.fifo ? this.nextSequenceNumber() : undefined,
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
    };
    target.messages.set(moved.messageId, moved);
    target.oldestRetentionFrom = Math.min(target.oldestRetentionFrom, moved.retentionFrom);
    target.counters.sent += 1;
    // Serve the DLQ's own waiters after this receive finishes.
    queueMicrotask(() => this.serve(target));
  }

  private toReceived(queue: Queue, message: StoredMessage, options: ReceiveOptions): ReceivedMessage {
    const wanted = new Set(options.attributeNames ?? []);
    const all = wanted.has('All');
    const system: Record<string, string | undefined> = {
      SenderId: message.senderId,
      SentTimestamp: String(message.sentTimestamp),
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? this.now()),
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
  }

  // ----- internals: deleting and visibility ---------------------------------------------------

  private findByHandle(queue: Queue, receiptHandle: string): StoredMessage | undefined {
    const decoded = decodeReceiptHandle(receiptHandle);
    if (!decoded) {
      throw sqsError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`,
      );
    }
    if (decoded.queueName !== queue.name) {
      throw sqsError(
        'ReceiptHandleIsInvalid',
        `The receipt handle "${receiptHandle}" is not valid for this queue.`,
      );
    }
    return queue.messages.get(decoded.messageId);
  }

  private handleExpired(receiptHandle: string) {
    return invalidParameter('ReceiptHandle', receiptHandle, 'The receipt handle has expired.');
  }

  private deleteOne(queue: Queue, receiptHandle: string): void {
    const message = this.findByHandle(queue, receiptHandle);
    if (!message) return;
    if (queue.fifo) {
      const current = message.receiptHandle === receiptHandle && stateOf(message, this.now()) === 'inflight';
      if (!current) throw this.handleExpired(receiptHandle);
    }
    queue.messages.delete(message.messageId);
    queue.counters.deleted += 1;
  }

  private changeVisibilityOne(queue: Queue, receiptHandle: string, visibilityTimeout: number): void {
    checkIntegerParameter(
      'VisibilityTimeout',
      visibilityTimeout,
      0,
      MAX_VISIBILITY_SECONDS,
      'Must be >= 0 and <= 43200.',
    );
    const message = this.findByHandle(queue, receiptHandle);
    if (!message) {
      throw invalidParameter(
        'ReceiptHandle',
        receiptHandle,
        'Message does not exist or is not available for visibility timeout change.',
      );
    }
    const now = this.now();
    if (stateOf(message, now) !== 'inflight') {
      throw sqsError('MessageNotInflight', 'The message referred to is not in flight.');
    }
    if (message.receiptHandle !== receiptHandle) throw this.handleExpired(receiptHandle);
    // A message stays in flight 12 hours at most from its receive (sqs-visibility-timeout.html).
    if (now + visibilityTimeout * 1000 - (message.receivedAt ?? now) > MAX_VISIBILITY_SECONDS * 1000) {
      throw invalidParameter(
        'VisibilityTimeout',
        visibilityTimeout,
        `Total VisibilityTimeout for the message is beyond the limit [${MAX_VISIBILITY_SECONDS} seconds].`,
      );
    }
    message.visibleAt = now + visibilityTimeout * 1000;
  }

  // ----- internals: long polling --------------------------------------------------------------

  /** Hands newly available messages to waiting receives, oldest waiter first. */
  private serve(queue: Queue): void {
    if (queue.waiters.length === 0 || this.queues.get(queue.name) !== queue) return;
    this.sweep(queue);
    for (const waiter of [...queue.waiters]) {
      const messages = this.collect(queue, waiter.options);
      if (messages.length === 0) continue;
      this.dropWaiter(queue, waiter);
      waiter.resolve(messages);
    }
    this.scheduleWake(queue);
  }

  /** One timer per queue, set for the moment the next delayed or in-flight message turns visible. */
  private scheduleWake(queue: Queue): void {
    if (queue.wakeTimer) clearTimeout(queue.wakeTimer);
    queue.wakeTimer = undefined;
    if (queue.waiters.length === 0 || this.closed) return;
    const now = this.now();
    let next: number | undefined;
    for (const message of queue.messages.values()) {
      if (message.visibleAt > now && (next === undefined || message.visibleAt < next))
        next = message.visibleAt;
    }
    if (next === undefined) return;
    queue.wakeTimer = setTimeout(
      () => {
        queue.wakeTimer = undefined;
        this.serve(queue);
      },
      Math.min(MAX_TIMER_MS, Math.max(0, next - now)),
    );
    queue.wakeTimer.unref();
  }

  private dropWaiter(queue: Queue, waiter: Waiter): void {
    const index = queue.waiters.indexOf(waiter);
    if (index >= 0) queue.waiters.splice(index, 1);
    if (waiter.timer) clearTimeout(waiter.timer);
    if (waiter.onAbort) waiter.options.signal?.removeEventListener('abort', waiter.onAbort);
    if (queue.waiters.length === 0 && queue.wakeTimer) {
      clearTimeout(queue.wakeTimer);
      queue.wakeTimer = undefined;
    }
  }

  private releaseWaiters(queue: Queue): void {
    for (const waiter of [...queue.waiters]) {
      this.dropWaiter(queue, waiter);
      waiter.resolve([]);
    }
    if (queue.wakeTimer) clearTimeout(queue.wakeTimer);
    queue.wakeTimer = undefined;
  }
}
