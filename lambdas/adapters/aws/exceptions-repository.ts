import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { exceptionId } from '../../domain/exception-reporting';
import type { ExceptionRecord, ExceptionResolver, ExceptionsRepository } from '../../domain/ports';
import { TransientError } from '../../shared/errors';

export { exceptionId } from '../../domain/exception-reporting';
export type { ExceptionRecord, ExceptionResolver, ExceptionsRepository } from '../../domain/ports';

export const dynamoExceptionsRepository = (
  client: DynamoDBDocumentClient,
  tableName: string,
): ExceptionsRepository & ExceptionResolver => ({
  async open(flow, code, message, event, key) {
    const record: ExceptionRecord = {
      exceptionId: exceptionId(flow, key ?? event.id),
      flow,
      code,
      message,
      event,
    };
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: record.exceptionId,
            status: 'OPEN',
            flow,
            code,
            message,
            eventId: event.id,
            eventType: event.type,
            correlationId: event.correlationId,
            event: JSON.stringify(event),
            openedAt: new Date().toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return record;
      throw new TransientError(
        'exceptions table write failed',
        { code: 'ExceptionsUnavailable' },
        { cause: error },
      );
    }
    return record;
  },

  async resolve(id, resolvedBy) {
    try {
      return await resolveExceptionItem(client, tableName, id, { by: resolvedBy, onlyOpen: true });
    } catch (error) {
      throw new TransientError(
        'exceptions table update failed',
        { code: 'ExceptionsUnavailable' },
        { cause: error },
      );
    }
  },
});

/*
 * The rest of the exceptions table's access, for the operator tools (ops/exceptions.ts): the flows
 * open and resolve through the repository above, the operator reads, replays and resolves through
 * these, so the item's shape and its status changes are written in this one file. They throw the
 * SDK's errors as they are (the CLI shows them); only a failed condition has a meaning here.
 */

const conditionFailed = (error: unknown) =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/** One exception's item, or `undefined` when there is none with that id. */
export const getExceptionItem = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  id: string,
): Promise<Record<string, unknown> | undefined> =>
  (await client.send(new GetCommand({ TableName: tableName, Key: { pk: id } }))).Item;

/**
 * Marks an exception resolved by `by` (with the operator's `note` when given). `onlyOpen`: not one
 * already resolved (the flows'), else an operator may resolve again (a new note). `false` when no
 * exception matched.
 */
export const resolveExceptionItem = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  id: string,
  resolution: {
    readonly by: string;
    readonly note?: string;
    readonly onlyOpen?: boolean;
    readonly at?: string;
  },
): Promise<boolean> => {
  const withNote = resolution.note !== undefined;
  try {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: id },
        UpdateExpression: `SET #status = :resolved, resolvedBy = :by, resolvedAt = :now${withNote ? ', resolution = :note' : ''}`,
        ConditionExpression: resolution.onlyOpen
          ? 'attribute_exists(pk) AND #status <> :resolved'
          : 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':resolved': 'RESOLVED',
          ':by': resolution.by,
          ':now': resolution.at ?? new Date().toISOString(),
          ...(withNote ? { ':note': resolution.note } : {}),
        },
      }),
    );
    return true;
  } catch (error) {
    if (conditionFailed(error)) return false;
    throw error;
  }
};

/**
 * Takes replay attempt `previous + 1` of an exception with a conditional write (two operators
 * replaying at once send one replay); a resolved exception is not replayed. Throws the failed
 * condition as it is: the caller says what it means.
 */
export const markExceptionReplayed = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  id: string,
  previous: number,
): Promise<number> => {
  const attempt = previous + 1;
  await client.send(
    new UpdateCommand({
      TableName: tableName,
      Key: { pk: id },
      UpdateExpression: 'SET replays = :attempt, #status = :replayed, replayedAt = :now',
      ConditionExpression: '(attribute_not_exists(replays) OR replays = :previous) AND #status <> :resolved',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':attempt': attempt,
        ':previous': previous,
        ':replayed': 'REPLAYED',
        ':resolved': 'RESOLVED',
        ':now': new Date().toISOString(),
      },
    }),
  );
  return attempt;
};
