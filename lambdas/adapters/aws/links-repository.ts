import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../../shared/errors';

/**
 * Which id an entity has in which system. One item per (entity, system, id) key, holding the ids of
 * the same entity in the other systems and the event that recorded each, so every id revbridge
 * created can be traced back to its cause.
 */

export type System = 'stripe' | 'netsuite' | 'salesforce' | 'hubspot';
export type Entity =
  | 'customer'
  | 'invoice'
  | 'subscription'
  | 'salesOrder'
  | 'deal'
  | 'payment'
  | 'creditNote';

export interface LinkKey {
  readonly entity: Entity;
  readonly system: System;
  readonly id: string;
}

export interface LinksRepository {
  find(key: LinkKey, target: System): Promise<string | undefined>;
  /** Records `targetId` as the id in `target` of the entity `key`, and the reverse link. */
  record(key: LinkKey, target: System, targetId: string, causedBy: string): Promise<void>;
}

const pk = (key: LinkKey) => `${key.entity}#${key.system}#${key.id}`;

export const dynamoLinksRepository = (client: DynamoDBDocumentClient, tableName: string): LinksRepository => {
  const write = async (key: LinkKey, target: System, targetId: string, causedBy: string) => {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: pk(key) },
        UpdateExpression:
          'SET #entity = :entity, #system = :system, #id = :id, #target = :targetId, #cause = :cause, #updated = :now',
        ExpressionAttributeNames: {
          '#entity': 'entity',
          '#system': 'system',
          '#id': 'id',
          '#target': `${target}Id`,
          '#cause': `${target}IdRecordedBy`,
          '#updated': 'updatedAt',
        },
        ExpressionAttributeValues: {
          ':entity': key.entity,
          ':system': key.system,
          ':id': key.id,
          ':targetId': targetId,
          ':cause': causedBy,
          ':now': new Date().toISOString(),
        },
      }),
    );
  };
  return {
    async find(key, target) {
      try {
        const output = await client.send(
          new GetCommand({ TableName: tableName, Key: { pk: pk(key) }, ConsistentRead: true }),
        );
        const value = output.Item?.[`${target}Id`];
        return typeof value === 'string' ? value : undefined;
      } catch (error) {
        throw new TransientError('links table read failed', { code: 'LinksUnavailable' }, { cause: error });
      }
    },
    async record(key, target, targetId, causedBy) {
      try {
        await write(key, target, targetId, causedBy);
        await write({ entity: key.entity, system: target, id: targetId }, key.system, key.id, causedBy);
      } catch (error) {
        throw new TransientError('links table write failed', { code: 'LinksUnavailable' }, { cause: error });
      }
    },
  };
};
