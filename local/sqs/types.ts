/** The local SQS's public types: engine options, request inputs, results and read-only views. */

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
