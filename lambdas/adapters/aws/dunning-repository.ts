import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '../../shared/errors';

/**
 * The dunning flow's memory of a billing customer's failing invoices, kept in the links table beside
 * the customer's links (`pk = dunning#stripe#<customer id>`, `target = dunning`): which attempt of each
 * invoice was applied last, and which invoices were paid since. It is what guards the CRM flag against
 * an older attempt delivered late. One item per customer, written with optimistic concurrency
 * (`revision`), so two events of one customer handled at once cannot overwrite each other.
 */

export interface InvoiceDunning {
  readonly status: 'failing' | 'paid';
  /** The failure's version (attempt count) last applied; a paid invoice keeps its last failure's. */
  readonly attemptCount: number;
  /** Vendor event time of the event last applied: orders two events of one attempt. */
  readonly occurredAt: string;
  /** The canonical event last applied. */
  readonly eventId: string;
  /** The event of the invoice's first applied failure: its exception is opened once, by that event. */
  readonly openedBy: string | null;
  readonly amountDue: number;
  readonly currency: string;
  readonly nextPaymentAttemptAt: string | null;
  readonly invoiceNumber: string | null;
}

export interface DunningState {
  /** 0 for a customer with no item yet. */
  readonly revision: number;
  readonly invoices: Readonly<Record<string, InvoiceDunning>>;
}

export interface DunningRepository {
  get(customerId: string): Promise<DunningState>;
  /**
   * Writes `next` if the item is still at `expected.revision`; `false` when another writer got there
   * first (read again and decide again).
   */
  put(customerId: string, expected: DunningState, next: DunningState['invoices']): Promise<boolean>;
}

const keyOf = (customerId: string) => ({ pk: `dunning#stripe#${customerId}`, target: 'dunning' });

export const dynamoDunningRepository = (
  client: DynamoDBDocumentClient,
  tableName: string,
): DunningRepository => ({
  async get(customerId) {
    try {
      const output = await client.send(
        new GetCommand({ TableName: tableName, Key: keyOf(customerId), ConsistentRead: true }),
      );
      const item = output.Item;
      if (!item) return { revision: 0, invoices: {} };
      return {
        revision: Number(item.revision),
        invoices: JSON.parse(String(item.invoices)) as DunningState['invoices'],
      };
    } catch (error) {
      throw new TransientError('links table read failed', { code: 'LinksUnavailable' }, { cause: error });
    }
  },

  async put(customerId, expected, next) {
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...keyOf(customerId),
            entity: 'dunning',
            // The trail (ops/queries.ts) reads every links item as a link: this one points at itself.
            targetId: customerId,
            revision: expected.revision + 1,
            // One JSON attribute: invoice ids are keys, and a JSON string needs no attribute-name escaping.
            invoices: JSON.stringify(next),
            recordedAt: new Date().toISOString(),
          },
          ConditionExpression: expected.revision === 0 ? 'attribute_not_exists(pk)' : 'revision = :expected',
          ...(expected.revision === 0
            ? {}
            : { ExpressionAttributeValues: { ':expected': expected.revision } }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw new TransientError('links table write failed', { code: 'LinksUnavailable' }, { cause: error });
    }
  },
});
