/** Request parameter rules: SQS's limits and name patterns, and the checks a request's parameters pass. */
import { invalidAttributeValue, invalidParameter, sqsError } from './errors';
import type { MessageAttributeValue, ReceiveOptions, SendMessageInput } from './types';

// Limits (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html)

export const MAX_VISIBILITY_SECONDS = 43_200;
export const MAX_DELAY_SECONDS = 900;
export const MAX_WAIT_SECONDS = 20;
export const MAX_BATCH_ENTRIES = 10;
const MAX_MESSAGE_ATTRIBUTES = 10;
/** A batch's messages together may not exceed 1 MiB (API_SendMessageBatch). */
const MAX_BATCH_PAYLOAD_BYTES = 1_048_576;
/** FIFO deduplication interval (FIFO-queues-exactly-once-processing.html). */
export const DEDUP_WINDOW_MS = 5 * 60_000;
/** ReceiveRequestAttemptId can be retried for 5 minutes (API_ReceiveMessage). */
export const RECEIVE_ATTEMPT_WINDOW_MS = 5 * 60_000;
/** One PurgeQueue per 60 seconds (API_PurgeQueue). */
export const PURGE_COOLDOWN_MS = 60_000;
export const BODY_PREVIEW_CHARS = 200;
/** Node's setTimeout stores delays in a signed 32-bit integer. */
export const MAX_TIMER_MS = 2_147_483_647;

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const FIFO_QUEUE_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** MessageGroupId, MessageDeduplicationId and ReceiveRequestAttemptId: alphanumerics and punctuation, up to 128. */
export const FIFO_TOKEN = /^[\x21-\x7e]{1,128}$/;
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

/** An optional request parameter that must be an integer in [min, max]; SQS's reason text differs per parameter. */
export const checkIntegerParameter = (
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  reason: string,
): void => {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max))
    throw invalidParameter(name, value, reason);
};

const utf8Length = (text: string) => Buffer.byteLength(text, 'utf8');

const attributeSize = (name: string, value: MessageAttributeValue): number =>
  utf8Length(name) +
  utf8Length(value.dataType) +
  (value.stringValue === undefined ? 0 : utf8Length(value.stringValue)) +
  (value.binaryValue?.length ?? 0) +
  (value.stringListValues ?? []).reduce((sum, v) => sum + utf8Length(v), 0) +
  (value.binaryListValues ?? []).reduce((sum, v) => sum + v.length, 0);

const messageSize = (input: SendMessageInput): number =>
  utf8Length(input.body) +
  Object.entries(input.messageAttributes ?? {}).reduce(
    (sum, [name, value]) => sum + attributeSize(name, value),
    0,
  );

// Attribute value parsers: each returns the value as GetQueueAttributes reports it, or throws InvalidAttributeValue.

export const integerIn =
  (name: string, min: number, max: number) =>
  (value: string): string => {
    const trimmed = value.trim();
    const n = Number(trimmed);
    if (!/^\d+$/.test(trimmed) || n < min || n > max) {
      throw invalidAttributeValue(name, value, `Must be an integer from ${min} to ${max}`);
    }
    return String(n);
  };

export const booleanString =
  (name: string) =>
  (value: string): string => {
    const lower = value.trim().toLowerCase();
    if (lower !== 'true' && lower !== 'false')
      throw invalidAttributeValue(name, value, 'Must be true or false');
    return lower;
  };

export const oneOf =
  (name: string, allowed: readonly string[]) =>
  (value: string): string => {
    if (!allowed.includes(value))
      throw invalidAttributeValue(name, value, `Must be one of ${allowed.join(', ')}`);
    return value;
  };

export const parseJsonObject = (name: string, value: string): Record<string, unknown> => {
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

/** CreateQueue's name rule; a FIFO queue's name ends in `.fifo`. */
export const checkQueueName = (name: string, fifo: boolean): void => {
  if (fifo ? !FIFO_QUEUE_NAME.test(name) : !QUEUE_NAME.test(name)) {
    throw sqsError(
      'InvalidParameterValue',
      fifo || name.endsWith('.fifo')
        ? 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.'
        : 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
    );
  }
};

/** Every batch request: 1 to 10 entries with distinct, well-formed ids. */
export const checkBatch = (entries: readonly { readonly id: string }[]): void => {
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
};

/** A SendMessageBatch's messages together may not exceed 1 MiB. */
export const checkSendBatchSize = (entries: readonly SendMessageInput[]): void => {
  const total = entries.reduce((sum, entry) => sum + messageSize(entry), 0);
  if (total > MAX_BATCH_PAYLOAD_BYTES) {
    throw sqsError(
      'BatchRequestTooLong',
      `Batch requests cannot be longer than ${MAX_BATCH_PAYLOAD_BYTES} bytes. You have sent ${total} bytes.`,
    );
  }
};

const checkMessageAttributes = (
  attributes: Readonly<Record<string, MessageAttributeValue>>,
  parameter: string,
): void => {
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
      throw sqsError('InvalidParameterValue', `Could not cast message attribute '${name}' value to number.`);
    }
    if (hasInvalidMessageChars(value.stringValue)) {
      throw sqsError('InvalidParameterValue', `Message attribute '${name}' contains invalid characters.`);
    }
  }
};

/** What SendMessage checks before any FIFO rule: body, delay, attributes, size and group id. */
export const checkSendInput = (input: SendMessageInput, fifo: boolean, maxSize: number): void => {
  const { body, delaySeconds, messageGroupId } = input;
  const messageAttributes = input.messageAttributes ?? {};
  const systemAttributes = input.messageSystemAttributes ?? {};
  if (body === '') throw sqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
  if (hasInvalidMessageChars(body)) {
    throw sqsError(
      'InvalidMessageContents',
      'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    );
  }
  if (delaySeconds !== undefined) {
    if (fifo) {
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
  checkMessageAttributes(messageAttributes, 'MessageAttribute');
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
  if (messageSize(input) > maxSize) {
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
};

/** ReceiveMessage's numeric parameters and its FIFO receive request attempt id. */
export const checkReceiveOptions = (options: ReceiveOptions): void => {
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
};

/** The queue's tags with `added` merged in: keys 1 to 128 characters, values up to 256, at most 50 (quotas-queues.html). */
export const mergeTags = (
  current: ReadonlyMap<string, string>,
  added: Readonly<Record<string, string>>,
): Map<string, string> => {
  const merged = new Map(current);
  for (const [key, value] of Object.entries(added)) {
    if (key.length < 1 || key.length > 128 || typeof value !== 'string' || value.length > 256) {
      throw invalidParameter('Tags', key, 'Tag keys are 1 to 128 characters, values up to 256.');
    }
    merged.set(key, value);
  }
  if (merged.size > 50) throw invalidParameter('Tags', merged.size, 'A queue can have at most 50 tags.');
  return merged;
};
