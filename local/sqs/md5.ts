/** SQS's MD5 digests of message bodies and message attributes, as the SDKs verify them. */
import { createHash } from 'node:crypto';
import type { MessageAttributeValue } from './types';

// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html#sqs-attributes-md5-message-digest-calculation

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

/** The digests SendMessage returns for what it accepted. */
export const sendDigests = (
  body: string,
  messageAttributes: Readonly<Record<string, MessageAttributeValue>>,
  systemAttributes: Readonly<Record<string, MessageAttributeValue>>,
) => ({
  md5OfMessageBody: md5Hex(body),
  md5OfMessageAttributes: md5OfMessageAttributes(messageAttributes),
  md5OfMessageSystemAttributes: md5OfMessageAttributes(systemAttributes),
});
