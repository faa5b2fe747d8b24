import type { Invoice } from '../../domain/events';
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

/** ISO 4217 minor-unit exponents that are not 2. https://www.iso.org/iso-4217-currency-codes.html */
const EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
};

/** Digits after the decimal point in the currency's minor unit (2 unless ISO 4217 says otherwise). */
export const currencyExponent = (currency: string): number => EXPONENTS[currency] ?? 2;

/**
 * A vendor's decimal amount (`99.99`, or `"99.99"` as HubSpot sends numbers) to integer minor units,
 * through its decimal digits rather than a float multiplication. An amount finer than the currency's
 * minor unit (`10.005` USD) cannot be represented without rounding money, so it is refused.
 */
export const toMinorUnits = (major: number | string, currency: string): number => {
  const text = typeof major === 'number' ? String(major) : major.trim();
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) {
    throw new PermanentError(`amount ${text} is not a decimal number`, { code: 'InvalidAmount' });
  }
  const [, sign = '', whole = '0', fraction = ''] = match;
  const exponent = currencyExponent(currency);
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > exponent) {
    throw new PermanentError(`amount ${text} is finer than one minor unit of ${currency}`, {
      code: 'SubMinorUnitAmount',
    });
  }
  const minor = Number(`${whole}${significant.padEnd(exponent, '0')}`);
  if (!Number.isSafeInteger(minor)) {
    throw new PermanentError(`amount ${text} is too large`, { code: 'InvalidAmount' });
  }
  return sign === '-' && minor !== 0 ? -minor : minor;
};

/**
 * NetSuite takes decimal amounts. The conversion happens only here, at the API boundary, from integer
 * minor units through a decimal string, so no binary rounding error enters a posting.
 */
export const toMajorUnits = (minor: number, currency: string): number => {
  const exponent = EXPONENTS[currency] ?? 2;
  if (exponent === 0) return minor;
  const sign = minor < 0 ? '-' : '';
  const digits = Math.abs(minor)
    .toString()
    .padStart(exponent + 1, '0');
  return Number(`${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`);
};

const day = (iso: string): string => iso.slice(0, 10);

export const currencyRef = (mapping: NetSuiteMapping, currency: string): { id: string } => {
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
