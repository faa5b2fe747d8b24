import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/**
 * The on-call queries, written once against the AWS SDK: the local console uses them against the
 * local runtime's endpoints, and they work unchanged against a deployed stage.
 */

export interface ExceptionItem {
  readonly exceptionId: string;
  readonly flow: string;
  readonly code: string;
  readonly message: string;
  readonly status: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly correlationId: string;
  readonly openedAt: string;
  readonly replays: number;
}

const scanAll = async (documents: DynamoDBDocumentClient, tableName: string) => {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
};

/** Every exception, newest first, without the stored event (it may hold customer data). */
export const listExceptions = async (
  documents: DynamoDBDocumentClient,
  tableName: string,
): Promise<ExceptionItem[]> =>
  (await scanAll(documents, tableName))
    .map((item) => ({
      exceptionId: String(item.pk),
      flow: String(item.flow ?? ''),
      code: String(item.code ?? ''),
      message: String(item.message ?? ''),
      status: String(item.status ?? 'OPEN'),
      eventId: String(item.eventId ?? ''),
      eventType: String(item.eventType ?? ''),
      correlationId: String(item.correlationId ?? ''),
      openedAt: String(item.openedAt ?? ''),
      replays: Number(item.replays ?? 0),
    }))
    .sort((a, b) => b.openedAt.localeCompare(a.openedAt));

/**
 * Puts an exception's event back on the bus under a new id derived from the exception and the
 * attempt (`<event id>-replay-<n>`): the consumers' idempotency remembers the failed attempt under the
 * original id, so the replay is processed, while downstream writes (upserts by external id, links)
 * keep the ERP from receiving anything twice. The attempt number is taken with a conditional write,
 * so two operators replaying at once send one replay.
 */
export const replayException = async (
  clients: { documents: DynamoDBDocumentClient; events: EventBridgeClient },
  tables: { exceptions: string; busName: string },
  exceptionId: string,
): Promise<{ replayId: string; attempt: number }> => {
  const { Item } = await clients.documents.send(
    new GetCommand({ TableName: tables.exceptions, Key: { pk: exceptionId } }),
  );
  if (!Item) throw new Error(`no exception ${exceptionId}`);
  const event = JSON.parse(String(Item.event)) as { id: string; type: string; source: { vendor: string } };
  const previous = Number(Item.replays ?? 0);
  const attempt = previous + 1;
  await clients.documents.send(
    new UpdateCommand({
      TableName: tables.exceptions,
      Key: { pk: exceptionId },
      UpdateExpression: 'SET replays = :attempt, #status = :replayed, replayedAt = :now',
      ConditionExpression: 'attribute_not_exists(replays) OR replays = :previous',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':attempt': attempt,
        ':previous': previous,
        ':replayed': 'REPLAYED',
        ':now': new Date().toISOString(),
      },
    }),
  );
  const replayId = `${event.id}-replay-${attempt}`;
  const output = await clients.events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: tables.busName,
          Source: `revbridge.${event.source.vendor}`,
          DetailType: event.type,
          Detail: JSON.stringify({ ...event, id: replayId }),
        },
      ],
    }),
  );
  if ((output.FailedEntryCount ?? 0) > 0) throw new Error('the bus refused the replayed event, try again');
  return { replayId, attempt };
};

/** Moves every message of a DLQ back to its source queue (what SQS redrive does), returning how many. */
export const redriveQueue = async (sqs: SQSClient, dlqUrl: string, sourceUrl: string): Promise<number> => {
  let moved = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return moved;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: sourceUrl,
        Entries: Messages.map((message, index) => ({
          Id: String(index),
          MessageBody: message.Body ?? '',
          ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes } : {}),
        })),
      }),
    );
    const ok = new Set((sent.Successful ?? []).map((entry) => Number(entry.Id)));
    const done = Messages.filter((_, index) => ok.has(index));
    if (done.length > 0) {
      await sqs.send(
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
    if (done.length < Messages.length) return moved;
  }
};

export interface TrailStep {
  readonly at: string;
  readonly kind: 'link' | 'exception';
  readonly system: string;
  readonly id: string;
  readonly detail: string;
}

/**
 * The lineage of one id: every id linked to it in another system (links table, both directions, one
 * hop further for the ids those lead to) and every exception about it, in time order.
 */
export const trailOf = async (
  documents: DynamoDBDocumentClient,
  tables: { links: string; exceptions: string },
  id: string,
): Promise<TrailStep[]> => {
  const links = await scanAll(documents, tables.links);
  const known = new Set([id]);
  for (let hop = 0; hop < 3; hop += 1) {
    for (const link of links) {
      const sourceId = String(link.pk).split('#').slice(2).join('#');
      if (known.has(sourceId)) known.add(String(link.targetId));
      if (known.has(String(link.targetId))) known.add(sourceId);
    }
  }
  const steps: TrailStep[] = links
    .filter((link) => known.has(String(link.pk).split('#').slice(2).join('#')))
    .map((link) => {
      const [entity, system, ...rest] = String(link.pk).split('#');
      return {
        at: String(link.recordedAt ?? ''),
        kind: 'link' as const,
        system: String(link.target),
        id: String(link.targetId),
        detail: `${entity} ${system} ${rest.join('#')} → ${String(link.target)} (by ${String(link.recordedBy ?? '?')})`,
      };
    });
  for (const item of await scanAll(documents, tables.exceptions)) {
    if (!known.has(String(item.correlationId)) && !known.has(String(item.eventId))) continue;
    steps.push({
      at: String(item.openedAt ?? ''),
      kind: 'exception',
      system: String(item.flow ?? ''),
      id: String(item.pk),
      detail: `${String(item.code)}: ${String(item.message)} (${String(item.status)})`,
    });
  }
  return steps.sort((a, b) => a.at.localeCompare(b.at));
};
