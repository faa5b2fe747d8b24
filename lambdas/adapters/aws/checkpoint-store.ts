import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../../shared/errors';

/**
 * Where a long job keeps its place between invocations: one item per run, `pk` = the run id, holding
 * the state as JSON. A run that outlives its Lambda invocation is continued from here by the next one.
 */
export interface CheckpointStore<T> {
  load(runId: string): Promise<T | null>;
  save(runId: string, state: T, status: 'RUNNING' | 'COMPLETE'): Promise<void>;
}

export const dynamoCheckpointStore = <T>(
  client: DynamoDBDocumentClient,
  tableName: string,
): CheckpointStore<T> => ({
  async load(runId) {
    try {
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: { pk: runId }, ConsistentRead: true }),
      );
      return Item ? (JSON.parse(String(Item.state)) as T) : null;
    } catch (error) {
      throw new TransientError('checkpoint read failed', { code: 'CheckpointUnavailable' }, { cause: error });
    }
  },
  async save(runId, state, status) {
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: runId, status, state: JSON.stringify(state), updatedAt: new Date().toISOString() },
        }),
      );
    } catch (error) {
      throw new TransientError(
        'checkpoint write failed',
        { code: 'CheckpointUnavailable' },
        { cause: error },
      );
    }
  },
});
