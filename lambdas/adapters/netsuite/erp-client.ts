import * as z from 'zod/mini';
import type { Deal, ErpClient } from '../../domain/deal';
import { describeIssues } from '../../domain/events';
import { toMajorUnits } from '../../domain/money';
import { PermanentError } from '../../shared/errors';
import type { NetSuiteClient } from './client';
import { currencyRef, type NetSuiteMapping } from './map';

/**
 * The ERP side of the saga on NetSuite's REST record API: customers and sales orders upserted by
 * external id (a repeated step finds its own record), and compensations that never delete: a sales
 * order's lines are closed, a customer is made inactive.
 */

export interface NetSuiteErpClientOptions {
  readonly client: NetSuiteClient;
  readonly mapping: NetSuiteMapping;
  /**
   * Customer body field for the tax id: `vatRegNumber` ("Tax Reg. Number") in accounts without
   * SuiteTax; SuiteTax accounts keep registrations in a sublist and can name a custom field here.
   * @default 'vatRegNumber'
   */
  readonly customerTaxIdField?: string;
  /** The sales order's transaction date. @default the current UTC date */
  readonly today?: () => string;
}

/** NetSuite's memo field holds at most 999 characters. */
const MEMO_MAX_LENGTH = 999;

const itemLineSchema = z.object({
  line: z.optional(z.number()),
  item: z.object({ id: z.string() }),
  quantity: z.optional(z.number()),
  rate: z.optional(z.number()),
  amount: z.optional(z.number()),
  isClosed: z.optional(z.boolean()),
});
const salesOrderSchema = z.object({
  id: z.string(),
  item: z.optional(z.object({ items: z.array(itemLineSchema) })),
});

export class NetSuiteErpClient implements ErpClient {
  constructor(private readonly options: NetSuiteErpClientOptions) {}

  async upsertCustomer(deal: Deal, externalId: string): Promise<string> {
    const { mapping } = this.options;
    const { account } = deal;
    const address = account.billingAddress;
    const body: Record<string, unknown> = {
      externalId,
      companyName: account.name,
      isPerson: false,
      ...(account.email ? { email: account.email } : {}),
      subsidiary: subsidiaryRef(mapping, deal.subsidiary),
      currency: currencyRef(mapping, deal.currency),
      ...(account.taxId ? { [this.options.customerTaxIdField ?? 'vatRegNumber']: account.taxId } : {}),
      // A customer an earlier compensation deactivated is active again once a deal needs it.
      isInactive: false,
      ...(address
        ? {
            addressBook: {
              items: [
                {
                  defaultBilling: true,
                  defaultShipping: true,
                  label: 'Billing',
                  addressBookAddress: {
                    addr1: address.line1,
                    ...(address.line2 ? { addr2: address.line2 } : {}),
                    city: address.city,
                    zip: address.postalCode,
                    ...(address.state ? { state: address.state } : {}),
                    country: { id: address.country },
                  },
                },
              ],
            },
          }
        : {}),
    };
    // Replacing the address book keeps a repeated upsert from adding the same address again.
    return this.options.client.upsert(
      'customer',
      externalId,
      body,
      address ? { replace: ['addressBook'] } : {},
    );
  }

  async upsertSalesOrder(
    deal: Deal,
    externalId: string,
    erpCustomerId: string,
    lines: readonly { itemId: string; quantity: number; unitAmount: number }[],
  ): Promise<string> {
    if (lines.length === 0) {
      throw new PermanentError(`deal ${deal.dealId} has no lines to order`, { code: 'NoOrderLines' });
    }
    const { mapping } = this.options;
    const major = (minor: number) => toMajorUnits(minor, deal.currency);
    const body = {
      externalId,
      entity: { id: erpCustomerId },
      subsidiary: subsidiaryRef(mapping, deal.subsidiary),
      currency: currencyRef(mapping, deal.currency),
      tranDate: this.options.today?.() ?? new Date().toISOString().slice(0, 10),
      memo: `revbridge: ${deal.crm} deal ${deal.dealId} (${deal.name})`.slice(0, MEMO_MAX_LENGTH),
      item: {
        items: lines.map((line) => ({
          item: { id: line.itemId },
          quantity: line.quantity,
          rate: major(line.unitAmount),
          // Sent as well, from integer minor units, so NetSuite never rounds rate × quantity itself.
          amount: major(line.unitAmount * line.quantity),
        })),
      },
    };
    // Without `replace`, re-running this upsert would append the lines a second time.
    return this.options.client.upsert('salesOrder', externalId, body, { replace: ['item'] });
  }

  /**
   * NetSuite has no cancel for a sales order, and deleting one loses its audit trail (and is refused
   * once anything was fulfilled or billed from it): closing every line is the finance-safe undo. The
   * order then shows Closed and nothing more is fulfilled or billed from it.
   *
   * The lines are sent back whole, each with `isClosed`, under `replace=item`: on a keyed sublist the
   * lines whose key (`line`) matches are updated, on a non-keyed one the sublist is replaced by the same
   * lines, now closed. Either way no line is added or lost, which a plain PATCH cannot promise (it
   * appends to a non-keyed sublist).
   * https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545297048.html
   */
  async closeSalesOrder(externalId: string): Promise<void> {
    const { client } = this.options;
    const raw = await client.getByExternalId('salesOrder', externalId, { expandSubResources: true });
    if (!raw) return;
    const parsed = salesOrderSchema.safeParse(raw);
    if (!parsed.success) {
      throw new PermanentError(
        `NetSuite answer is malformed: ${describeIssues(parsed.error.issues, 'salesOrder')}`,
        {
          code: 'MalformedPayload',
        },
      );
    }
    const lines = parsed.data.item?.items ?? [];
    if (lines.every((line) => line.isClosed === true)) return;
    await client.patchByExternalId(
      'salesOrder',
      externalId,
      {
        item: {
          items: lines.map((line) => ({
            ...(line.line === undefined ? {} : { line: line.line }),
            item: { id: line.item.id },
            ...(line.quantity === undefined ? {} : { quantity: line.quantity }),
            ...(line.rate === undefined ? {} : { rate: line.rate }),
            ...(line.amount === undefined ? {} : { amount: line.amount }),
            isClosed: true,
          })),
        },
      },
      { replace: ['item'] },
    );
  }

  async deactivateCustomer(externalId: string): Promise<void> {
    // A customer that was never created needs no undo.
    await this.options.client.patchByExternalId('customer', externalId, { isInactive: true });
  }
}

const subsidiaryRef = (mapping: NetSuiteMapping, key: string | null): { id: string } => {
  if (key === null) return { id: mapping.subsidiaryId };
  const id = mapping.subsidiaryIds?.[key];
  if (!id) {
    throw new PermanentError(`subsidiary ${key} has no NetSuite subsidiary configured`, {
      code: 'SubsidiaryNotMapped',
    });
  }
  return { id };
};
