/** SQS errors: each code's HTTP status and legacy query code, and the errors the engine throws. */
import { AwsServiceError } from '../aws/json-protocol';
import type { BatchFailure } from './types';

// The query code is what the SDK reads from `x-amzn-query-error`
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-json-api-responses.html).
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

export const invalidParameter = (name: string, value: unknown, reason: string) =>
  sqsError(
    'InvalidParameterValue',
    `Value ${String(value)} for parameter ${name} is invalid. Reason: ${reason}`,
  );

export const invalidAttributeValue = (name: string, value: string, reason = '') =>
  sqsError(
    'InvalidAttributeValue',
    `Invalid value for the parameter ${name}: ${value}${reason ? `. ${reason}` : ''}`,
  );

export const noSuchQueue = () => sqsError('QueueDoesNotExist', 'The specified queue does not exist.');

/** A batch entry's failure as the batch result reports it; anything not an SQS error is a server fault. */
export const batchFailure = (id: string, error: unknown): BatchFailure => {
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
