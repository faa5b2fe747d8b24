import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type Difference, differenceSchema } from '../../domain/reconciliation';
import { TransientError } from '../../shared/errors';

/**
 * The differences reconciliation has open: one item per difference (`pk` = its id), so a later run can
 * re-check each one, close its exception once it is gone, and count what stays open (the alarm's
 * metric), whatever window found it. Only open differences are kept: the table stays small.
 */
export interface OpenDifferencesStore {
  /** Records the difference as found by run `seenBy` (the latest run to see it wins). */
  mark(difference: Difference, seenBy: string): Promise<void>;
  /** A page of open differences after `cursor` (a difference id), bounded in size. */
  page(cursor: string | null): Promise<{
    items: { difference: Difference; seenBy: string }[];
    next: string | null;
  }>;
  forget(differenceId: string): Promise<void>;
}

/** Differences per page of the re-check: each is one to three vendor reads. */
const PAGE = 100;

const unavailable = (what: string, error: unknown) =>
  new TransientError(
    `open differences ${what} failed`,
    { code: 'OpenDifferencesUnavailable' },
    { cause: error },
  );

export const dynamoOpenDifferences = (
  client: DynamoDBDocumentClient,
  tableName: string,
): OpenDifferencesStore => ({
  async mark(difference, seenBy) {
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: difference.differenceId,
            kind: difference.kind,
            difference: JSON.stringify(difference),
            seenBy,
            seenAt: new Date().toISOString(),
          },
        }),
      );
    } catch (error) {
      throw unavailable('write', error);
    }
  },
  async page(cursor) {
    try {
      const { Items = [], LastEvaluatedKey } = await client.send(
        new ScanCommand({
          TableName: tableName,
          Limit: PAGE,
          ...(cursor ? { ExclusiveStartKey: { pk: cursor } } : {}),
        }),
      );
      return {
        items: Items.map((item) => ({
          difference: differenceSchema.parse(JSON.parse(String(item.difference))),
          seenBy: String(item.seenBy ?? ''),
        })),
        next: LastEvaluatedKey ? String(LastEvaluatedKey.pk) : null,
      };
    } catch (error) {
      throw unavailable('read', error);
    }
  },
  async forget(differenceId) {
    try {
      await client.send(new DeleteCommand({ TableName: tableName, Key: { pk: differenceId } }));
    } catch (error) {
      throw unavailable('delete', error);
    }
  },
});

/** Who closed an exception, when reconciliation closes it (the difference went away). */
export const RESOLVED_BY_RECONCILIATION = 'reconcile';

/**
 * What reconciliation does with its own exceptions beyond opening them: read their state, and open
 * again one it closed itself when the difference comes back. One a person resolved stays resolved:
 * they decided (an ERP-only invoice kept on purpose), and reconciliation does not argue.
 */
export const reconciliationExceptionStates = (client: DynamoDBDocumentClient, tableName: string) => ({
  async state(exceptionId: string): Promise<'open' | 'resolved-by-reconciliation' | 'resolved-by-person'> {
    try {
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: { pk: exceptionId }, ConsistentRead: true }),
      );
      if (Item?.status !== 'RESOLVED') return 'open';
      return Item.resolvedBy === RESOLVED_BY_RECONCILIATION
        ? 'resolved-by-reconciliation'
        : 'resolved-by-person';
    } catch (error) {
      throw new TransientError(
        'exceptions table read failed',
        { code: 'ExceptionsUnavailable' },
        { cause: error },
      );
    }
  },
  async reopen(exceptionId: string): Promise<void> {
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: exceptionId },
          UpdateExpression: 'SET #status = :open, reopenedAt = :now REMOVE resolvedAt, resolvedBy',
          ConditionExpression: '#status = :resolved AND resolvedBy = :reconcile',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':open': 'OPEN',
            ':resolved': 'RESOLVED',
            ':reconcile': RESOLVED_BY_RECONCILIATION,
            ':now': new Date().toISOString(),
          },
        }),
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return;
      throw new TransientError(
        'exceptions table update failed',
        { code: 'ExceptionsUnavailable' },
        { cause: error },
      );
    }
  },
});
