import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: id },
          UpdateExpression: 'SET #status = :resolved, resolvedBy = :by, resolvedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND #status <> :resolved',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':resolved': 'RESOLVED',
            ':by': resolvedBy,
            ':now': new Date().toISOString(),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw new TransientError(
        'exceptions table update failed',
        { code: 'ExceptionsUnavailable' },
        { cause: error },
      );
    }
  },
});
