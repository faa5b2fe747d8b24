import type { JsonService } from '../aws/json-protocol';
import {
  type BatchResult,
  type MessageAttributeValue,
  type ReceivedMessage,
  type SendMessageInput,
  type SendMessageResult,
  type SqsEngine,
  sqsError,
} from './engine';

/**
 * The SQS AWS JSON protocol (awsJson1_0, `X-Amz-Target: AmazonSQS.<Operation>`) over `SqsEngine`,
 * with the request and response member names of the SQS API reference
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_Operations.html).
 * Blobs (binary message attributes) travel as base64 strings.
 */

type Input = Readonly<Record<string, unknown>>;

const missing = (name: string) =>
  sqsError('MissingParameter', `The request must contain the parameter ${name}.`);

const malformed = (name: string, expected: string) =>
  sqsError('InvalidParameterValue', `Value for parameter ${name} is invalid. Reason: must be ${expected}.`);

const isObject = (value: unknown): value is Input =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const optionalString = (input: Input, name: string): string | undefined => {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw malformed(name, 'a string');
  return value;
};

const requiredString = (input: Input, name: string): string => {
  const value = optionalString(input, name);
  if (value === undefined) throw missing(name);
  return value;
};

const optionalInteger = (input: Input, name: string): number | undefined => {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw malformed(name, 'an integer');
  return value;
};

const optionalStringList = (input: Input, name: string): string[] | undefined => {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw malformed(name, 'a list of strings');
  }
  return value;
};

const optionalStringMap = (input: Input, name: string): Record<string, string> | undefined => {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || !Object.values(value).every((item) => typeof item === 'string')) {
    throw malformed(name, 'a map of strings');
  }
  return value as Record<string, string>;
};

const requiredEntries = (input: Input, name: string): Input[] => {
  const value = input[name];
  if (value === undefined || value === null) throw missing(name);
  if (!Array.isArray(value) || !value.every(isObject)) throw malformed(name, 'a list of entries');
  return value;
};

const fromBase64 = (value: unknown, name: string): Uint8Array => {
  if (typeof value !== 'string') throw malformed(name, 'base64 binary');
  return Buffer.from(value, 'base64');
};

const readAttributeValue = (value: unknown, name: string): MessageAttributeValue => {
  if (!isObject(value)) throw malformed(name, 'a message attribute value');
  const stringList = optionalStringList(value, 'StringListValues');
  const binaryList = value.BinaryListValues;
  if (binaryList !== undefined && binaryList !== null && !Array.isArray(binaryList)) {
    throw malformed(`${name}.BinaryListValues`, 'a list of base64 binaries');
  }
  const stringValue = optionalString(value, 'StringValue');
  const binaryValue = value.BinaryValue;
  return {
    dataType: requiredString(value, 'DataType'),
    ...(stringValue !== undefined ? { stringValue } : {}),
    ...(binaryValue !== undefined && binaryValue !== null
      ? { binaryValue: fromBase64(binaryValue, `${name}.BinaryValue`) }
      : {}),
    ...(stringList && stringList.length > 0 ? { stringListValues: stringList } : {}),
    ...(Array.isArray(binaryList) && binaryList.length > 0
      ? { binaryListValues: binaryList.map((item) => fromBase64(item, `${name}.BinaryListValues`)) }
      : {}),
  };
};

const readAttributeMap = (input: Input, name: string): Record<string, MessageAttributeValue> | undefined => {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw malformed(name, 'a map of message attributes');
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, readAttributeValue(item, `${name}.${key}`)]),
  );
};

const readSendInput = (input: Input): SendMessageInput => ({
  body: requiredString(input, 'MessageBody'),
  delaySeconds: optionalInteger(input, 'DelaySeconds'),
  messageAttributes: readAttributeMap(input, 'MessageAttributes'),
  messageSystemAttributes: readAttributeMap(input, 'MessageSystemAttributes'),
  messageDeduplicationId: optionalString(input, 'MessageDeduplicationId'),
  messageGroupId: optionalString(input, 'MessageGroupId'),
});

const writeAttributeValue = (value: MessageAttributeValue) => ({
  DataType: value.dataType,
  ...(value.stringValue !== undefined ? { StringValue: value.stringValue } : {}),
  ...(value.binaryValue !== undefined
    ? { BinaryValue: Buffer.from(value.binaryValue).toString('base64') }
    : {}),
  ...(value.stringListValues ? { StringListValues: value.stringListValues } : {}),
  ...(value.binaryListValues
    ? { BinaryListValues: value.binaryListValues.map((item) => Buffer.from(item).toString('base64')) }
    : {}),
});

const writeSendResult = (result: SendMessageResult) => ({
  MessageId: result.messageId,
  MD5OfMessageBody: result.md5OfMessageBody,
  ...(result.md5OfMessageAttributes ? { MD5OfMessageAttributes: result.md5OfMessageAttributes } : {}),
  ...(result.md5OfMessageSystemAttributes
    ? { MD5OfMessageSystemAttributes: result.md5OfMessageSystemAttributes }
    : {}),
  ...(result.sequenceNumber ? { SequenceNumber: result.sequenceNumber } : {}),
});

const writeMessage = (message: ReceivedMessage) => {
  const attributeNames = Object.keys(message.messageAttributes);
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(message.attributes).length > 0 ? { Attributes: message.attributes } : {}),
    ...(attributeNames.length > 0
      ? {
          MessageAttributes: Object.fromEntries(
            Object.entries(message.messageAttributes).map(([name, value]) => [
              name,
              writeAttributeValue(value),
            ]),
          ),
          MD5OfMessageAttributes: message.md5OfMessageAttributes,
        }
      : {}),
  };
};

const writeBatch = <T>(result: BatchResult<T>, write: (entry: T & { readonly id: string }) => object) => ({
  Successful: result.successful.map((entry) => ({ Id: entry.id, ...write(entry) })),
  Failed: result.failed.map((failure) => ({
    Id: failure.id,
    SenderFault: failure.senderFault,
    Code: failure.code,
    Message: failure.message,
  })),
});

const entryId = (entry: Input) => requiredString(entry, 'Id');

export class SqsService implements JsonService {
  readonly targetPrefix = 'AmazonSQS';
  readonly errorNamespace = 'com.amazonaws.sqs';

  constructor(readonly engine: SqsEngine) {}

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    const engine = this.engine;
    const queueUrl = () => requiredString(input, 'QueueUrl');
    switch (operation) {
      case 'CreateQueue':
        return {
          QueueUrl: engine.createQueue(
            requiredString(input, 'QueueName'),
            optionalStringMap(input, 'Attributes'),
            optionalStringMap(input, 'tags'),
          ),
        };
      case 'GetQueueUrl':
        return {
          QueueUrl: engine.getQueueUrl(
            requiredString(input, 'QueueName'),
            optionalString(input, 'QueueOwnerAWSAccountId'),
          ),
        };
      case 'ListQueues': {
        const result = engine.listQueues({
          prefix: optionalString(input, 'QueueNamePrefix'),
          maxResults: optionalInteger(input, 'MaxResults'),
          nextToken: optionalString(input, 'NextToken'),
        });
        return {
          ...(result.queueUrls.length > 0 ? { QueueUrls: result.queueUrls } : {}),
          ...(result.nextToken ? { NextToken: result.nextToken } : {}),
        };
      }
      case 'GetQueueAttributes': {
        const attributes = engine.getQueueAttributes(queueUrl(), optionalStringList(input, 'AttributeNames'));
        return Object.keys(attributes).length > 0 ? { Attributes: attributes } : {};
      }
      case 'SetQueueAttributes': {
        const attributes = optionalStringMap(input, 'Attributes');
        if (!attributes) throw missing('Attributes');
        engine.setQueueAttributes(queueUrl(), attributes);
        return {};
      }
      case 'SendMessage':
        return writeSendResult(engine.sendMessage(queueUrl(), readSendInput(input)));
      case 'SendMessageBatch': {
        const entries = requiredEntries(input, 'Entries').map((entry) => ({
          id: entryId(entry),
          ...readSendInput(entry),
        }));
        return writeBatch(engine.sendMessageBatch(queueUrl(), entries), writeSendResult);
      }
      case 'ReceiveMessage': {
        // AttributeNames is the deprecated spelling of MessageSystemAttributeNames; SDKs send either.
        const names = [
          ...(optionalStringList(input, 'AttributeNames') ?? []),
          ...(optionalStringList(input, 'MessageSystemAttributeNames') ?? []),
        ];
        const messages = await engine.receiveMessage(queueUrl(), {
          maxNumberOfMessages: optionalInteger(input, 'MaxNumberOfMessages'),
          visibilityTimeout: optionalInteger(input, 'VisibilityTimeout'),
          waitTimeSeconds: optionalInteger(input, 'WaitTimeSeconds'),
          attributeNames: names,
          messageAttributeNames: optionalStringList(input, 'MessageAttributeNames'),
          receiveRequestAttemptId: optionalString(input, 'ReceiveRequestAttemptId'),
        });
        return messages.length > 0 ? { Messages: messages.map(writeMessage) } : {};
      }
      case 'DeleteMessage':
        engine.deleteMessage(queueUrl(), requiredString(input, 'ReceiptHandle'));
        return {};
      case 'DeleteMessageBatch': {
        const entries = requiredEntries(input, 'Entries').map((entry) => ({
          id: entryId(entry),
          receiptHandle: requiredString(entry, 'ReceiptHandle'),
        }));
        return writeBatch(engine.deleteMessageBatch(queueUrl(), entries), () => ({}));
      }
      case 'ChangeMessageVisibility': {
        const timeout = optionalInteger(input, 'VisibilityTimeout');
        if (timeout === undefined) throw missing('VisibilityTimeout');
        engine.changeMessageVisibility(queueUrl(), requiredString(input, 'ReceiptHandle'), timeout);
        return {};
      }
      case 'ChangeMessageVisibilityBatch': {
        const entries = requiredEntries(input, 'Entries').map((entry) => ({
          id: entryId(entry),
          receiptHandle: requiredString(entry, 'ReceiptHandle'),
          // The batch entry's VisibilityTimeout is optional in the model; SQS treats a missing one as 0.
          visibilityTimeout: optionalInteger(entry, 'VisibilityTimeout') ?? 0,
        }));
        return writeBatch(engine.changeMessageVisibilityBatch(queueUrl(), entries), () => ({}));
      }
      case 'PurgeQueue':
        engine.purgeQueue(queueUrl());
        return {};
      case 'DeleteQueue':
        engine.deleteQueue(queueUrl());
        return {};
      case 'TagQueue': {
        const tags = optionalStringMap(input, 'Tags');
        if (!tags) throw missing('Tags');
        engine.tagQueue(queueUrl(), tags);
        return {};
      }
      case 'UntagQueue': {
        const keys = optionalStringList(input, 'TagKeys');
        if (!keys) throw missing('TagKeys');
        engine.untagQueue(queueUrl(), keys);
        return {};
      }
      case 'ListQueueTags': {
        const tags = engine.listQueueTags(queueUrl());
        return Object.keys(tags).length > 0 ? { Tags: tags } : {};
      }
      case 'ListDeadLetterSourceQueues':
        // The model spells this output member in lower camel case.
        return { queueUrls: engine.listDeadLetterSourceQueues(queueUrl()) };
      case 'StartMessageMoveTask':
        return {
          TaskHandle: engine.startMessageMoveTask(
            requiredString(input, 'SourceArn'),
            optionalString(input, 'DestinationArn'),
            optionalInteger(input, 'MaxNumberOfMessagesPerSecond'),
          ),
        };
      case 'ListMessageMoveTasks':
        return {
          Results: engine
            .listMessageMoveTasks(requiredString(input, 'SourceArn'), optionalInteger(input, 'MaxResults'))
            .map((task) => ({
              // Only a running task has a handle to cancel it by.
              ...(task.status === 'RUNNING' ? { TaskHandle: task.taskHandle } : {}),
              Status: task.status,
              SourceArn: task.sourceArn,
              ...(task.destinationArn ? { DestinationArn: task.destinationArn } : {}),
              ...(task.maxNumberOfMessagesPerSecond === undefined
                ? {}
                : { MaxNumberOfMessagesPerSecond: task.maxNumberOfMessagesPerSecond }),
              ApproximateNumberOfMessagesMoved: task.approximateNumberOfMessagesMoved,
              ApproximateNumberOfMessagesToMove: task.approximateNumberOfMessagesToMove,
              ...(task.failureReason ? { FailureReason: task.failureReason } : {}),
              StartedTimestamp: task.startedTimestamp,
            })),
        };
      case 'CancelMessageMoveTask':
        return {
          ApproximateNumberOfMessagesMoved: engine.cancelMessageMoveTask(requiredString(input, 'TaskHandle')),
        };
      default:
        throw sqsError(
          'UnsupportedOperation',
          `The operation ${operation} is not supported by the local SQS.`,
        );
    }
  }
}
