import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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
  /**
   * `key` names what the exception is about when that is not the event itself (the dunning flow opens
   * one per invoice, whatever attempt's event opens it). @default the event id
   */
  open(
    flow: string,
    code: string,
    message: string,
    event: CanonicalEvent,
    key?: string,
  ): Promise<ExceptionRecord>;
}

/** Closes an exception the flow itself saw settle (an invoice paid after its payment failed). */
export interface ExceptionResolver {
  /** `false` when there was no open exception with that id (never opened, or resolved already). */
  resolve(exceptionId: string, resolvedBy: string): Promise<boolean>;
}

export const exceptionId = (flow: string, eventId: string): string =>
  `exc_${createHash('sha256').update(`${flow}\u0000${eventId}`).digest('hex').slice(0, 24)}`;

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
