import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { CanonicalEvent } from '../../domain/events';
import { TransientError } from '../../shared/errors';

/**
 * An exception is a business failure someone must look at (bad master data, a rejected posting). It
 * keeps the event that caused it, so it can be replayed once fixed. The id is derived from the flow
 * and the event, so a redelivered event never opens a second exception.
 */
export interface ExceptionRecord {
  readonly exceptionId: string;
  readonly flow: string;
  readonly code: string;
  readonly message: string;
  readonly event: CanonicalEvent;
}

export interface ExceptionsRepository {
  open(flow: string, code: string, message: string, event: CanonicalEvent): Promise<ExceptionRecord>;
}

export const exceptionId = (flow: string, eventId: string): string =>
  `exc_${createHash('sha256').update(`${flow}\u0000${eventId}`).digest('hex').slice(0, 24)}`;

export const dynamoExceptionsRepository = (
  client: DynamoDBDocumentClient,
  tableName: string,
): ExceptionsRepository => ({
  async open(flow, code, message, event) {
    const record: ExceptionRecord = { exceptionId: exceptionId(flow, event.id), flow, code, message, event };
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
});
