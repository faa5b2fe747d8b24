import type { CreditNote, Invoice, Payment } from '../../domain/events';
import { toMajorUnits } from '../../domain/money';
import { PermanentError } from '../../shared/errors';

/** How revbridge's ERP side is set up: subsidiary, currencies and items, from the stage configuration. */
export interface NetSuiteMapping {
  readonly subsidiaryId: string;
  /**
   * Subsidiary routing: the key a CRM deal or account carries → NetSuite subsidiary internal id. A deal
   * without a key books to `subsidiaryId`; a key missing here is a configuration gap, not a default.
   */
  readonly subsidiaryIds?: Readonly<Record<string, string>>;
  /** ISO currency code → NetSuite currency internal id. */
  readonly currencyIds: Readonly<Record<string, string>>;
  /** Billing product id → NetSuite item internal id. */
  readonly productItemIds: Readonly<Record<string, string>>;
  /** Item for lines whose product has no mapping of its own. */
  readonly defaultItemId: string;
  /** Item that carries the billing system's tax, so NetSuite's total equals the invoice's. */
  readonly taxItemId: string;
  /** Item that carries discounts and other adjustments between the lines and the total. */
  readonly adjustmentItemId: string;
}

const day = (iso: string): string => iso.slice(0, 10);

export const currencyRef = (
  mapping: Pick<NetSuiteMapping, 'currencyIds'>,
  currency: string,
): { id: string } => {
  const id = mapping.currencyIds[currency];
  if (!id) {
    throw new PermanentError(`currency ${currency} has no NetSuite currency configured`, {
      code: 'CurrencyNotMapped',
    });
  }
  return { id };
};

export const toNetSuiteCustomer = (
  customer: Invoice['customer'],
  currency: string,
  mapping: NetSuiteMapping,
): Record<string, unknown> => ({
  externalId: customer.billingId,
  companyName: customer.name ?? customer.email ?? customer.billingId,
  ...(customer.email ? { email: customer.email } : {}),
  isPerson: false,
  subsidiary: { id: mapping.subsidiaryId },
  currency: currencyRef(mapping, currency),
});

/** A billing line as a transaction line takes it: its product decides the item. */
interface BillingLine {
  readonly productId: string | null;
  readonly quantity: number;
  readonly amount: number;
  readonly description: string | null;
}

/**
 * A billing document's lines as NetSuite item lines: each line's product mapped to its item, the billing
 * system's tax on the tax item and whatever lies between the lines and the total (discounts) on the
 * adjustment item, so NetSuite's total equals the billing document's.
 */
const toItemLines = (
  document: { readonly lines: readonly BillingLine[]; readonly tax: number; readonly total: number },
  currency: string,
  mapping: NetSuiteMapping,
): Record<string, unknown>[] => {
  const major = (minor: number) => toMajorUnits(minor, currency);
  const items: Record<string, unknown>[] = document.lines.map((line) => ({
    item: { id: (line.productId && mapping.productItemIds[line.productId]) || mapping.defaultItemId },
    quantity: line.quantity,
    amount: major(line.amount),
    ...(line.description ? { description: line.description.slice(0, 4000) } : {}),
  }));
  if (document.tax !== 0) {
    items.push({
      item: { id: mapping.taxItemId },
      quantity: 1,
      amount: major(document.tax),
      description: 'Tax',
    });
  }
  const linesTotal = document.lines.reduce((sum, line) => sum + line.amount, 0);
  const adjustment = document.total - linesTotal - document.tax;
  if (adjustment !== 0) {
    items.push({
      item: { id: mapping.adjustmentItemId },
      quantity: 1,
      amount: major(adjustment),
      description: 'Discounts and adjustments',
    });
  }
  return items;
};

export const toNetSuiteInvoice = (
  invoice: Invoice,
  erpCustomerId: string,
  mapping: NetSuiteMapping,
): Record<string, unknown> => ({
  externalId: invoice.id,
  entity: { id: erpCustomerId },
  subsidiary: { id: mapping.subsidiaryId },
  currency: currencyRef(mapping, invoice.currency),
  tranDate: day(invoice.issuedAt),
  ...(invoice.dueAt ? { dueDate: day(invoice.dueAt) } : {}),
  ...(invoice.number ? { otherRefNum: invoice.number } : {}),
  memo: `Billing invoice ${invoice.number ?? invoice.id}`,
  item: { items: toItemLines(invoice, invoice.currency, mapping) },
});

/**
 * A billing credit note as a NetSuite credit memo: created from the ERP invoice it credits (subsidiary
 * and currency are the invoice's, as flow 2 posted it), its lines and tax mapped like the invoice's, and
 * applied to that invoice for the part that reduced what was left to pay (`prePaymentAmount`). What was
 * credited after payment (refunded, or left as customer balance) stays unapplied: credit on the
 * customer, as in the billing system. `products` maps the invoice lines credited to their products.
 */
export const toNetSuiteCreditMemo = (
  note: CreditNote,
  products: ReadonlyMap<string, string | null>,
  erp: { readonly customerId: string; readonly invoiceId: string },
  mapping: NetSuiteMapping,
): Record<string, unknown> => {
  const applied = Math.min(note.prePaymentAmount, note.total);
  const lines = note.lines.map((line) => ({
    productId: line.invoiceLineId ? (products.get(line.invoiceLineId) ?? null) : null,
    quantity: line.quantity ?? 1,
    amount: line.amount,
    description: line.description,
  }));
  return {
    externalId: note.id,
    entity: { id: erp.customerId },
    createdFrom: { id: erp.invoiceId },
    subsidiary: { id: mapping.subsidiaryId },
    currency: currencyRef(mapping, note.currency),
    tranDate: day(note.issuedAt),
    ...(note.number ? { otherRefNum: note.number } : {}),
    memo: `Billing credit note ${note.number ?? note.id}${note.reason ? ` (${note.reason})` : ''}`,
    item: { items: toItemLines({ lines, tax: note.tax, total: note.total }, note.currency, mapping) },
    apply: {
      items:
        applied > 0
          ? [{ doc: { id: erp.invoiceId }, apply: true, amount: toMajorUnits(applied, note.currency) }]
          : [],
    },
  };
};

/**
 * A billing payment as a NetSuite customer payment applied, for its whole amount, to the one ERP invoice
 * it paid. Subsidiary and currency are the invoice's (flow 2 posts with `subsidiaryId`), since NetSuite
 * only applies a payment to an invoice of the same customer, subsidiary and currency.
 */
export const toNetSuitePayment = (
  payment: Payment,
  externalId: string,
  erp: { readonly customerId: string; readonly invoiceId: string },
  mapping: Pick<NetSuiteMapping, 'subsidiaryId' | 'currencyIds'>,
): Record<string, unknown> => {
  const amount = toMajorUnits(payment.amount, payment.currency);
  return {
    externalId,
    customer: { id: erp.customerId },
    subsidiary: { id: mapping.subsidiaryId },
    currency: currencyRef(mapping, payment.currency),
    tranDate: day(payment.paidAt),
    payment: amount,
    memo: `Billing payment for invoice ${payment.invoiceId}`,
    apply: { items: [{ doc: { id: erp.invoiceId }, apply: true, amount }] },
  };
};
