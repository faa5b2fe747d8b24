import * as z from 'zod/mini';
import { describeIssues } from '../../domain/events';
import { toMajorUnits, toMinorUnits } from '../../domain/money';
import type {
  OrderLine,
  SalesOrderChange,
  SalesOrderPort,
  SalesOrderState,
} from '../../domain/sales-order-change';
import { PermanentError, TransientError } from '../../shared/errors';
import type { NetSuiteClient } from './client';

/**
 * Sales order changes on NetSuite's REST record API. The item sublist of a sales order is keyed by
 * `line`: under `replace=item` the lines whose key matches are updated, lines left out are removed and
 * lines without a key are added. So the whole sublist goes back, every existing line as it was read (its
 * quantity and rate untouched, so nothing billed is rewritten), the closed ones with `isClosed`, the new
 * ones appended. https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545297048.html
 */

export interface NetSuiteSalesOrdersOptions {
  readonly client: Pick<NetSuiteClient, 'getByExternalId' | 'patchByExternalId'>;
  /**
   * Transaction column field holding a new line's effective date (a custom column, date type).
   * @default 'custcol_revbridge_effective_date'
   */
  readonly effectiveDateField?: string;
}

export const DEFAULT_EFFECTIVE_DATE_FIELD = 'custcol_revbridge_effective_date';

const lineSchema = z.looseObject({
  line: z.number(),
  item: z.looseObject({ id: z.string() }),
  quantity: z.optional(z.number()),
  rate: z.optional(z.number()),
  amount: z.optional(z.number()),
  isClosed: z.optional(z.boolean()),
});
const orderSchema = z.looseObject({
  id: z.string(),
  externalId: z.optional(z.string()),
  item: z.optional(z.looseObject({ items: z.array(lineSchema) })),
});

/** What NetSuite computes or links on a line read back; never sent on a write. */
const READ_BACK_ONLY = new Set(['links', 'refName']);

/** A line read back, as a write accepts it: references reduced to `{ id }`, links dropped. */
const writable = (fields: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (READ_BACK_ONLY.has(key)) continue;
    out[key] =
      typeof value === 'object' && value !== null && !Array.isArray(value) && 'id' in value
        ? { id: (value as { id: unknown }).id }
        : value;
  }
  return out;
};

export class NetSuiteSalesOrders implements SalesOrderPort {
  private readonly effectiveDateField: string;

  constructor(private readonly options: NetSuiteSalesOrdersOptions) {
    this.effectiveDateField = options.effectiveDateField ?? DEFAULT_EFFECTIVE_DATE_FIELD;
  }

  async getSalesOrder(externalId: string, currency: string): Promise<SalesOrderState | null> {
    const raw = await this.options.client.getByExternalId('salesOrder', externalId, {
      expandSubResources: true,
    });
    if (!raw) return null;
    const parsed = orderSchema.safeParse(raw);
    if (!parsed.success) {
      throw new PermanentError(
        `NetSuite answer is malformed: ${describeIssues(parsed.error.issues, 'salesOrder')}`,
        { code: 'MalformedPayload' },
      );
    }
    const lines: OrderLine[] = (parsed.data.item?.items ?? []).map((line) => {
      const quantity = line.quantity ?? 1;
      const rate = line.rate ?? (line.amount !== undefined && quantity !== 0 ? line.amount / quantity : 0);
      return {
        line: line.line,
        itemId: line.item.id,
        quantity,
        // A rate NetSuite computed from an amount can carry more digits than the currency has: the
        // order's price per unit is what it was sold at, to the minor unit.
        unitAmount: toMinorUnits(rate.toFixed(6).replace(/\.?0+$/, ''), currency),
        isClosed: line.isClosed === true,
        fields: line,
      };
    });
    return { id: parsed.data.id, externalId, lines };
  }

  async applySalesOrderChange(
    order: SalesOrderState,
    change: SalesOrderChange,
    currency: string,
  ): Promise<void> {
    const closing = new Set(change.close);
    const major = (minor: number) => toMajorUnits(minor, currency);
    const items = [
      ...order.lines.map((line) => ({
        ...writable(line.fields ?? { line: line.line, item: { id: line.itemId } }),
        ...(closing.has(line.line) ? { isClosed: true } : {}),
      })),
      ...change.add.map((line) => ({
        item: { id: line.itemId },
        quantity: line.quantity,
        rate: major(line.unitAmount),
        // From integer minor units, so NetSuite never rounds rate × quantity itself.
        amount: major(line.unitAmount * line.quantity),
        description: line.description,
        [this.effectiveDateField]: line.effectiveDate,
      })),
    ];
    const patched = await this.options.client.patchByExternalId(
      'salesOrder',
      order.externalId,
      { item: { items } },
      { replace: ['item'] },
    );
    if (!patched) {
      // It was read a moment ago: someone removed it since, which the next attempt will tell for sure.
      throw new TransientError(`sales order ${order.externalId} vanished while changing it`, {
        code: 'SalesOrderChanged',
      });
    }
  }
}
