import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';

/**
 * Dead-letter queues: how full each is, and redrive. A consumer's DLQ is redriven the way SQS does
 * it, with a message move task (StartMessageMoveTask: each message goes back to the queue it came
 * from, SQS does the moving). The bus's target DLQ is not the DLQ of a queue (EventBridge put the
 * events there after its retries), so a move task cannot take it: its events are put back on the bus.
 * Either way every consumer is idempotent per canonical event id, so a redriven event that was in
 * fact handled changes nothing.
 */

export interface DeadLetterQueueRef {
  /** The consumer (or `bus-targets`) the DLQ belongs to. */
  readonly name: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
  /** The queue its messages came from; absent for the bus's target DLQ. */
  readonly queueUrl?: string;
  readonly queueArn?: string;
}

export interface DeadLetterQueueState extends DeadLetterQueueRef {
  readonly messages: number;
  readonly inFlight: number;
}

/** Each DLQ with its approximate message counts (GetQueueAttributes: no message is touched). */
export const listDeadLetterQueues = async (
  sqs: SQSClient,
  queues: readonly DeadLetterQueueRef[],
): Promise<DeadLetterQueueState[]> =>
  Promise.all(
    queues.map(async (queue) => {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queue.dlqUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return {
        ...queue,
        messages: Number(Attributes.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    }),
  );

/** The envelope fields of a canonical event in a message body that are safe to show (as logged). */
export const messageSummary = (body: string) => {
  try {
    const parsed = JSON.parse(body) as { 'detail-type'?: string; detail?: Record<string, unknown> };
    const detail = parsed.detail ?? {};
    return {
      type: String(parsed['detail-type'] ?? detail.type ?? 'unknown'),
      eventId: typeof detail.id === 'string' ? detail.id : null,
      correlationId: typeof detail.correlationId === 'string' ? detail.correlationId : null,
    };
  } catch {
    return { type: 'unreadable (not JSON)', eventId: null, correlationId: null };
  }
};

export interface RedriveResult {
  readonly moved: number;
  readonly how: 'message-move-task' | 'put-events';
  readonly status: string;
  readonly failureReason?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Redrives one DLQ and waits until it is done: a message move task for a consumer's DLQ (polled with
 * ListMessageMoveTasks), the events put back on the bus for the bus's target DLQ.
 */
export const redriveDeadLetterQueue = async (
  clients: { sqs: SQSClient; events: EventBridgeClient },
  dlq: DeadLetterQueueRef,
  options: { busName?: string; pollMs?: number; timeoutMs?: number } = {},
): Promise<RedriveResult> => {
  if (!dlq.queueArn) {
    if (!options.busName) throw new Error(`${dlq.name} has no source queue and no bus to put events back on`);
    return redriveToBus(clients, dlq.dlqUrl, options.busName);
  }
  const { TaskHandle } = await clients.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.dlqArn }));
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  for (;;) {
    const { Results = [] } = await clients.sqs.send(
      new ListMessageMoveTasksCommand({ SourceArn: dlq.dlqArn, MaxResults: 10 }),
    );
    // A finished task has no handle any more: it is the newest one once no task is running.
    const task = Results.find((result) => result.TaskHandle === TaskHandle) ?? Results[0];
    if (task && task.Status !== 'RUNNING') {
      return {
        moved: Number(task.ApproximateNumberOfMessagesMoved ?? 0),
        how: 'message-move-task',
        status: String(task.Status),
        ...(task.FailureReason ? { failureReason: task.FailureReason } : {}),
      };
    }
    if (Date.now() > deadline)
      return {
        moved: Number(task?.ApproximateNumberOfMessagesMoved ?? 0),
        how: 'message-move-task',
        status: 'RUNNING',
      };
    await sleep(options.pollMs ?? 2000);
  }
};

/** Events EventBridge gave up delivering go back on the bus, one receive batch at a time. */
const redriveToBus = async (
  clients: { sqs: SQSClient; events: EventBridgeClient },
  dlqUrl: string,
  busName: string,
): Promise<RedriveResult> => {
  let moved = 0;
  for (;;) {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return { moved, how: 'put-events', status: 'COMPLETED' };
    const events = Messages.map((message) => {
      const parsed = JSON.parse(message.Body ?? '{}') as Record<string, unknown>;
      return {
        EventBusName: busName,
        Source: String(parsed.source ?? ''),
        DetailType: String(parsed['detail-type'] ?? ''),
        Detail: JSON.stringify(parsed.detail ?? {}),
      };
    });
    const output = await clients.events.send(new PutEventsCommand({ Entries: events }));
    const done = Messages.filter((_, index) => !output.Entries?.[index]?.ErrorCode);
    if (done.length > 0) {
      await clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: done.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
    }
    moved += done.length;
    if (done.length < Messages.length)
      return { moved, how: 'put-events', status: 'FAILED', failureReason: 'the bus refused some events' };
  }
};
