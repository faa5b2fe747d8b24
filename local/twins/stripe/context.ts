import { invalidRequest, noSuch } from './errors';
import type { JsonObject } from './json';
import { previousAttributes } from './json';
import type {
  CustomerRecord,
  Interval,
  InvoiceRecord,
  PriceRecord,
  ProductRecord,
  Store,
  SubscriptionRecord,
  TaxAmount,
  TaxRateRecord,
} from './store';

/** Emits an Event for the current request; `before` turns it into an update with `previous_attributes`. */
export type Emit = (type: string, object: JsonObject, before?: JsonObject) => void;

/** What an operation needs: the state, and an emitter bound to the API request that caused it. */
export interface Ctx {
  store: Store;
  emit: Emit;
}

export function makeEmit(
  sink: (type: string, object: JsonObject, previous: JsonObject | null) => void,
): Emit {
  return (type, object, before) => {
    if (before === undefined) {
      sink(type, object, null);
      return;
    }
    const previous = previousAttributes(before, object);
    // Stripe sends no `*.updated` event for an update that changed nothing.
    if (Object.keys(previous).length > 0) sink(type, object, previous);
  };
}

export function customerOf(store: Store, id: string, param?: string): CustomerRecord {
  const customer = store.customers.get(id);
  if (!customer || (customer.deleted && param !== undefined)) throw noSuch('customer', id, param);
  return customer;
}

export function productOf(store: Store, id: string, param?: string): ProductRecord {
  const product = store.products.get(id);
  if (!product) throw noSuch('product', id, param);
  return product;
}

export function priceOf(store: Store, id: string, param?: string): PriceRecord {
  const price = store.prices.get(id);
  if (!price) throw noSuch('price', id, param);
  return price;
}

export function taxRateOf(store: Store, id: string, param?: string): TaxRateRecord {
  const rate = store.taxRates.get(id);
  if (!rate) throw noSuch('tax_rate', id, param);
  return rate;
}

export function subscriptionOf(store: Store, id: string, param?: string): SubscriptionRecord {
  const subscription = store.subscriptions.get(id);
  if (!subscription) throw noSuch('subscription', id, param);
  return subscription;
}

export function invoiceOf(store: Store, id: string, param?: string): InvoiceRecord {
  const invoice = store.invoices.get(id);
  if (!invoice) throw noSuch('invoice', id, param);
  return invoice;
}

/** Stripe's test PaymentMethod tokens and `pm_` ids are accepted; anything else does not exist. */
export function checkPaymentMethod(id: string, param: string): string {
  if (!id.startsWith('pm_')) throw noSuch('PaymentMethod', id, param);
  return id;
}

/**
 * One currency per customer: once a customer has a subscription or invoice in one currency, Stripe
 * refuses another (https://docs.stripe.com/billing/customer#currency).
 */
export function checkCustomerCurrency(customer: CustomerRecord, currency: string, param: string): void {
  if (customer.currency !== null && customer.currency !== currency) {
    throw invalidRequest(
      `You cannot combine currencies on a single customer. This customer has had a subscription, coupon, or invoice item with currency ${customer.currency}`,
      param,
    );
  }
}

const DAY = 86_400;

/** Adds whole intervals the way Stripe bills: a month later on the same day, clamped to month end. */
export function addInterval(start: number, interval: Interval, count: number): number {
  if (interval === 'day') return start + count * DAY;
  if (interval === 'week') return start + count * 7 * DAY;
  const date = new Date(start * 1000);
  const months = interval === 'month' ? count : count * 12;
  const day = date.getUTCDate();
  const target = new Date(date);
  target.setUTCDate(1);
  target.setUTCMonth(target.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return Math.floor(target.getTime() / 1000);
}

/**
 * Tax per rate for one line (https://docs.stripe.com/billing/taxes/tax-rates): an exclusive rate adds
 * `amount × pct`; inclusive rates are already inside the amount, whose net is `amount / (1 + Σpct)`.
 */
export function computeTaxes(amount: number, rates: readonly TaxRateRecord[]): TaxAmount[] {
  const inclusive = rates.filter((r) => r.inclusive);
  const inclusivePct = inclusive.reduce((sum, r) => sum + r.percentage, 0);
  const net = inclusivePct === 0 ? amount : Math.round(amount / (1 + inclusivePct / 100));
  return rates.map((rate) => ({
    amount: Math.round((net * rate.percentage) / 100),
    taxRate: rate.id,
    inclusive: rate.inclusive,
    taxableAmount: net,
  }));
}

/** `$20.00`, `€1,200.00`, `¥500`: amounts in minor units, formatted like Stripe's line descriptions. */
export function formatMoney(amount: number, currency: string): string {
  const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amount / 10 ** digits);
}

export function readTaxRates(
  store: Store,
  ids: readonly string[] | undefined,
  param: string,
): string[] | undefined {
  if (ids === undefined) return undefined;
  return ids.map((id, i) => {
    const rate = taxRateOf(store, id, `${param}[${i}]`);
    if (!rate.active)
      throw invalidRequest(`The tax rate ${id} is inactive and cannot be applied.`, `${param}[${i}]`);
    return id;
  });
}

export function ratesFor(store: Store, ids: readonly string[]): TaxRateRecord[] {
  return ids.flatMap((id) => {
    const rate = store.taxRates.get(id);
    return rate ? [rate] : [];
  });
}
