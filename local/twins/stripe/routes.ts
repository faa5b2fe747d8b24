import {
  createPrice,
  createProduct,
  createTaxRate,
  updatePrice,
  updateProduct,
  updateTaxRate,
} from './catalog';
import { type Ctx, customerOf, invoiceOf, priceOf, productOf, subscriptionOf } from './context';
import { createCreditNote, updateCreditNote, voidCreditNote } from './credit-notes';
import { createCustomer, customerMatcher, deleteCustomer, updateCustomer } from './customers';
import { invalidRequest, missingParam, noSuch } from './errors';
import type { Params } from './form';
import {
  createInvoice,
  createInvoiceItem,
  deleteInvoice,
  finalizeInvoice,
  markUncollectible,
  payInvoice,
  updateInvoice,
  voidInvoice,
} from './invoices';
import type { Json, JsonObject } from './json';
import { type Expander, type Listable, PAGE_PARAMS, paginate } from './listing';
import {
  list,
  renderCharge,
  renderCreditNote,
  renderCreditNoteLine,
  renderCustomer,
  renderEvent,
  renderInvoice,
  renderInvoiceItem,
  renderInvoiceLine,
  renderInvoicePayment,
  renderPaymentIntent,
  renderPrice,
  renderProduct,
  renderSubscription,
  renderSubscriptionItem,
  renderTaxRate,
  renderWebhookEndpoint,
} from './render';
import type { Store, WebhookEndpointRecord } from './store';
import { cancelSubscription, createSubscription, updateSubscription } from './subscriptions';

export interface RouteRequest {
  ctx: Ctx;
  params: Params;
  /** The account's API version, which events are rendered with unless their endpoint pins another. */
  apiVersion: string;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  handle(request: RouteRequest, id: string): JsonObject;
}

const ID = '([^/]+)';

function route(method: Route['method'], path: string, handle: Route['handle']): Route {
  return { method, pattern: new RegExp(`^${path.replace(/:id/g, ID)}$`), handle };
}

const values = <T>(map: ReadonlyMap<string, T>): T[] => [...map.values()];

const bool = (params: Params, key: string): ((value: boolean) => boolean) => {
  const wanted = params.bool(key);
  return (value) => wanted === undefined || wanted === value;
};

const eq = (params: Params, key: string): ((value: string | null) => boolean) => {
  const wanted = params.string(key);
  return (value) => wanted === undefined || wanted === value;
};

function listOf<T extends Listable>(
  params: Params,
  items: readonly T[],
  render: (item: T) => JsonObject,
  url: string,
  filters: string[],
  keep: (item: T) => boolean,
): JsonObject {
  params.allow(...PAGE_PARAMS, ...filters);
  return paginate(params, items.filter(keep), render, url);
}

/** Stripe event type filters accept a `*` wildcard (`invoice.*`). */
function typeMatcher(pattern: string): (type: string) => boolean {
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return (type) => regex.test(type);
}

const escapeRegExp = (text: string): string => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

const WEBHOOK_URL = /^https?:\/\/[^\s]+$/;

function readEnabledEvents(params: Params): string[] | undefined {
  const events = params.strings('enabled_events');
  if (events === undefined) return undefined;
  if (events.length === 0) throw missingParam('enabled_events');
  for (const [i, type] of events.entries()) {
    if (!/^(\*|[a-z_]+(\.[a-z_]+)+)$/.test(type)) {
      throw invalidRequest(
        `Invalid enabled_events[${i}]: ${type} is not an event type.`,
        `enabled_events[${i}]`,
      );
    }
  }
  return events;
}

function webhookEndpointOf(store: Store, id: string): WebhookEndpointRecord {
  const endpoint = store.webhookEndpoints.get(id);
  if (!endpoint) throw noSuch('webhook endpoint', id);
  return endpoint;
}

function retrieve(params: Params): void {
  params.allow();
}

export const routes: Route[] = [
  // Customers
  route('POST', '/v1/customers', ({ ctx, params }) => renderCustomer(createCustomer(ctx, params))),
  route('GET', '/v1/customers', ({ ctx, params }) => {
    const email = eq(params, 'email');
    return listOf(
      params,
      values(ctx.store.customers),
      renderCustomer,
      '/v1/customers',
      ['email'],
      (c) => !c.deleted && email(c.email),
    );
  }),
  route('GET', '/v1/customers/search', ({ ctx, params }) => {
    params.allow('query', 'limit', 'page');
    const matches = customerMatcher(params.requiredString('query'));
    const limit = params.int('limit', { min: 1, max: 100 }) ?? 10;
    const offset = Number(params.string('page') ?? '0');
    if (!Number.isInteger(offset) || offset < 0) throw invalidRequest('Invalid page token.', 'page');
    const found = values(ctx.store.customers)
      .filter(matches)
      .sort((a, b) => b.created - a.created || b.seq - a.seq);
    const page = found.slice(offset, offset + limit);
    const hasMore = offset + limit < found.length;
    return {
      object: 'search_result',
      data: page.map(renderCustomer),
      has_more: hasMore,
      next_page: hasMore ? String(offset + limit) : null,
      url: '/v1/customers/search',
    };
  }),
  route('GET', '/v1/customers/:id', ({ ctx, params }, id) => {
    retrieve(params);
    return renderCustomer(customerOf(ctx.store, id));
  }),
  route('POST', '/v1/customers/:id', ({ ctx, params }, id) =>
    renderCustomer(updateCustomer(ctx, id, params)),
  ),
  route('DELETE', '/v1/customers/:id', ({ ctx, params }, id) => deleteCustomer(ctx, id, params)),

  // Products and prices
  route('POST', '/v1/products', ({ ctx, params }) => renderProduct(createProduct(ctx, params))),
  route('GET', '/v1/products', ({ ctx, params }) => {
    const active = bool(params, 'active');
    const ids = params.strings('ids');
    return listOf(
      params,
      values(ctx.store.products),
      renderProduct,
      '/v1/products',
      ['active', 'ids'],
      (p) => active(p.active) && (ids === undefined || ids.includes(p.id)),
    );
  }),
  route('GET', '/v1/products/:id', ({ ctx, params }, id) => {
    retrieve(params);
    return renderProduct(productOf(ctx.store, id));
  }),
  route('POST', '/v1/products/:id', ({ ctx, params }, id) => renderProduct(updateProduct(ctx, id, params))),
  route('POST', '/v1/prices', ({ ctx, params }) => renderPrice(createPrice(ctx, params))),
  route('GET', '/v1/prices', ({ ctx, params }) => {
    const active = bool(params, 'active');
    const product = eq(params, 'product');
    const currency = eq(params, 'currency');
    const type = params.oneOf('type', ['one_time', 'recurring'] as const);
    const lookupKeys = params.strings('lookup_keys');
    return listOf(
      params,
      values(ctx.store.prices),
      renderPrice,
      '/v1/prices',
      ['active', 'currency', 'lookup_keys', 'product', 'type'],
      (p) =>
        active(p.active) &&
        product(p.product) &&
        currency(p.currency) &&
        (type === undefined || (type === 'recurring') === (p.recurring !== null)) &&
        (lookupKeys === undefined || (p.lookupKey !== null && lookupKeys.includes(p.lookupKey))),
    );
  }),
  route('GET', '/v1/prices/:id', ({ ctx, params }, id) => {
    retrieve(params);
    return renderPrice(priceOf(ctx.store, id));
  }),
  route('POST', '/v1/prices/:id', ({ ctx, params }, id) => renderPrice(updatePrice(ctx, id, params))),
  route('POST', '/v1/tax_rates', ({ ctx, params }) => renderTaxRate(createTaxRate(ctx, params))),
  route('GET', '/v1/tax_rates', ({ ctx, params }) => {
    const active = bool(params, 'active');
    const inclusive = bool(params, 'inclusive');
    return listOf(
      params,
      values(ctx.store.taxRates),
      renderTaxRate,
      '/v1/tax_rates',
      ['active', 'inclusive'],
      (t) => active(t.active) && inclusive(t.inclusive),
    );
  }),
  route('GET', '/v1/tax_rates/:id', ({ ctx, params }, id) => {
    retrieve(params);
    const rate = ctx.store.taxRates.get(id);
    if (!rate) throw noSuch('tax_rate', id);
    return renderTaxRate(rate);
  }),
  route('POST', '/v1/tax_rates/:id', ({ ctx, params }, id) => renderTaxRate(updateTaxRate(ctx, id, params))),

  // Subscriptions
  route('POST', '/v1/subscriptions', ({ ctx, params }) =>
    renderSubscription(ctx.store, createSubscription(ctx, params)),
  ),
  route('GET', '/v1/subscriptions', ({ ctx, params }) => {
    const { store } = ctx;
    const customer = eq(params, 'customer');
    const collection = eq(params, 'collection_method');
    const price = params.string('price');
    // Without `status`, Stripe lists every subscription that is not canceled (https://docs.stripe.com/api/subscriptions/list).
    const status = params.string('status');
    return listOf(
      params,
      values(store.subscriptions),
      (s) => renderSubscription(store, s),
      '/v1/subscriptions',
      ['collection_method', 'customer', 'price', 'status'],
      (s) =>
        customer(s.customer) &&
        collection(s.collectionMethod) &&
        (status === 'all' || (status === undefined ? s.status !== 'canceled' : s.status === status)) &&
        (price === undefined || s.items.some((i) => store.subscriptionItems.get(i)?.price === price)),
    );
  }),
  route('GET', '/v1/subscriptions/:id', ({ ctx, params }, id) => {
    retrieve(params);
    return renderSubscription(ctx.store, subscriptionOf(ctx.store, id));
  }),
  route('POST', '/v1/subscriptions/:id', ({ ctx, params }, id) =>
    renderSubscription(ctx.store, updateSubscription(ctx, id, params)),
  ),
  route('DELETE', '/v1/subscriptions/:id', ({ ctx, params }, id) =>
    renderSubscription(ctx.store, cancelSubscription(ctx, id, params)),
  ),
  route('GET', '/v1/subscription_items', ({ ctx, params }) => {
    const { store } = ctx;
    const subscriptionId = params.requiredString('subscription');
    const subscription = subscriptionOf(store, subscriptionId, 'subscription');
    const items = subscription.items.flatMap((id) => {
      const item = store.subscriptionItems.get(id);
      return item ? [item] : [];
    });
    return listOf(
      params,
      items,
      (i) => renderSubscriptionItem(store, i),
      '/v1/subscription_items',
      ['subscription'],
      () => true,
    );
  }),
  route('GET', '/v1/subscription_items/:id', ({ ctx, params }, id) => {
    retrieve(params);
    const item = ctx.store.subscriptionItems.get(id);
    if (!item || item.deleted) throw noSuch('subscription_item', id);
    return renderSubscriptionItem(ctx.store, item);
  }),

  // Invoices
  route('POST', '/v1/invoices', ({ ctx, params }) => renderInvoice(ctx.store, createInvoice(ctx, params))),
  route('GET', '/v1/invoices', ({ ctx, params }) => {
    const { store } = ctx;
    const customer = eq(params, 'customer');
    const subscription = eq(params, 'subscription');
    const status = eq(params, 'status');
    const collection = eq(params, 'collection_method');
    return listOf(
      params,
      values(store.invoices),
      (i) => renderInvoice(store, i),
      '/v1/invoices',
      ['collection_method', 'customer', 'status', 'subscription'],
      (i) =>
        customer(i.customer) &&
        subscription(i.subscription) &&
        status(i.status) &&
        collection(i.collectionMethod),
    );
  }),
  route('GET', '/v1/invoices/:id', ({ ctx, params }, id) => {
    retrieve(params);
    return renderInvoice(ctx.store, invoiceOf(ctx.store, id));
  }),
  route('POST', '/v1/invoices/:id', ({ ctx, params }, id) =>
    renderInvoice(ctx.store, updateInvoice(ctx, id, params)),
  ),
  route('DELETE', '/v1/invoices/:id', ({ ctx, params }, id) => deleteInvoice(ctx, id, params)),
  route('POST', '/v1/invoices/:id/finalize', ({ ctx, params }, id) => {
    params.allow('auto_advance');
    const invoice = invoiceOf(ctx.store, id);
    const autoAdvance = params.bool('auto_advance');
    if (autoAdvance !== undefined && invoice.status === 'draft') invoice.autoAdvance = autoAdvance;
    finalizeInvoice(ctx, invoice);
    return renderInvoice(ctx.store, invoice);
  }),
  route('POST', '/v1/invoices/:id/pay', ({ ctx, params }, id) =>
    renderInvoice(ctx.store, payInvoice(ctx, id, params)),
  ),
  route('POST', '/v1/invoices/:id/void', ({ ctx, params }, id) =>
    renderInvoice(ctx.store, voidInvoice(ctx, id, params)),
  ),
  route('POST', '/v1/invoices/:id/mark_uncollectible', ({ ctx, params }, id) =>
    renderInvoice(ctx.store, markUncollectible(ctx, id, params)),
  ),
  route('GET', '/v1/invoices/:id/lines', ({ ctx, params }, id) => {
    const invoice = invoiceOf(ctx.store, id);
    const lines = invoice.lines.map((line, i) => ({ line, id: line.id, seq: -i, created: 0 }));
    return listOf(
      params,
      lines,
      (l) => renderInvoiceLine(l.line),
      `/v1/invoices/${id}/lines`,
      [],
      () => true,
    );
  }),
  route('POST', '/v1/invoiceitems', ({ ctx, params }) => renderInvoiceItem(createInvoiceItem(ctx, params))),
  route('GET', '/v1/invoiceitems', ({ ctx, params }) => {
    const customer = eq(params, 'customer');
    const invoice = eq(params, 'invoice');
    const pending = params.bool('pending');
    return listOf(
      params,
      values(ctx.store.invoiceItems),
      renderInvoiceItem,
      '/v1/invoiceitems',
      ['customer', 'invoice', 'pending'],
      (ii) =>
        customer(ii.customer) &&
        invoice(ii.invoice) &&
        (pending === undefined || pending === (ii.invoice === null)),
    );
  }),
  route('GET', '/v1/invoiceitems/:id', ({ ctx, params }, id) => {
    retrieve(params);
    const item = ctx.store.invoiceItems.get(id);
    if (!item) throw noSuch('invoiceitem', id);
    return renderInvoiceItem(item);
  }),
  route('GET', '/v1/invoice_payments', ({ ctx, params }) => {
    const invoice = eq(params, 'invoice');
    const status = eq(params, 'status');
    return listOf(
      params,
      values(ctx.store.payments),
      renderInvoicePayment,
      '/v1/invoice_payments',
      ['invoice', 'status'],
      (p) => invoice(p.invoice) && status(p.status),
    );
  }),
  route('GET', '/v1/invoice_payments/:id', ({ ctx, params }, id) => {
    retrieve(params);
    const payment = ctx.store.payments.get(id);
    if (!payment) throw noSuch('invoice_payment', id);
    return renderInvoicePayment(payment);
  }),
  route('GET', '/v1/payment_intents', ({ ctx, params }) => {
    const customer = eq(params, 'customer');
    return listOf(
      params,
      values(ctx.store.paymentIntents),
      renderPaymentIntent,
      '/v1/payment_intents',
      ['customer'],
      (p) => customer(p.customer),
    );
  }),
  route('GET', '/v1/payment_intents/:id', ({ ctx, params }, id) => {
    retrieve(params);
    const intent = ctx.store.paymentIntents.get(id);
    if (!intent) throw noSuch('payment_intent', id);
    return renderPaymentIntent(intent);
  }),
  route('GET', '/v1/charges', ({ ctx, params }) => {
    const customer = eq(params, 'customer');
    const intent = eq(params, 'payment_intent');
    return listOf(
      params,
      values(ctx.store.charges),
      renderCharge,
      '/v1/charges',
      ['customer', 'payment_intent'],
      (c) => customer(c.customer) && intent(c.paymentIntent),
    );
  }),
  route('GET', '/v1/charges/:id', ({ ctx, params }, id) => {
    retrieve(params);
    const charge = ctx.store.charges.get(id);
    if (!charge) throw noSuch('charge', id);
    return renderCharge(charge);
  }),

  // Credit notes
  route('POST', '/v1/credit_notes', ({ ctx, params }) =>
    renderCreditNote(ctx.store, createCreditNote(ctx, params)),
  ),
  route('GET', '/v1/credit_notes', ({ ctx, params }) => {
    const invoice = eq(params, 'invoice');
    const customer = eq(params, 'customer');
    return listOf(
      params,
      values(ctx.store.creditNotes),
      (n) => renderCreditNote(ctx.store, n),
      '/v1/credit_notes',
      ['customer', 'invoice'],
      (n) => invoice(n.invoice) && customer(n.customer),
    );
  }),
  route('GET', '/v1/credit_notes/:id', ({ ctx, params }, id) => {
    retrieve(params);
    const note = ctx.store.creditNotes.get(id);
    if (!note) throw noSuch('credit_note', id);
    return renderCreditNote(ctx.store, note);
  }),
  route('POST', '/v1/credit_notes/:id', ({ ctx, params }, id) =>
    renderCreditNote(ctx.store, updateCreditNote(ctx, id, params)),
  ),
  route('POST', '/v1/credit_notes/:id/void', ({ ctx, params }, id) =>
    renderCreditNote(ctx.store, voidCreditNote(ctx, id, params)),
  ),
  route('GET', '/v1/credit_notes/:id/lines', ({ ctx, params }, id) => {
    const note = ctx.store.creditNotes.get(id);
    if (!note) throw noSuch('credit_note', id);
    const lines = note.lines.map((line, i) => ({ line, id: line.id, seq: -i, created: 0 }));
    return listOf(
      params,
      lines,
      (l) => renderCreditNoteLine(ctx.store, l.line),
      `/v1/credit_notes/${id}/lines`,
      [],
      () => true,
    );
  }),

  // Events
  route('GET', '/v1/events', ({ ctx, params, apiVersion }) => {
    const type = params.string('type');
    const types = params.strings('types');
    if (type !== undefined && types !== undefined) {
      throw invalidRequest('You may only specify one of these parameters: type, types.', 'types');
    }
    if (types !== undefined && types.length > 20)
      throw invalidRequest('You can filter on at most 20 types.', 'types');
    const matchers = (types ?? (type === undefined ? [] : [type])).map(typeMatcher);
    return listOf(
      params,
      values(ctx.store.events),
      (e) => renderEvent(e, apiVersion),
      '/v1/events',
      ['type', 'types', 'delivery_success'],
      (e) => matchers.length === 0 || matchers.some((m) => m(e.type)),
    );
  }),
  route('GET', '/v1/events/:id', ({ ctx, params, apiVersion }, id) => {
    retrieve(params);
    const event = ctx.store.events.get(id);
    if (!event) throw noSuch('event', id);
    return renderEvent(event, apiVersion);
  }),

  // Webhook endpoints
  route('POST', '/v1/webhook_endpoints', ({ ctx, params }) => {
    params.allow('api_version', 'description', 'enabled_events', 'metadata', 'url');
    const url = params.requiredString('url');
    if (!WEBHOOK_URL.test(url)) throw invalidRequest(`Invalid URL: ${url}`, 'url', 'url_invalid');
    const enabledEvents = readEnabledEvents(params);
    if (enabledEvents === undefined) throw missingParam('enabled_events');
    const { store } = ctx;
    const endpoint: WebhookEndpointRecord = {
      id: store.id('we_'),
      seq: store.nextSeq(),
      created: store.now(),
      url,
      secret: store.webhookSecret(),
      previousSecrets: [],
      enabledEvents,
      description: params.nullableString('description') ?? null,
      metadata: {},
      status: 'enabled',
      apiVersion: params.string('api_version') ?? null,
    };
    const metadata = params.metadata();
    if (metadata?.kind === 'merge') endpoint.metadata = metadata.set;
    store.webhookEndpoints.set(endpoint.id, endpoint);
    return renderWebhookEndpoint(endpoint, true);
  }),
  route('GET', '/v1/webhook_endpoints', ({ ctx, params }) =>
    listOf(
      params,
      values(ctx.store.webhookEndpoints),
      (w) => renderWebhookEndpoint(w),
      '/v1/webhook_endpoints',
      [],
      () => true,
    ),
  ),
  route('GET', '/v1/webhook_endpoints/:id', ({ ctx, params }, id) => {
    retrieve(params);
    return renderWebhookEndpoint(webhookEndpointOf(ctx.store, id));
  }),
  route('POST', '/v1/webhook_endpoints/:id', ({ ctx, params }, id) => {
    params.allow('description', 'disabled', 'enabled_events', 'metadata', 'url');
    const endpoint = webhookEndpointOf(ctx.store, id);
    const url = params.string('url');
    if (url !== undefined && !WEBHOOK_URL.test(url))
      throw invalidRequest(`Invalid URL: ${url}`, 'url', 'url_invalid');
    const enabledEvents = readEnabledEvents(params);
    const disabled = params.bool('disabled');
    const description = params.nullableString('description');
    const metadata = params.metadata();
    if (url !== undefined) endpoint.url = url;
    if (enabledEvents !== undefined) endpoint.enabledEvents = enabledEvents;
    if (disabled !== undefined) endpoint.status = disabled ? 'disabled' : 'enabled';
    if (description !== undefined) endpoint.description = description;
    if (metadata !== undefined)
      endpoint.metadata = metadata.kind === 'clear' ? {} : { ...endpoint.metadata, ...metadata.set };
    return renderWebhookEndpoint(endpoint);
  }),
  route('DELETE', '/v1/webhook_endpoints/:id', ({ ctx, params }, id) => {
    params.allow();
    webhookEndpointOf(ctx.store, id);
    ctx.store.webhookEndpoints.delete(id);
    return { id, object: 'webhook_endpoint', deleted: true };
  }),
];

/** Renders the object an id names, for `expand[]` and the twin's read accessors. */
export function renderById(store: Store, id: string): JsonObject | undefined {
  const prefix = id.slice(0, id.indexOf('_') + 1);
  switch (prefix) {
    case 'cus_': {
      const c = store.customers.get(id);
      return c && renderCustomer(c);
    }
    case 'prod_': {
      const p = store.products.get(id);
      return p && renderProduct(p);
    }
    case 'price_': {
      const p = store.prices.get(id);
      return p && renderPrice(p);
    }
    case 'txr_': {
      const t = store.taxRates.get(id);
      return t && renderTaxRate(t);
    }
    case 'sub_': {
      const s = store.subscriptions.get(id);
      return s && renderSubscription(store, s);
    }
    case 'si_': {
      const i = store.subscriptionItems.get(id);
      return i && renderSubscriptionItem(store, i);
    }
    case 'in_': {
      const i = store.invoices.get(id);
      return i && renderInvoice(store, i);
    }
    case 'ii_': {
      const i = store.invoiceItems.get(id);
      return i && renderInvoiceItem(i);
    }
    case 'inpay_': {
      const p = store.payments.get(id);
      return p && renderInvoicePayment(p);
    }
    case 'pi_': {
      const p = store.paymentIntents.get(id);
      return p && renderPaymentIntent(p);
    }
    case 'ch_': {
      const c = store.charges.get(id);
      return c && renderCharge(c);
    }
    case 'cn_': {
      const n = store.creditNotes.get(id);
      return n && renderCreditNote(store, n);
    }
    default:
      return undefined;
  }
}

export function expanderFor(store: Store): Expander {
  return {
    resolve: (id) => renderById(store, id),
    include: (object: JsonObject, key: string): Json | undefined => {
      const id = typeof object.id === 'string' ? object.id : '';
      if (object.object === 'invoice' && key === 'payments') {
        const invoice = store.invoices.get(id);
        return invoice && renderInvoice(store, invoice, { payments: true }).payments;
      }
      if (object.object === 'customer' && key === 'subscriptions') {
        const subscriptions = values(store.subscriptions)
          .filter((s) => s.customer === id && s.status !== 'canceled')
          .map((s) => renderSubscription(store, s));
        return list(subscriptions, `/v1/customers/${id}/subscriptions`);
      }
      return undefined;
    },
  };
}
