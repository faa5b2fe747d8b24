import type { Invoice, Payment } from '../../domain/events';
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

export const toNetSuiteInvoice = (
  invoice: Invoice,
  erpCustomerId: string,
  mapping: NetSuiteMapping,
): Record<string, unknown> => {
  const major = (minor: number) => toMajorUnits(minor, invoice.currency);
  const items: Record<string, unknown>[] = invoice.lines.map((line) => ({
    item: { id: (line.productId && mapping.productItemIds[line.productId]) || mapping.defaultItemId },
    quantity: line.quantity,
    amount: major(line.amount),
    ...(line.description ? { description: line.description.slice(0, 4000) } : {}),
  }));
  if (invoice.tax !== 0) {
    items.push({
      item: { id: mapping.taxItemId },
      quantity: 1,
      amount: major(invoice.tax),
      description: 'Tax',
    });
  }
  const linesTotal = invoice.lines.reduce((sum, line) => sum + line.amount, 0);
  const adjustment = invoice.total - linesTotal - invoice.tax;
  if (adjustment !== 0) {
    items.push({
      item: { id: mapping.adjustmentItemId },
      quantity: 1,
      amount: major(adjustment),
      description: 'Discounts and adjustments',
    });
  }
  return {
    externalId: invoice.id,
    entity: { id: erpCustomerId },
    subsidiary: { id: mapping.subsidiaryId },
    currency: currencyRef(mapping, invoice.currency),
    tranDate: day(invoice.issuedAt),
    ...(invoice.dueAt ? { dueDate: day(invoice.dueAt) } : {}),
    ...(invoice.number ? { otherRefNum: invoice.number } : {}),
    memo: `Billing invoice ${invoice.number ?? invoice.id}`,
    item: { items },
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
