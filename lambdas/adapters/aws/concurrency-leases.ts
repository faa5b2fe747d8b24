import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../../shared/errors';

/**
 * Gives back a lease; safe to call twice, and after the lease expired. `crowded`: the lease was the
 * last free one when it was taken (others may be waiting), so it should be given back as soon as
 * its request is done rather than kept for the next.
 */
export type ReleaseLease = (() => Promise<void>) & { readonly crowded?: boolean };

/** A bounded number of concurrent holders of one vendor account, shared by every function that calls it. */
export interface ConcurrencyLeases {
  /**
   * Waits for a free lease until `deadlineMs` (epoch ms), then throws `TransientError`
   * (`LeaseUnavailable`). The lease lasts `leaseMs` if never given back (default: the option's).
   */
  acquire(deadlineMs: number, leaseMs?: number): Promise<ReleaseLease>;
}

export interface ConcurrencyLeasesOptions {
  /** The account the leases are of: the item's key, e.g. `netsuite`. */
  readonly resource: string;
  /** Leases held at once at most: the account's concurrency limit. */
  readonly limit: number;
  /**
   * How long a lease lasts if its holder never gives it back (an environment killed mid-batch): at
   * least the holder's remaining run time, so a live holder never loses its lease.
   */
  readonly leaseMs: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const isConditionFailure = (error: unknown) =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/**
 * Leases in one DynamoDB item per account: `holders` maps a lease id to its expiry. Taking a lease is
 * one conditional update (`size(holders) < limit`), giving it back one update; when the account is
 * full, the caller waits with jittered backoff, reading the item until it shows room, and removes
 * expired leases (each only if unchanged). Two writes per lease, and waiting costs reads, not writes.
 */
export const dynamoConcurrencyLeases = (
  documents: DynamoDBDocumentClient,
  tableName: string,
  options: ConcurrencyLeasesOptions,
): ConcurrencyLeases => {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const key = { pk: options.resource };

  // The account's item is created by the first caller of each environment (a no-op once it exists).
  let created: Promise<void> | undefined;
  const createItem = () =>
    documents
      .send(
        new PutCommand({
          TableName: tableName,
          Item: { ...key, holders: {} },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .then(
        () => undefined,
        (error: unknown) => {
          if (!isConditionFailure(error)) throw error;
        },
      );

  /** Takes the lease if there is room: the leases then held (this one included), else undefined. */
  const tryTake = async (leaseId: string, leaseMs: number): Promise<number | undefined> => {
    created ??= createItem().catch((error: unknown) => {
      created = undefined;
      throw error;
    });
    await created;
    try {
      // The item comes back at no extra cost (a write is billed by the item's size either way).
      const { Attributes } = await documents.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'SET holders.#lease = :expires',
          ConditionExpression: 'size(holders) < :limit',
          ExpressionAttributeNames: { '#lease': leaseId },
          ExpressionAttributeValues: { ':expires': now() + leaseMs, ':limit': options.limit },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Object.keys((Attributes?.holders ?? {}) as Record<string, number>).length || 1;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  };

  /** The account's holders now (a strongly consistent read: a lease given back shows at once). */
  const readHolders = async (): Promise<Record<string, number>> => {
    const item = await documents.send(
      new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
    );
    return (item.Item?.holders ?? {}) as Record<string, number>;
  };

  /** Removes the leases whose holders never gave them back; true if any was removed (or raced). */
  const removeExpired = async (holders: Record<string, number>): Promise<boolean> => {
    const expired = Object.entries(holders).filter(([, expires]) => expires < now());
    if (expired.length === 0) return false;
    const names = Object.fromEntries(expired.map(([id], index) => [`#e${index}`, id]));
    const values = Object.fromEntries(expired.map(([, expires], index) => [`:e${index}`, expires]));
    try {
      await documents.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: `REMOVE ${expired.map((_, index) => `holders.#e${index}`).join(', ')}`,
          ConditionExpression: expired.map((_, index) => `holders.#e${index} = :e${index}`).join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    return true;
  };

  return {
    async acquire(deadlineMs, leaseMs = options.leaseMs) {
      const leaseId = randomUUID();
      let waits = 0;
      for (;;) {
        const held = await tryTake(leaseId, leaseMs);
        if (held !== undefined) {
          const release = async () => {
            await documents.send(
              new UpdateCommand({
                TableName: tableName,
                Key: key,
                UpdateExpression: 'REMOVE holders.#lease',
                ExpressionAttributeNames: { '#lease': leaseId },
              }),
            );
          };
          return Object.assign(release, { crowded: held >= options.limit });
        }
        // Refused: wait by reading the item until it shows a lease free (or one expired, removed
        // here), and only then try to take one again. A read is 1 RRU and a refused take 1 WRU, five
        // times the price: waiting by taking made the leases the costliest line of a flow.
        for (;;) {
          const holders = await readHolders();
          if (await removeExpired(holders)) break;
          if (Object.keys(holders).length < options.limit) break;
          if (now() >= deadlineMs) {
            throw new TransientError(`all ${options.limit} ${options.resource} leases are in use`, {
              code: 'LeaseUnavailable',
            });
          }
          // Full jitter, 20 ms doubling to 100 ms: waiters spread out instead of reading in step, and
          // a lease given back is seen within ~50 ms on average (at 250 ms the account was 88-89%
          // used by invoices and payments together; at 100 ms 91-95%).
          await sleep(Math.min(deadlineMs - now(), random() * Math.min(100, 20 * 2 ** waits)));
          waits += 1;
        }
      }
    },
  };
};
