import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DeleteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { LinkKey, LinksEraser, LinksRepository, System } from '../../domain/ports';
import { TransientError } from '../../shared/errors';

/**
 * Which id an entity has in which system. One item per (entity, system, id) → target system, keyed
 * `pk = <entity>#<system>#<id>`, `target = <system>`, holding the target id and the event that
 * recorded it, so every id revbridge created can be traced back to its cause. Both directions are
 * written at once, and several links are read in one round trip.
 */

export type { Entity, LinkKey, LinkQuery, LinksEraser, LinksRepository, System } from '../../domain/ports';

const pk = (key: LinkKey) => `${key.entity}#${key.system}#${key.id}`;

/** BatchGetItem and BatchWriteItem may leave work unprocessed under throttling; retry that part briefly. */
const UNPROCESSED_ATTEMPTS = 5;

export const dynamoLinksRepository = (
  client: DynamoDBDocumentClient,
  tableName: string,
): LinksRepository => ({
  async find(queries) {
    if (queries.length === 0) return [];
    const found = new Map<string, string>();
    try {
      let keys: Record<string, unknown>[] | undefined = [
        ...new Map(
          queries.map((q) => [`${pk(q.key)}|${q.target}`, { pk: pk(q.key), target: q.target }]),
        ).values(),
      ];
      for (let attempt = 0; keys && keys.length > 0 && attempt < UNPROCESSED_ATTEMPTS; attempt += 1) {
        const output: BatchGetCommandOutput = await client.send(
          new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of output.Responses?.[tableName] ?? []) {
          found.set(`${String(item.pk)}|${String(item.target)}`, String(item.targetId));
        }
        keys = output.UnprocessedKeys?.[tableName]?.Keys;
      }
      if (keys && keys.length > 0) throw new Error('unprocessed keys left');
    } catch (error) {
      throw new TransientError('links table read failed', { code: 'LinksUnavailable' }, { cause: error });
    }
    return queries.map((q) => found.get(`${pk(q.key)}|${q.target}`));
  },

  async record(key, target, targetId, causedBy, options) {
    const recordedAt = new Date().toISOString();
    const item = (from: LinkKey, to: System, toId: string) => ({
      PutRequest: {
        Item: {
          pk: pk(from),
          target: to,
          targetId: toId,
          entity: from.entity,
          recordedBy: causedBy,
          recordedAt,
        },
      },
    });
    try {
      let requests: Record<string, unknown>[] | undefined = [
        item(key, target, targetId),
        ...(options?.reverse === false
          ? []
          : [item({ entity: key.entity, system: target, id: targetId }, key.system, key.id)]),
      ];
      for (let attempt = 0; requests && requests.length > 0 && attempt < UNPROCESSED_ATTEMPTS; attempt += 1) {
        const output: BatchWriteCommandOutput = await client.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: requests as never } }),
        );
        requests = output.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined;
      }
      if (requests && requests.length > 0) throw new Error('unprocessed items left');
    } catch (error) {
      throw new TransientError('links table write failed', { code: 'LinksUnavailable' }, { cause: error });
    }
  },
});

export const dynamoLinksEraser = (client: DynamoDBDocumentClient, tableName: string): LinksEraser => ({
  /**
   * Deletes the link (only while it is still the one `only` describes; an item with no such link
   * passes the condition, and is `absent`) and then its reverse, the target's record pointing back, so
   * neither the flow nor a trail trusts a record the target no longer has; the reverse only while it
   * still points back here.
   */
  async forget(key, target, only = {}) {
    const conditions: string[] = [];
    const values: Record<string, string> = {};
    if (only.targetId !== undefined) {
      conditions.push('targetId = :id');
      values[':id'] = only.targetId;
    }
    if (only.recordedBefore !== undefined) {
      conditions.push('recordedAt < :before');
      values[':before'] = only.recordedBefore;
    }
    const condition =
      conditions.length === 0
        ? {}
        : {
            ConditionExpression: `attribute_not_exists(targetId) OR (${conditions.join(' AND ')})`,
            ExpressionAttributeValues: values,
          };
    let targetId: unknown;
    try {
      const { Attributes } = await client.send(
        new DeleteCommand({
          TableName: tableName,
          Key: { pk: pk(key), target },
          ReturnValues: 'ALL_OLD',
          ...condition,
        }),
      );
      targetId = Attributes?.targetId;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return 'kept';
      throw new TransientError('links table delete failed', { code: 'LinksUnavailable' }, { cause: error });
    }
    if (typeof targetId !== 'string') return 'absent';
    try {
      await client.send(
        new DeleteCommand({
          TableName: tableName,
          Key: { pk: pk({ entity: key.entity, system: target, id: targetId }), target: key.system },
          ConditionExpression: 'targetId = :id',
          ExpressionAttributeValues: { ':id': key.id },
        }),
      );
    } catch (error) {
      // The reverse already points elsewhere (or is gone): nothing of this link is left to forget.
      if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException'))
        throw new TransientError('links table delete failed', { code: 'LinksUnavailable' }, { cause: error });
    }
    return 'forgotten';
  },
});
