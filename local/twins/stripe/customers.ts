import { type Ctx, checkPaymentMethod, customerOf } from './context';
import { invalidRequest } from './errors';
import { applyMetadata, type Params } from './form';
import type { JsonObject } from './json';
import { renderCustomer } from './render';
import type { Address, CustomerRecord } from './store';
import { cancelSubscriptionNow } from './subscriptions';

const TAX_EXEMPT = ['none', 'exempt', 'reverse'] as const;
const CUSTOMER_PARAMS = [
  'address',
  'description',
  'email',
  'invoice_prefix',
  'invoice_settings',
  'metadata',
  'name',
  'payment_method',
  'phone',
  'preferred_locales',
  'shipping',
  'tax_exempt',
];

function readAddress(params: Params | undefined): Address | undefined {
  if (params === undefined) return undefined;
  params.allow('city', 'country', 'line1', 'line2', 'postal_code', 'state');
  return {
    city: params.nullableString('city') ?? null,
    country: params.nullableString('country') ?? null,
    line1: params.nullableString('line1') ?? null,
    line2: params.nullableString('line2') ?? null,
    postal_code: params.nullableString('postal_code') ?? null,
    state: params.nullableString('state') ?? null,
  };
}

function readEmail(params: Params): string | null | undefined {
  const email = params.nullableString('email');
  if (typeof email === 'string' && !/^[^\s@]+@[^\s@]+$/.test(email)) {
    throw invalidRequest(`Invalid email address: ${email}`, 'email', 'email_invalid');
  }
  return email;
}

function applyCustomerParams(customer: CustomerRecord, params: Params): void {
  const email = readEmail(params);
  if (email !== undefined) customer.email = email;
  const name = params.nullableString('name');
  if (name !== undefined) customer.name = name;
  const description = params.nullableString('description');
  if (description !== undefined) customer.description = description;
  const phone = params.nullableString('phone');
  if (phone !== undefined) customer.phone = phone;
  if (params.isEmpty('address')) customer.address = null;
  const address = readAddress(params.object('address'));
  if (address !== undefined) customer.address = address;
  if (params.isEmpty('shipping')) customer.shipping = null;
  const shipping = params.object('shipping');
  if (shipping !== undefined) {
    shipping.allow('address', 'name', 'phone');
    customer.shipping = {
      name: shipping.requiredString('name'),
      phone: shipping.nullableString('phone') ?? null,
      address: readAddress(shipping.object('address')) ?? {
        city: null,
        country: null,
        line1: null,
        line2: null,
        postal_code: null,
        state: null,
      },
    };
  }
  const taxExempt = params.oneOf('tax_exempt', TAX_EXEMPT);
  if (taxExempt !== undefined) customer.taxExempt = taxExempt;
  const locales = params.strings('preferred_locales');
  if (locales !== undefined) customer.preferredLocales = locales;
  const prefix = params.string('invoice_prefix');
  if (prefix !== undefined) {
    if (!/^[A-Z0-9]{3,12}$/.test(prefix)) {
      throw invalidRequest('Invoice prefix must be 3-12 upper-case letters or digits.', 'invoice_prefix');
    }
    customer.invoicePrefix = prefix;
  }
  const paymentMethod = params.string('payment_method');
  if (paymentMethod !== undefined) {
    customer.paymentMethods.push(checkPaymentMethod(paymentMethod, 'payment_method'));
  }
  const settings = params.object('invoice_settings');
  if (settings !== undefined) {
    settings.allow('default_payment_method');
    const pm = settings.nullableString('default_payment_method');
    if (pm !== undefined) {
      customer.defaultPaymentMethod =
        pm === null ? null : checkPaymentMethod(pm, settings.name('default_payment_method'));
      if (pm !== null && !customer.paymentMethods.includes(pm)) customer.paymentMethods.push(pm);
    }
  }
  customer.metadata = applyMetadata(customer.metadata, params.metadata());
}

export function createCustomer(ctx: Ctx, params: Params): CustomerRecord {
  params.allow(...CUSTOMER_PARAMS);
  const { store } = ctx;
  const customer: CustomerRecord = {
    id: store.id('cus_'),
    seq: store.nextSeq(),
    created: store.now(),
    email: null,
    name: null,
    description: null,
    phone: null,
    address: null,
    shipping: null,
    metadata: {},
    currency: null,
    balance: 0,
    delinquent: false,
    invoicePrefix: store.invoicePrefix(),
    nextInvoiceSequence: 1,
    defaultPaymentMethod: null,
    paymentMethods: [],
    taxExempt: 'none',
    preferredLocales: [],
    deleted: false,
  };
  applyCustomerParams(customer, params);
  store.customers.set(customer.id, customer);
  ctx.emit('customer.created', renderCustomer(customer));
  return customer;
}

export function updateCustomer(ctx: Ctx, id: string, params: Params): CustomerRecord {
  params.allow(...CUSTOMER_PARAMS);
  const customer = customerOf(ctx.store, id);
  if (customer.deleted) throw invalidRequest(`No such customer: '${id}'`, 'id', 'resource_missing', 404);
  const before = renderCustomer(customer);
  const draft = structuredClone(customer);
  applyCustomerParams(draft, params);
  Object.assign(customer, draft);
  ctx.emit('customer.updated', renderCustomer(customer), before);
  return customer;
}

/** Deleting a customer cancels its subscriptions at once, as Stripe does. */
export function deleteCustomer(ctx: Ctx, id: string, params: Params): JsonObject {
  params.allow();
  const customer = customerOf(ctx.store, id);
  if (customer.deleted) throw invalidRequest(`No such customer: '${id}'`, 'id', 'resource_missing', 404);
  for (const subscription of ctx.store.subscriptions.values()) {
    if (
      subscription.customer === id &&
      subscription.status !== 'canceled' &&
      subscription.status !== 'incomplete_expired'
    ) {
      cancelSubscriptionNow(ctx, subscription, 'cancellation_requested');
    }
  }
  const last = renderCustomer(customer);
  customer.deleted = true;
  ctx.emit('customer.deleted', last);
  return renderCustomer(customer);
}

/**
 * A subset of Stripe's search query language (https://docs.stripe.com/search#search-query-language):
 * `field:'value'` clauses for email, name, phone and `metadata['key']`, joined with AND, plus `~` for
 * substring match on email and name.
 */
export function customerMatcher(query: string): (c: CustomerRecord) => boolean {
  const clauses = query.split(/\s+AND\s+/i).map((clause) => clause.trim());
  const tests = clauses.map((clause) => {
    const match = /^(email|name|phone|metadata\[['"]([^'"]+)['"]\])\s*(:|~)\s*['"](.*)['"]$/.exec(clause);
    if (!match) {
      throw invalidRequest(
        `The twin cannot parse this search query clause: ${clause}. Supported: email, name, phone, metadata['key'] with : or ~.`,
        'query',
      );
    }
    const [, field = '', metaKey, op, value = ''] = match;
    return (c: CustomerRecord): boolean => {
      const actual =
        metaKey !== undefined
          ? c.metadata[metaKey]
          : field === 'email'
            ? c.email
            : field === 'name'
              ? c.name
              : c.phone;
      if (actual === undefined || actual === null) return false;
      if (op === '~') return actual.toLowerCase().includes(value.toLowerCase());
      // Email matches ignore case, like Stripe's search; other fields match exactly.
      return field === 'email' ? actual.toLowerCase() === value.toLowerCase() : actual === value;
    };
  });
  return (c) => !c.deleted && tests.every((test) => test(c));
}
