/** Receipt handles: how a receive issues one and which stored message a handle names. */
import { randomBytes } from 'node:crypto';
import { invalidParameter, sqsError } from './errors';
import type { Queue, StoredMessage } from './queue';

export const encodeReceiptHandle = (queueName: string, messageId: string): string =>
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

/** The message a handle names, undefined when it is gone; a handle we did not issue for this queue is invalid. */
export const messageByHandle = (queue: Queue, receiptHandle: string): StoredMessage | undefined => {
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
};

export const handleExpired = (receiptHandle: string) =>
  invalidParameter('ReceiptHandle', receiptHandle, 'The receipt handle has expired.');
