import { toMinorUnits } from '../../domain/money';
import type { ErpCreditMemo, ErpInvoice, ReconciliationWindow } from '../../domain/reconciliation';
import type { NetSuiteClient, NetSuiteRecord } from './client';

/** NetSuite's REST collections serve at most 1000 ids a page. */
export const NETSUITE_PAGE_LIMIT = 1000;

/** An ERP invoice as a list names it: enough to tell whether revbridge posted it. */
export interface ErpInvoiceRef {
  readonly id: string;
  readonly externalId: string | null;
}

/** What reconciliation reads from the ERP. */
export interface ErpReader {
  getInvoice(externalId: string): Promise<ErpInvoice | null>;
  getInvoiceById(id: string): Promise<ErpInvoice | null>;
  getCreditMemo(externalId: string): Promise<ErpCreditMemo | null>;
  /**
   * One page of the ERP invoices dated in the window, each as its internal id and external id (the
   * billing invoice id revbridge posted it under; null for one keyed in by hand); `nextOffset` null
   * on the last page.
   */
  listInvoices(
    window: ReconciliationWindow,
    offset: number,
  ): Promise<{ invoices: ErpInvoiceRef[]; nextOffset: number | null }>;
}

const refId = (value: unknown): string | undefined =>
  typeof value === 'object' && value !== null && 'id' in value
    ? String((value as { id: unknown }).id)
    : undefined;

const amount = (value: unknown): number | string =>
  typeof value === 'number' || typeof value === 'string' ? value : 0;

/**
 * The ERP side of reconciliation on NetSuite's REST record API. Amounts come back as decimals in the
 * transaction currency and become integer minor units here; the currency's internal id maps back to
 * its ISO code through the stage's `currencyIds` (null when the id is not one revbridge posts with).
 */
export class NetSuiteErpReader implements ErpReader {
  private readonly isoById: ReadonlyMap<string, string>;

  constructor(
    private readonly client: Pick<NetSuiteClient, 'getByExternalId' | 'getById' | 'suiteql'>,
    currencyIds: Readonly<Record<string, string>>,
    private readonly pageLimit = NETSUITE_PAGE_LIMIT,
  ) {
    this.isoById = new Map(Object.entries(currencyIds).map(([iso, id]) => [id, iso]));
  }

  async getInvoice(externalId: string): Promise<ErpInvoice | null> {
    const record = await this.client.getByExternalId('invoice', externalId);
    return record ? this.toInvoice(record) : null;
  }

  async getInvoiceById(id: string): Promise<ErpInvoice | null> {
    const record = await this.client.getById('invoice', id);
    return record ? this.toInvoice(record) : null;
  }

  async getCreditMemo(externalId: string): Promise<ErpCreditMemo | null> {
    const record = await this.client.getByExternalId('creditMemo', externalId);
    if (!record) return null;
    const currency = this.currencyOf(record);
    return { id: record.id, currency, total: toMinorUnits(amount(record.total), currency ?? 'XXX') };
  }

  /** The internal id of the sales order upserted under `externalId` (the saga's, per deal), null when none. */
  async getSalesOrderId(externalId: string): Promise<string | null> {
    return (await this.client.getByExternalId('salesOrder', externalId))?.id ?? null;
  }

  async listInvoices(window: ReconciliationWindow, offset: number) {
    // SuiteQL, not the record list: the list names internal ids only, and telling a posted invoice from
    // one keyed in by hand needs its external id. Transaction dates are days: the day range covers the
    // window (the comparison decides, not the filter). The window's bounds are ISO timestamps it parsed.
    const day = (iso: string) => `TO_DATE('${iso.slice(0, 10)}', 'YYYY-MM-DD')`;
    const q =
      "SELECT id, externalid FROM transaction WHERE type = 'CustInvc'" +
      ` AND trandate >= ${day(window.from)} AND trandate <= ${day(window.to)} ORDER BY id`;
    const page = await this.client.suiteql(q, { limit: this.pageLimit, offset });
    const invoices = page.rows.map((row) => ({
      id: String(row.id),
      externalId: typeof row.externalid === 'string' && row.externalid !== '' ? row.externalid : null,
    }));
    return { invoices, nextOffset: page.hasMore ? offset + invoices.length : null };
  }

  private currencyOf(record: NetSuiteRecord): string | null {
    const id = refId(record.currency);
    return (id && this.isoById.get(id)) || null;
  }

  private toInvoice(record: NetSuiteRecord): ErpInvoice {
    const currency = this.currencyOf(record);
    // An unmapped currency still has its amounts read (with two decimals) so the difference can show them.
    const minor = (value: unknown) => toMinorUnits(amount(value), currency ?? 'XXX');
    return {
      id: record.id,
      externalId: record.externalId ?? null,
      currency,
      total: minor(record.total),
      amountPaid: minor(record.amountPaid),
    };
  }
}
