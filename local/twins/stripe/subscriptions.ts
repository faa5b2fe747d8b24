import { readCurrency, readRecurring, readUnitAmount } from './catalog';
import {
  addInterval,
  type Ctx,
  checkCustomerCurrency,
  checkPaymentMethod,
  customerOf,
  formatMoney,
  priceOf,
  productOf,
  readTaxRates,
  subscriptionOf,
} from './context';
import { invalidRequest, missingParam, noSuch, StripeApiError } from './errors';
import { applyMetadata, type Params } from './form';
import {
  attachPendingItems,
  attemptPayment,
  declineFor,
  finalizeInvoice,
  newInvoice,
  noPaymentMethod,
  paymentMethodFor,
  recomputeTaxes,
  recordMissingPaymentMethod,
  renderInvoiceFor,
} from './invoices';
import { invoiceAmounts, renderInvoiceItem, renderPrice, renderSubscription } from './render';
import type {
  CustomerRecord,
  InvoiceItemRecord,
  InvoiceLineRecord,
  InvoiceRecord,
  PriceRecord,
  SubscriptionItemRecord,
  SubscriptionRecord,
} from './store';

const COLLECTION_METHODS = ['charge_automatically', 'send_invoice'] as const;
const PAYMENT_BEHAVIORS = [
  'allow_incomplete',
  'default_incomplete',
  'error_if_incomplete',
  'pending_if_incomplete',
] as const;
const PRORATION_BEHAVIORS = ['always_invoice', 'create_prorations', 'none'] as const;
const FEEDBACK = [
  'customer_service',
  'low_quality',
  'missing_features',
  'other',
  'switched_service',
  'too_complex',
  'too_expensive',
  'unused',
] as const;
/** https://docs.stripe.com/api/subscriptions/create#create_subscription-items */
const MAX_ITEMS = 20;

interface ItemPlan {
  price: PriceRecord;
  /** A price made from `price_data`, stored only when the request succeeds. */
  inline: boolean;
  quantity: number;
  metadata: Record<string, string>;
  taxRates: string[];
}

/** Reads `price` or `price_data` of one item; `price_data` makes a new price for an existing product. */
function readItemPrice(ctx: Ctx, item: Params): { price: PriceRecord; inline: boolean } | undefined {
  const priceId = item.string('price');
  const data = item.object('price_data');
  if (priceId !== undefined && data !== undefined) {
    throw invalidRequest(
      'You may only specify one of these parameters: price, price_data.',
      item.name('price'),
    );
  }
  if (priceId !== undefined) {
    const price = priceOf(ctx.store, priceId, item.name('price'));
    if (price.recurring === null) {
      throw invalidRequest(
        `The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`,
        item.name('price'),
      );
    }
    if (!price.active) throw invalidRequest(`The price ${priceId} is not active.`, item.name('price'));
    return { price, inline: false };
  }
  if (data === undefined) return undefined;
  data.allow('currency', 'product', 'recurring', 'tax_behavior', 'unit_amount', 'unit_amount_decimal');
  const product = productOf(ctx.store, data.requiredString('product'), data.name('product'));
  const recurring = readRecurring(data.object('recurring'));
  if (recurring === null) throw missingParam(data.name('recurring'));
  const tax = data.oneOf('tax_behavior', ['inclusive', 'exclusive', 'unspecified'] as const) ?? 'unspecified';
  return {
    inline: true,
    price: {
      id: ctx.store.id('price_'),
      seq: ctx.store.nextSeq(),
      created: ctx.store.now(),
      product: product.id,
      currency: readCurrency(data),
      unitAmount: readUnitAmount(data),
      recurring,
      active: false,
      nickname: null,
      lookupKey: null,
      metadata: {},
      taxBehavior: tax,
    },
  };
}

/** Stripe's rule: every price on a subscription shares its currency and billing interval. */
function checkCompatible(prices: readonly PriceRecord[], param: string): void {
  const [first, ...rest] = prices;
  if (first === undefined) return;
  for (const price of rest) {
    if (
      price.currency !== first.currency ||
      price.recurring?.interval !== first.recurring?.interval ||
      price.recurring?.intervalCount !== first.recurring?.intervalCount
    ) {
      throw invalidRequest(
        'Currency and interval fields must match across all plans on this subscription.',
        param,
      );
    }
  }
  const seen = new Set<string>();
  for (const price of prices) {
    if (seen.has(price.id)) {
      throw invalidRequest(`Cannot add multiple subscription items with the same price: ${price.id}`, param);
    }
    seen.add(price.id);
  }
}

function itemDescription(ctx: Ctx, price: PriceRecord, quantity: number): string {
  const product = ctx.store.products.get(price.product)?.name ?? price.product;
  const recurring = price.recurring;
  const every =
    recurring === null
      ? ''
      : recurring.intervalCount === 1
        ? ` / ${recurring.interval}`
        : ` every ${recurring.intervalCount} ${recurring.interval}s`;
  return `${quantity} × ${product} (at ${formatMoney(price.unitAmount, price.currency)}${every})`;
}

function lineForItem(ctx: Ctx, invoice: InvoiceRecord, item: SubscriptionItemRecord): InvoiceLineRecord {
  const price = priceOf(ctx.store, item.price);
  return {
    id: ctx.store.id('il_'),
    invoice: invoice.id,
    amount: price.unitAmount * item.quantity,
    currency: price.currency,
    description: itemDescription(ctx, price, item.quantity),
    quantity: item.quantity,
    unitAmount: price.unitAmount,
    price: price.id,
    product: price.product,
    periodStart: item.periodStart,
    periodEnd: item.periodEnd,
    proration: false,
    subscription: item.subscription,
    subscriptionItem: item.id,
    invoiceItem: null,
    metadata: {},
    taxRates: [...item.taxRates],
    taxes: [],
  };
}

function readCancellationDetails(params: Params, subscription: SubscriptionRecord): void {
  const details = params.object('cancellation_details');
  if (details === undefined) return;
  details.allow('comment', 'feedback');
  const comment = details.nullableString('comment');
  if (comment !== undefined) subscription.cancellation.comment = comment;
  if (details.isEmpty('feedback')) subscription.cancellation.feedback = null;
  const feedback = details.oneOf('feedback', FEEDBACK);
  if (feedback !== undefined) subscription.cancellation.feedback = feedback;
}

/**
 * Creating a subscription creates its first invoice and finalizes it in the same request; with
 * `collection_method=charge_automatically` Stripe then charges the default payment method at once
 * (https://docs.stripe.com/billing/subscriptions/overview#subscription-lifecycle). With the default
 * `payment_behavior=allow_incomplete` a failed payment leaves the subscription `incomplete`;
 * `error_if_incomplete` answers 402 instead; `default_incomplete` does not attempt payment.
 */
export function createSubscription(ctx: Ctx, params: Params): SubscriptionRecord {
  params.allow(
    'cancel_at_period_end',
    'collection_method',
    'currency',
    'customer',
    'days_until_due',
    'default_payment_method',
    'default_tax_rates',
    'description',
    'items',
    'metadata',
    'off_session',
    'payment_behavior',
    'proration_behavior',
  );
  const { store } = ctx;
  const customer = customerOf(store, params.requiredString('customer'), 'customer');
  const itemParams = params.objects('items');
  if (itemParams === undefined || itemParams.length === 0) throw missingParam('items');
  if (itemParams.length > MAX_ITEMS)
    throw invalidRequest(`A subscription can have at most ${MAX_ITEMS} items.`, 'items');
  const plans: ItemPlan[] = itemParams.map((item) => {
    item.allow('metadata', 'price', 'price_data', 'quantity', 'tax_rates');
    const price = readItemPrice(ctx, item);
    if (price === undefined) throw missingParam(item.name('price'));
    return {
      ...price,
      quantity: item.int('quantity', { min: 0 }) ?? 1,
      metadata: applyMetadata({}, item.metadata()),
      taxRates: readTaxRates(store, item.strings('tax_rates'), item.name('tax_rates')) ?? [],
    };
  });
  checkCompatible(
    plans.map((p) => p.price),
    'items',
  );
  const firstPrice = plans[0]?.price;
  if (firstPrice === undefined || firstPrice.recurring === null) throw missingParam('items');
  const currency = firstPrice.currency;
  if (params.has('currency') && readCurrency(params) !== currency) {
    throw invalidRequest(`The currency does not match the prices' currency (${currency}).`, 'currency');
  }
  checkCustomerCurrency(customer, currency, 'items');
  const collectionMethod = params.oneOf('collection_method', COLLECTION_METHODS) ?? 'charge_automatically';
  const daysUntilDue = params.int('days_until_due', { min: 0, max: 730 }) ?? null;
  if (collectionMethod === 'send_invoice' && daysUntilDue === null) throw missingParam('days_until_due');
  if (collectionMethod === 'charge_automatically' && daysUntilDue !== null) {
    throw invalidRequest('days_until_due applies only to collection_method=send_invoice.', 'days_until_due');
  }
  const behavior = params.oneOf('payment_behavior', PAYMENT_BEHAVIORS) ?? 'allow_incomplete';
  if (behavior === 'pending_if_incomplete') {
    throw invalidRequest(
      'payment_behavior=pending_if_incomplete is only supported when updating a subscription.',
      'payment_behavior',
    );
  }
  params.oneOf('proration_behavior', PRORATION_BEHAVIORS);
  const explicitPm = params.string('default_payment_method');
  if (explicitPm !== undefined) checkPaymentMethod(explicitPm, 'default_payment_method');
  const defaultTaxRates = readTaxRates(store, params.strings('default_tax_rates'), 'default_tax_rates') ?? [];

  const now = store.now();
  const periodEnd = addInterval(now, firstPrice.recurring.interval, firstPrice.recurring.intervalCount);
  const subscription: SubscriptionRecord = {
    id: store.id('sub_'),
    seq: store.nextSeq(),
    created: now,
    customer: customer.id,
    currency,
    status: 'incomplete',
    items: [],
    collectionMethod,
    daysUntilDue,
    defaultPaymentMethod: explicitPm ?? null,
    defaultTaxRates,
    description: params.nullableString('description') ?? null,
    metadata: applyMetadata({}, params.metadata()),
    billingCycleAnchor: now,
    startDate: now,
    cancelAtPeriodEnd: false,
    cancelAt: null,
    canceledAt: null,
    endedAt: null,
    cancellation: { comment: null, feedback: null, reason: null },
    latestInvoice: null,
  };
  if (params.bool('cancel_at_period_end') === true) {
    subscription.cancelAtPeriodEnd = true;
    subscription.cancelAt = periodEnd;
    subscription.canceledAt = now;
    subscription.cancellation.reason = 'cancellation_requested';
  }
  const items: SubscriptionItemRecord[] = plans.map((plan) => ({
    id: store.id('si_'),
    seq: store.nextSeq(),
    created: now,
    subscription: subscription.id,
    price: plan.price.id,
    quantity: plan.quantity,
    metadata: plan.metadata,
    taxRates: plan.taxRates,
    periodStart: now,
    periodEnd,
    deleted: false,
  }));
  subscription.items = items.map((i) => i.id);

  // Work out the outcome before writing anything, so a 402 under error_if_incomplete leaves no trace.
  const invoice = newInvoice(ctx, {
    customer,
    currency,
    subscription: subscription.id,
    collectionMethod,
    daysUntilDue,
    dueDate: null,
    billingReason: 'subscription_create',
    autoAdvance: true,
    description: null,
    metadata: {},
    defaultTaxRates: [],
    periodStart: now,
    periodEnd: now,
  });
  invoice.subscriptionMetadata = { ...subscription.metadata };
  for (const plan of plans) if (plan.inline) store.prices.set(plan.price.id, plan.price);
  store.subscriptions.set(subscription.id, subscription);
  for (const item of items) store.subscriptionItems.set(item.id, item);
  invoice.lines = items.map((item) => lineForItem(ctx, invoice, item));
  recomputeTaxes(ctx, invoice);
  const previewDue = expectedDue(customer, invoiceAmounts(invoice).total);
  const paymentMethod =
    collectionMethod === 'charge_automatically' ? (explicitPm ?? customer.defaultPaymentMethod) : null;
  const decline = paymentMethod === null ? undefined : declineFor(paymentMethod);
  const willCharge =
    collectionMethod === 'charge_automatically' && behavior !== 'default_incomplete' && previewDue > 0;
  if (behavior === 'error_if_incomplete' && willCharge && (paymentMethod === null || decline !== undefined)) {
    for (const plan of plans) if (plan.inline) store.prices.delete(plan.price.id);
    store.subscriptions.delete(subscription.id);
    for (const item of items) store.subscriptionItems.delete(item.id);
    if (paymentMethod === null || decline === undefined) throw noPaymentMethod();
    throw new StripeApiError({
      status: 402,
      type: 'card_error',
      code: decline.code,
      declineCode: decline.declineCode,
      message: decline.message,
      saved: true,
    });
  }
  const activeNow =
    previewDue === 0 ||
    collectionMethod === 'send_invoice' ||
    (willCharge && paymentMethod !== null && decline === undefined);
  subscription.status = activeNow ? 'active' : 'incomplete';
  subscription.latestInvoice = invoice.id;
  if (customer.currency === null) customer.currency = currency;

  for (const plan of plans) if (plan.inline) ctx.emit('price.created', renderPrice(plan.price));
  ctx.emit('customer.subscription.created', renderSubscription(store, subscription));
  store.invoices.set(invoice.id, invoice);
  ctx.emit('invoice.created', renderInvoiceFor(ctx, invoice));
  finalizeInvoice(ctx, invoice);
  if (invoice.status === 'open' && willCharge && paymentMethod !== null)
    attemptPayment(ctx, invoice, paymentMethod);
  return subscription;
}

/** What finalization will leave due, given the customer's balance (credit is negative). */
function expectedDue(customer: CustomerRecord, total: number): number {
  return Math.max(0, total + customer.balance);
}

function periodOf(ctx: Ctx, subscription: SubscriptionRecord): { start: number; end: number } {
  const items = subscription.items.flatMap((id) => {
    const item = ctx.store.subscriptionItems.get(id);
    return item ? [item] : [];
  });
  return {
    start: Math.min(...items.map((i) => i.periodStart)),
    end: Math.max(...items.map((i) => i.periodEnd)),
  };
}

/**
 * Stripe's prorations (https://docs.stripe.com/billing/subscriptions/prorations): a credit for the
 * unused time on the old price and quantity, a charge for the remaining time on the new one, both as
 * pending invoice items on the subscription.
 */
function prorationItem(
  ctx: Ctx,
  subscription: SubscriptionRecord,
  item: SubscriptionItemRecord,
  price: PriceRecord,
  quantity: number,
  fraction: number,
  sign: 1 | -1,
  from: number,
): InvoiceItemRecord | undefined {
  const amount = sign * Math.round(price.unitAmount * quantity * fraction);
  if (amount === 0) return undefined;
  const product = ctx.store.products.get(price.product)?.name ?? price.product;
  const date = new Date(from * 1000).toISOString().slice(0, 10);
  return {
    id: ctx.store.id('ii_'),
    seq: ctx.store.nextSeq(),
    created: ctx.store.now(),
    customer: subscription.customer,
    invoice: null,
    amount,
    unitAmount: amount,
    quantity: 1,
    currency: price.currency,
    description: `${sign < 0 ? 'Unused' : 'Remaining'} time on ${quantity} × ${product} after ${date}`,
    price: price.id,
    product: price.product,
    periodStart: from,
    periodEnd: item.periodEnd,
    proration: true,
    subscription: subscription.id,
    subscriptionItem: item.id,
    taxRates: [...item.taxRates],
    metadata: {},
  };
}

/** Creates, finalizes and collects an invoice for the subscription's pending items right away. */
function invoiceNow(
  ctx: Ctx,
  subscription: SubscriptionRecord,
  reason: InvoiceRecord['billingReason'],
): InvoiceRecord | undefined {
  const { store } = ctx;
  const customer = customerOf(store, subscription.customer);
  const now = store.now();
  const invoice = newInvoice(ctx, {
    customer,
    currency: subscription.currency,
    subscription: subscription.id,
    collectionMethod: subscription.collectionMethod,
    daysUntilDue: subscription.daysUntilDue,
    dueDate: null,
    billingReason: reason,
    autoAdvance: true,
    description: null,
    metadata: {},
    defaultTaxRates: [],
    periodStart: now,
    periodEnd: now,
  });
  attachPendingItems(ctx, invoice, subscription.id);
  if (invoice.lines.length === 0) return undefined;
  return issue(ctx, subscription, invoice);
}

function issue(ctx: Ctx, subscription: SubscriptionRecord, invoice: InvoiceRecord): InvoiceRecord {
  recomputeTaxes(ctx, invoice);
  ctx.store.invoices.set(invoice.id, invoice);
  subscription.latestInvoice = invoice.id;
  ctx.emit('invoice.created', renderInvoiceFor(ctx, invoice));
  finalizeInvoice(ctx, invoice);
  if (invoice.status === 'open' && invoice.collectionMethod === 'charge_automatically') {
    const paymentMethod = paymentMethodFor(ctx, invoice);
    if (paymentMethod === null) recordMissingPaymentMethod(ctx, invoice);
    else attemptPayment(ctx, invoice, paymentMethod);
  }
  return invoice;
}

export function updateSubscription(ctx: Ctx, id: string, params: Params): SubscriptionRecord {
  params.allow(
    'cancel_at_period_end',
    'cancellation_details',
    'collection_method',
    'days_until_due',
    'default_payment_method',
    'default_tax_rates',
    'description',
    'items',
    'metadata',
    'off_session',
    'payment_behavior',
    'proration_behavior',
    'proration_date',
  );
  const { store } = ctx;
  const subscription = subscriptionOf(store, id);
  if (subscription.status === 'canceled') {
    const other = [
      'cancel_at_period_end',
      'collection_method',
      'days_until_due',
      'default_payment_method',
      'default_tax_rates',
      'description',
      'items',
    ].find((k) => params.has(k));
    if (other !== undefined) {
      throw invalidRequest(
        'A canceled subscription can only update its cancellation_details and metadata.',
        other,
      );
    }
  }
  const before = renderSubscription(store, subscription);
  const next = structuredClone(subscription);
  const now = store.now();

  const description = params.nullableString('description');
  if (description !== undefined) next.description = description;
  next.metadata = applyMetadata(next.metadata, params.metadata());
  readCancellationDetails(params, next);
  const collection = params.oneOf('collection_method', COLLECTION_METHODS);
  if (collection !== undefined) next.collectionMethod = collection;
  const days = params.int('days_until_due', { min: 0, max: 730 });
  if (days !== undefined) next.daysUntilDue = days;
  if (next.collectionMethod === 'send_invoice' && next.daysUntilDue === null)
    throw missingParam('days_until_due');
  if (next.collectionMethod === 'charge_automatically') next.daysUntilDue = null;
  const pm = params.string('default_payment_method');
  if (pm !== undefined) next.defaultPaymentMethod = checkPaymentMethod(pm, 'default_payment_method');
  const rates = readTaxRates(store, params.strings('default_tax_rates'), 'default_tax_rates');
  if (rates !== undefined) next.defaultTaxRates = rates;
  params.oneOf('payment_behavior', PAYMENT_BEHAVIORS);
  const proration = params.oneOf('proration_behavior', PRORATION_BEHAVIORS) ?? 'create_prorations';
  const period = periodOf(ctx, subscription);
  const prorationDate = Math.min(Math.max(params.int('proration_date') ?? now, period.start), period.end);
  const fraction = period.end > period.start ? (period.end - prorationDate) / (period.end - period.start) : 0;

  const cancelAtPeriodEnd = params.bool('cancel_at_period_end');
  if (cancelAtPeriodEnd !== undefined) {
    next.cancelAtPeriodEnd = cancelAtPeriodEnd;
    next.cancelAt = cancelAtPeriodEnd ? period.end : null;
    next.canceledAt = cancelAtPeriodEnd ? now : null;
    next.cancellation.reason = cancelAtPeriodEnd ? 'cancellation_requested' : null;
  }

  // Items: validate every change on copies first, then apply.
  const changed = new Map<string, SubscriptionItemRecord>();
  const added: SubscriptionItemRecord[] = [];
  const newPrices: PriceRecord[] = [];
  const prorations: InvoiceItemRecord[] = [];
  for (const item of params.objects('items') ?? []) {
    item.allow('deleted', 'id', 'metadata', 'price', 'price_data', 'quantity', 'tax_rates');
    const itemId = item.string('id');
    const price = readItemPrice(ctx, item);
    if (price?.inline) newPrices.push(price.price);
    if (itemId !== undefined) {
      const current = store.subscriptionItems.get(itemId);
      if (!current || current.subscription !== id || current.deleted)
        throw noSuch('subscription item', itemId, item.name('id'));
      const copy = changed.get(itemId) ?? structuredClone(current);
      const oldPrice = priceOf(store, current.price);
      if (item.bool('deleted') === true) {
        copy.deleted = true;
        const credit = prorationItem(
          ctx,
          next,
          current,
          oldPrice,
          current.quantity,
          fraction,
          -1,
          prorationDate,
        );
        if (credit) prorations.push(credit);
      } else {
        if (price !== undefined) copy.price = price.price.id;
        const quantity = item.int('quantity', { min: 0 });
        if (quantity !== undefined) copy.quantity = quantity;
        copy.metadata = applyMetadata(copy.metadata, item.metadata());
        const taxRates = readTaxRates(store, item.strings('tax_rates'), item.name('tax_rates'));
        if (taxRates !== undefined) copy.taxRates = taxRates;
        if (copy.price !== current.price || copy.quantity !== current.quantity) {
          const newPrice = price?.price ?? oldPrice;
          const credit = prorationItem(
            ctx,
            next,
            current,
            oldPrice,
            current.quantity,
            fraction,
            -1,
            prorationDate,
          );
          const charge = prorationItem(ctx, next, copy, newPrice, copy.quantity, fraction, 1, prorationDate);
          if (credit) prorations.push(credit);
          if (charge) prorations.push(charge);
        }
      }
      changed.set(itemId, copy);
    } else {
      if (price === undefined) throw missingParam(item.name('price'));
      const created: SubscriptionItemRecord = {
        id: store.id('si_'),
        seq: store.nextSeq(),
        created: now,
        subscription: id,
        price: price.price.id,
        quantity: item.int('quantity', { min: 0 }) ?? 1,
        metadata: applyMetadata({}, item.metadata()),
        taxRates: readTaxRates(store, item.strings('tax_rates'), item.name('tax_rates')) ?? [],
        periodStart: period.start,
        periodEnd: period.end,
        deleted: false,
      };
      const charge = prorationItem(
        ctx,
        next,
        created,
        price.price,
        created.quantity,
        fraction,
        1,
        prorationDate,
      );
      if (charge) prorations.push(charge);
      added.push(created);
    }
  }
  const finalItems = [
    ...subscription.items.flatMap((itemId) => {
      const item = changed.get(itemId) ?? store.subscriptionItems.get(itemId);
      return item && !item.deleted ? [item] : [];
    }),
    ...added,
  ];
  if (finalItems.length === 0) throw invalidRequest('A subscription must keep at least one item.', 'items');
  const priceLookup = (priceId: string): PriceRecord =>
    newPrices.find((p) => p.id === priceId) ?? priceOf(store, priceId);
  checkCompatible(
    finalItems.map((i) => priceLookup(i.price)),
    'items',
  );
  if (priceLookup(finalItems[0]?.price ?? '').currency !== subscription.currency) {
    throw invalidRequest(`The subscription's currency is ${subscription.currency}.`, 'items');
  }

  // Apply.
  for (const price of newPrices) {
    store.prices.set(price.id, price);
    ctx.emit('price.created', renderPrice(price));
  }
  for (const [itemId, copy] of changed) {
    const current = store.subscriptionItems.get(itemId);
    if (current) Object.assign(current, copy);
  }
  for (const item of added) store.subscriptionItems.set(item.id, item);
  next.items = [
    ...subscription.items.filter((itemId) => !changed.get(itemId)?.deleted),
    ...added.map((i) => i.id),
  ];
  Object.assign(subscription, next);
  if (proration !== 'none') {
    for (const item of prorations) {
      store.invoiceItems.set(item.id, item);
      ctx.emit('invoiceitem.created', renderInvoiceItem(item));
    }
  }
  ctx.emit('customer.subscription.updated', renderSubscription(store, subscription), before);
  if (proration === 'always_invoice' && prorations.length > 0)
    invoiceNow(ctx, subscription, 'subscription_update');
  return subscription;
}

/** Cancels at once: status `canceled`, `ended_at` now, and `customer.subscription.deleted`. */
export function cancelSubscriptionNow(ctx: Ctx, subscription: SubscriptionRecord, reason: string): void {
  const now = ctx.store.now();
  subscription.status = 'canceled';
  subscription.canceledAt ??= now;
  subscription.endedAt = now;
  subscription.cancelAt = null;
  subscription.cancelAtPeriodEnd = false;
  subscription.cancellation.reason ??= reason;
  ctx.emit('customer.subscription.deleted', renderSubscription(ctx.store, subscription));
}

export function cancelSubscription(ctx: Ctx, id: string, params: Params): SubscriptionRecord {
  params.allow('cancellation_details', 'invoice_now', 'prorate');
  const { store } = ctx;
  const subscription = subscriptionOf(store, id);
  if (subscription.status === 'canceled') {
    throw invalidRequest(
      `This subscription has already been canceled (${id}).`,
      undefined,
      'resource_missing',
      404,
    );
  }
  const next = structuredClone(subscription);
  readCancellationDetails(params, next);
  const prorate = params.bool('prorate') ?? false;
  const invoiceImmediately = params.bool('invoice_now') ?? false;
  Object.assign(subscription, next);
  if (prorate) {
    const period = periodOf(ctx, subscription);
    const now = Math.min(Math.max(store.now(), period.start), period.end);
    const fraction = period.end > period.start ? (period.end - now) / (period.end - period.start) : 0;
    for (const itemId of subscription.items) {
      const item = store.subscriptionItems.get(itemId);
      if (!item) continue;
      const credit = prorationItem(
        ctx,
        subscription,
        item,
        priceOf(store, item.price),
        item.quantity,
        fraction,
        -1,
        now,
      );
      if (credit) {
        store.invoiceItems.set(credit.id, credit);
        ctx.emit('invoiceitem.created', renderInvoiceItem(credit));
      }
    }
  }
  cancelSubscriptionNow(ctx, subscription, 'cancellation_requested');
  if (invoiceImmediately) invoiceNow(ctx, subscription, 'subscription_update');
  return subscription;
}

/**
 * Bills the next period now, as a test clock advancing past the period end would: items move to the
 * next period, a `subscription_cycle` invoice with the pending items is finalized and collected, and a
 * failed collection makes the subscription `past_due`. A subscription set to cancel at period end is
 * canceled instead.
 */
export function renewSubscription(ctx: Ctx, id: string): InvoiceRecord | undefined {
  const { store } = ctx;
  const subscription = subscriptionOf(store, id);
  if (
    subscription.status === 'canceled' ||
    subscription.status === 'incomplete' ||
    subscription.status === 'incomplete_expired'
  ) {
    throw invalidRequest(`Subscription ${id} is ${subscription.status} and does not renew.`);
  }
  if (subscription.cancelAtPeriodEnd) {
    cancelSubscriptionNow(ctx, subscription, 'cancellation_requested');
    return undefined;
  }
  const before = renderSubscription(store, subscription);
  const previous = periodOf(ctx, subscription);
  const items = subscription.items.flatMap((itemId) => {
    const item = store.subscriptionItems.get(itemId);
    return item ? [item] : [];
  });
  for (const item of items) {
    const recurring = priceOf(store, item.price).recurring;
    item.periodStart = item.periodEnd;
    item.periodEnd = addInterval(
      item.periodEnd,
      recurring?.interval ?? 'month',
      recurring?.intervalCount ?? 1,
    );
  }
  ctx.emit('customer.subscription.updated', renderSubscription(store, subscription), before);
  const customer = customerOf(store, subscription.customer);
  const invoice = newInvoice(ctx, {
    customer,
    currency: subscription.currency,
    subscription: subscription.id,
    collectionMethod: subscription.collectionMethod,
    daysUntilDue: subscription.daysUntilDue,
    dueDate: null,
    billingReason: 'subscription_cycle',
    autoAdvance: true,
    description: null,
    metadata: {},
    defaultTaxRates: [],
    periodStart: previous.start,
    periodEnd: previous.end,
  });
  invoice.lines = items.map((item) => lineForItem(ctx, invoice, item));
  attachPendingItems(ctx, invoice, subscription.id);
  return issue(ctx, subscription, invoice);
}
