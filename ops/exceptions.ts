import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  getExceptionItem,
  markExceptionReplayed,
  resolveExceptionItem,
} from '../lambdas/adapters/aws/exceptions-repository';
import { scanAll } from './tables';

/**
 * Exceptions (the exceptions table the flows open them in): list, show, replay, resolve. Written once
 * against the AWS SDK; the local console and the `revbridge` CLI both use them.
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

/** One exception with what an operator needs to decide: its event's envelope and what was done. */
export interface ExceptionDetail extends ExceptionItem {
  readonly replayedAt?: string;
  readonly resolvedAt?: string;
  readonly resolvedBy?: string;
  readonly resolution?: string;
  /** The stored event's envelope: ids, type, times, source. */
  readonly event: Record<string, unknown>;
  /** The stored event's `data` (may hold customer data: shown only when asked for). */
  readonly data?: unknown;
}

const itemOf = (item: Record<string, unknown>): ExceptionItem => ({
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
});

/** Every exception, newest first, without the stored event (it may hold customer data). */
export const listExceptions = async (
  documents: DynamoDBDocumentClient,
  tableName: string,
  filter: { status?: string; flow?: string } = {},
): Promise<ExceptionItem[]> =>
  (await scanAll(documents, tableName))
    .map(itemOf)
    .filter((item) => !filter.status || item.status === filter.status.toUpperCase())
    .filter((item) => !filter.flow || item.flow === filter.flow)
    .sort((a, b) => b.openedAt.localeCompare(a.openedAt));

const getException = async (documents: DynamoDBDocumentClient, tableName: string, exceptionId: string) => {
  const Item = await getExceptionItem(documents, tableName, exceptionId);
  if (!Item) throw new Error(`no exception ${exceptionId}`);
  return Item;
};

/** One exception and its event's envelope; the event's `data` only with `withData`. */
export const showException = async (
  documents: DynamoDBDocumentClient,
  tableName: string,
  exceptionId: string,
  options: { withData?: boolean } = {},
): Promise<ExceptionDetail> => {
  const item = await getException(documents, tableName, exceptionId);
  const { data, ...envelope } = JSON.parse(String(item.event ?? '{}')) as Record<string, unknown>;
  const optional = (key: string) => (item[key] === undefined ? {} : { [key]: String(item[key]) });
  return {
    ...itemOf(item),
    ...optional('replayedAt'),
    ...optional('resolvedAt'),
    ...optional('resolvedBy'),
    ...optional('resolution'),
    event: envelope,
    ...(options.withData ? { data } : {}),
  };
};

/**
 * Puts an exception's event back on the bus under a new id derived from the exception and the
 * attempt (`<event id>-replay-<n>`): the consumers' idempotency remembers the failed attempt under the
 * original id, so the replay is processed, while downstream writes (upserts by external id, links)
 * keep the ERP from receiving anything twice. The attempt number is taken with a conditional write,
 * so two operators replaying at once send one replay. A resolved exception is not replayed.
 */
export const replayException = async (
  clients: { documents: DynamoDBDocumentClient; events: EventBridgeClient },
  tables: { exceptions: string; busName: string },
  exceptionId: string,
): Promise<{ replayId: string; attempt: number }> => {
  const Item = await getException(clients.documents, tables.exceptions, exceptionId);
  if (Item.status === 'RESOLVED') throw new Error(`exception ${exceptionId} is resolved: nothing to replay`);
  const event = JSON.parse(String(Item.event)) as { id: string; type: string; source: { vendor: string } };
  const attempt = await markExceptionReplayed(
    clients.documents,
    tables.exceptions,
    exceptionId,
    Number(Item.replays ?? 0),
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

/** Closes an exception: someone fixed it (or decided nothing is to be done), and says so. */
export const resolveException = async (
  documents: DynamoDBDocumentClient,
  tableName: string,
  exceptionId: string,
  resolution: { by: string; note?: string | undefined },
): Promise<{ resolvedAt: string }> => {
  const resolvedAt = new Date().toISOString();
  const resolved = await resolveExceptionItem(documents, tableName, exceptionId, {
    by: resolution.by,
    note: resolution.note ?? '',
    at: resolvedAt,
  });
  if (!resolved) throw new Error(`no exception ${exceptionId}`);
  return { resolvedAt };
};
