import { readCurrency, readUnitAmount } from './catalog';
import {
  type Ctx,
  checkCustomerCurrency,
  checkPaymentMethod,
  computeTaxes,
  customerOf,
  invoiceOf,
  priceOf,
  ratesFor,
  readTaxRates,
  subscriptionOf,
} from './context';
import { invalidRequest, missingParam, StripeApiError } from './errors';
import { applyMetadata, type Params } from './form';
import type { JsonObject } from './json';
import {
  invoiceAmounts,
  renderCharge,
  renderCustomer,
  renderInvoice,
  renderInvoiceItem,
  renderPaymentIntent,
  renderSubscription,
} from './render';
import { nextPaymentAttemptAfterFailure } from './retry-schedule';
import type { CustomerRecord, InvoiceItemRecord, InvoiceLineRecord, InvoiceRecord } from './store';

const COLLECTION_METHODS = ['charge_automatically', 'send_invoice'] as const;
const DAY = 86_400;

export function renderInvoiceFor(ctx: Ctx, invoice: InvoiceRecord): JsonObject {
  return renderInvoice(ctx.store, invoice);
}

/** The tax rates that apply to a line: its own, else the invoice's, else its subscription's defaults. */
function effectiveRates(ctx: Ctx, invoice: InvoiceRecord, line: InvoiceLineRecord): string[] {
  if (line.taxRates.length > 0) return line.taxRates;
  if (invoice.defaultTaxRates.length > 0) return invoice.defaultTaxRates;
  const subscription =
    invoice.subscription === null ? undefined : ctx.store.subscriptions.get(invoice.subscription);
  return subscription?.defaultTaxRates ?? [];
}

export function recomputeTaxes(ctx: Ctx, invoice: InvoiceRecord): void {
  for (const line of invoice.lines) {
    line.taxes = computeTaxes(line.amount, ratesFor(ctx.store, effectiveRates(ctx, invoice, line)));
  }
}

export function lineFromInvoiceItem(
  ctx: Ctx,
  invoice: InvoiceRecord,
  item: InvoiceItemRecord,
): InvoiceLineRecord {
  return {
    id: ctx.store.id('il_'),
    invoice: invoice.id,
    amount: item.amount,
    currency: item.currency,
    description: item.description,
    quantity: item.quantity,
    unitAmount: item.unitAmount,
    price: item.price,
    product: item.product,
    periodStart: item.periodStart,
    periodEnd: item.periodEnd,
    proration: item.proration,
    subscription: item.subscription,
    subscriptionItem: null,
    invoiceItem: item.id,
    metadata: { ...item.metadata },
    taxRates: [...item.taxRates],
    taxes: [],
  };
}

export interface NewInvoice {
  customer: CustomerRecord;
  currency: string;
  subscription: string | null;
  collectionMethod: InvoiceRecord['collectionMethod'];
  daysUntilDue: number | null;
  dueDate: number | null;
  billingReason: InvoiceRecord['billingReason'];
  autoAdvance: boolean;
  description: string | null;
  metadata: Record<string, string>;
  defaultTaxRates: string[];
  periodStart: number;
  periodEnd: number;
}

export function newInvoice(ctx: Ctx, fields: NewInvoice): InvoiceRecord {
  const { store } = ctx;
  const subscription =
    fields.subscription === null ? undefined : store.subscriptions.get(fields.subscription);
  return {
    id: store.id('in_'),
    seq: store.nextSeq(),
    created: store.now(),
    customer: fields.customer.id,
    subscription: fields.subscription,
    status: 'draft',
    number: null,
    currency: fields.currency,
    collectionMethod: fields.collectionMethod,
    daysUntilDue: fields.daysUntilDue,
    dueDate: fields.dueDate,
    billingReason: fields.billingReason,
    autoAdvance: fields.autoAdvance,
    description: fields.description,
    metadata: fields.metadata,
    defaultTaxRates: fields.defaultTaxRates,
    lines: [],
    periodStart: fields.periodStart,
    periodEnd: fields.periodEnd,
    amountPaid: 0,
    attemptCount: 0,
    attempted: false,
    prePaymentCreditNotesAmount: 0,
    postPaymentCreditNotesAmount: 0,
    startingBalance: fields.customer.balance,
    appliedBalance: 0,
    endingBalance: null,
    nextPaymentAttempt: null,
    finalizedAt: null,
    paidAt: null,
    voidedAt: null,
    markedUncollectibleAt: null,
    paidOutOfBand: false,
    payments: [],
    customerSnapshot: null,
    subscriptionMetadata: subscription ? { ...subscription.metadata } : null,
  };
}

/** Moves the customer's pending invoice items (for one subscription, or the one-off ones) onto a draft. */
export function attachPendingItems(ctx: Ctx, invoice: InvoiceRecord, subscription: string | null): void {
  for (const item of ctx.store.invoiceItems.values()) {
    if (
      item.invoice === null &&
      item.customer === invoice.customer &&
      item.currency === invoice.currency &&
      item.subscription === subscription
    ) {
      item.invoice = invoice.id;
      invoice.lines.push(lineFromInvoiceItem(ctx, invoice, item));
    }
  }
}

export function createInvoice(ctx: Ctx, params: Params): InvoiceRecord {
  params.allow(
    'auto_advance',
    'collection_method',
    'currency',
    'customer',
    'days_until_due',
    'default_payment_method',
    'default_tax_rates',
    'description',
    'due_date',
    'metadata',
    'pending_invoice_items_behavior',
    'subscription',
  );
  const { store } = ctx;
  const customer = customerOf(store, params.requiredString('customer'), 'customer');
  const collectionMethod = params.oneOf('collection_method', COLLECTION_METHODS) ?? 'charge_automatically';
  const daysUntilDue = params.int('days_until_due', { min: 0, max: 730 }) ?? null;
  const dueDate = params.int('due_date') ?? null;
  if (collectionMethod === 'send_invoice' && daysUntilDue === null && dueDate === null) {
    throw invalidRequest(
      'You must specify either `due_date` or `days_until_due` for invoices with `collection_method=send_invoice`.',
      'days_until_due',
    );
  }
  if (collectionMethod === 'charge_automatically' && (daysUntilDue !== null || dueDate !== null)) {
    throw invalidRequest(
      'Invoices with `collection_method=charge_automatically` cannot have `due_date` or `days_until_due`.',
      daysUntilDue !== null ? 'days_until_due' : 'due_date',
    );
  }
  const subscriptionId = params.string('subscription') ?? null;
  if (subscriptionId !== null) {
    const subscription = subscriptionOf(store, subscriptionId, 'subscription');
    if (subscription.customer !== customer.id) {
      throw invalidRequest(
        `The subscription ${subscriptionId} does not belong to customer ${customer.id}.`,
        'subscription',
      );
    }
  }
  const currency = params.has('currency') ? readCurrency(params) : (customer.currency ?? 'usd');
  checkCustomerCurrency(customer, currency, 'currency');
  const defaultPm = params.string('default_payment_method');
  if (defaultPm !== undefined) checkPaymentMethod(defaultPm, 'default_payment_method');
  const behavior =
    params.oneOf('pending_invoice_items_behavior', ['exclude', 'include'] as const) ?? 'exclude';
  const now = store.now();
  const invoice = newInvoice(ctx, {
    customer,
    currency,
    subscription: subscriptionId,
    collectionMethod,
    daysUntilDue,
    dueDate,
    billingReason: 'manual',
    // API-created invoices stay drafts until finalized explicitly unless auto_advance is asked for.
    autoAdvance: params.bool('auto_advance') ?? false,
    description: params.nullableString('description') ?? null,
    metadata: applyMetadata({}, params.metadata()),
    defaultTaxRates: readTaxRates(store, params.strings('default_tax_rates'), 'default_tax_rates') ?? [],
    periodStart: now,
    periodEnd: now,
  });
  if (behavior === 'include') attachPendingItems(ctx, invoice, subscriptionId);
  recomputeTaxes(ctx, invoice);
  store.invoices.set(invoice.id, invoice);
  ctx.emit('invoice.created', renderInvoiceFor(ctx, invoice));
  return invoice;
}

export function updateInvoice(ctx: Ctx, id: string, params: Params): InvoiceRecord {
  params.allow(
    'auto_advance',
    'collection_method',
    'days_until_due',
    'default_tax_rates',
    'description',
    'due_date',
    'metadata',
  );
  const invoice = invoiceOf(ctx.store, id);
  const draftOnly = ['collection_method', 'days_until_due', 'default_tax_rates', 'due_date'].filter((k) =>
    params.has(k),
  );
  if (invoice.status !== 'draft' && draftOnly.length > 0) {
    throw invalidRequest(
      `Finalized invoices can't be updated in this way (${draftOnly.join(', ')}).`,
      draftOnly[0],
      'invoice_not_editable',
    );
  }
  if (invoice.status === 'void')
    throw invalidRequest('Void invoices cannot be updated.', undefined, 'invoice_not_editable');
  const before = renderInvoiceFor(ctx, invoice);
  const next = structuredClone(invoice);
  const autoAdvance = params.bool('auto_advance');
  if (autoAdvance !== undefined) next.autoAdvance = autoAdvance;
  const description = params.nullableString('description');
  if (description !== undefined) next.description = description;
  const collection = params.oneOf('collection_method', COLLECTION_METHODS);
  if (collection !== undefined) next.collectionMethod = collection;
  const days = params.int('days_until_due', { min: 0, max: 730 });
  if (days !== undefined) next.daysUntilDue = days;
  const dueDate = params.int('due_date');
  if (dueDate !== undefined) next.dueDate = dueDate;
  const rates = readTaxRates(ctx.store, params.strings('default_tax_rates'), 'default_tax_rates');
  if (rates !== undefined) next.defaultTaxRates = rates;
  next.metadata = applyMetadata(next.metadata, params.metadata());
  Object.assign(invoice, next);
  recomputeTaxes(ctx, invoice);
  ctx.emit('invoice.updated', renderInvoiceFor(ctx, invoice), before);
  return invoice;
}

export function deleteInvoice(ctx: Ctx, id: string, params: Params): JsonObject {
  params.allow();
  const invoice = invoiceOf(ctx.store, id);
  if (invoice.status !== 'draft') {
    throw invalidRequest(
      'You can only delete draft invoices. Void a finalized invoice instead.',
      undefined,
      'invoice_not_editable',
    );
  }
  if (invoice.subscription !== null && invoice.billingReason !== 'manual') {
    throw invalidRequest('Invoices generated by a subscription cannot be deleted; void them instead.');
  }
  const last = renderInvoiceFor(ctx, invoice);
  for (const item of ctx.store.invoiceItems.values()) {
    if (item.invoice === id) item.invoice = null;
  }
  ctx.store.invoices.delete(id);
  ctx.emit('invoice.deleted', last);
  return { id, object: 'invoice', deleted: true };
}

/**
 * Finalizing numbers the invoice (`<customer prefix>-<sequence>`), freezes the customer details on it,
 * applies the customer's credit balance and, for an amount due of zero, marks it paid at once, as
 * Stripe does (https://docs.stripe.com/invoicing/integration/workflow-transitions).
 */
export function finalizeInvoice(ctx: Ctx, invoice: InvoiceRecord): void {
  const { store } = ctx;
  if (invoice.status !== 'draft') {
    throw invalidRequest(
      "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
      undefined,
      'invoice_not_editable',
    );
  }
  const customer = customerOf(store, invoice.customer);
  if (customer.deleted) throw invalidRequest('The customer of this invoice has been deleted.');
  const now = store.now();
  recomputeTaxes(ctx, invoice);
  const { total } = invoiceAmounts(invoice);

  invoice.status = 'open';
  invoice.number = `${customer.invoicePrefix}-${String(customer.nextInvoiceSequence).padStart(4, '0')}`;
  customer.nextInvoiceSequence += 1;
  // Stripe sends no customer.updated for the sequence moving on; it does when the balance is used.
  const customerBefore = renderCustomer(customer);
  if (customer.currency === null) customer.currency = invoice.currency;
  invoice.customerSnapshot = {
    email: customer.email,
    name: customer.name,
    phone: customer.phone,
    address: customer.address === null ? null : { ...customer.address },
  };
  invoice.finalizedAt = now;
  if (invoice.collectionMethod === 'send_invoice' && invoice.dueDate === null) {
    invoice.dueDate = now + (invoice.daysUntilDue ?? 30) * DAY;
  }
  // A negative balance is credit: it pays down the invoice; a positive one is owed and is added.
  const due = total - invoice.prePaymentCreditNotesAmount;
  invoice.startingBalance = customer.balance;
  invoice.appliedBalance =
    customer.balance < 0 ? -Math.min(-customer.balance, Math.max(0, due)) : customer.balance;
  // A negative total (prorated credit) goes to the customer's balance instead of being "due".
  const credit = Math.min(due, 0);
  customer.balance = customer.balance - invoice.appliedBalance + credit;
  invoice.endingBalance = customer.balance;
  invoice.nextPaymentAttempt =
    invoice.collectionMethod === 'charge_automatically' && invoice.autoAdvance ? now + 3600 : null;

  ctx.emit('invoice.finalized', renderInvoiceFor(ctx, invoice));
  ctx.emit('customer.updated', renderCustomer(customer), customerBefore);
  if (invoiceAmounts(invoice).amountDue === 0)
    markPaid(ctx, invoice, { outOfBand: false, paymentEvents: true });
}

export function markPaid(
  ctx: Ctx,
  invoice: InvoiceRecord,
  how: { outOfBand: boolean; paymentEvents: boolean },
): void {
  const { amountRemaining } = invoiceAmounts(invoice);
  invoice.amountPaid += amountRemaining;
  invoice.status = 'paid';
  invoice.paidAt = ctx.store.now();
  invoice.paidOutOfBand = how.outOfBand;
  invoice.nextPaymentAttempt = null;
  ctx.emit('invoice.paid', renderInvoiceFor(ctx, invoice));
  // `invoice.payment_succeeded` is about a payment; marking paid out of band is not one.
  if (how.paymentEvents) ctx.emit('invoice.payment_succeeded', renderInvoiceFor(ctx, invoice));
  setDelinquent(ctx, invoice.customer, false);
  syncSubscription(ctx, invoice);
}

function setDelinquent(ctx: Ctx, customerId: string, delinquent: boolean): void {
  const customer = ctx.store.customers.get(customerId);
  if (!customer || customer.delinquent === delinquent) return;
  const before = renderCustomer(customer);
  customer.delinquent = delinquent;
  ctx.emit('customer.updated', renderCustomer(customer), before);
}

/** A paid latest invoice makes an incomplete or past-due subscription active; a failed renewal, past due. */
function syncSubscription(ctx: Ctx, invoice: InvoiceRecord, failed = false): void {
  if (invoice.subscription === null) return;
  const subscription = ctx.store.subscriptions.get(invoice.subscription);
  if (!subscription || subscription.latestInvoice !== invoice.id) return;
  const before = renderSubscription(ctx.store, subscription);
  if (!failed && ['incomplete', 'past_due', 'unpaid'].includes(subscription.status))
    subscription.status = 'active';
  if (failed && subscription.status === 'active' && invoice.billingReason !== 'subscription_create') {
    subscription.status = 'past_due';
  }
  ctx.emit('customer.subscription.updated', renderSubscription(ctx.store, subscription), before);
}

/**
 * Stripe's test PaymentMethods (https://docs.stripe.com/testing#declined-payments): the decline tokens
 * fail with the documented codes; any other `pm_` succeeds.
 */
const DECLINES: Record<string, { code: string; declineCode: string; message: string }> = {
  pm_card_chargeDeclined: {
    code: 'card_declined',
    declineCode: 'generic_decline',
    message: 'Your card was declined.',
  },
  pm_card_chargeCustomerFail: {
    code: 'card_declined',
    declineCode: 'generic_decline',
    message: 'Your card was declined.',
  },
  pm_card_chargeDeclinedInsufficientFunds: {
    code: 'card_declined',
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  pm_card_chargeDeclinedFraudulent: {
    code: 'card_declined',
    declineCode: 'fraudulent',
    message: 'Your card was declined.',
  },
  pm_card_chargeDeclinedLostCard: {
    code: 'card_declined',
    declineCode: 'lost_card',
    message: 'Your card was declined.',
  },
  pm_card_chargeDeclinedExpiredCard: {
    code: 'expired_card',
    declineCode: 'expired_card',
    message: 'Your card has expired.',
  },
  pm_card_chargeDeclinedIncorrectCvc: {
    code: 'incorrect_cvc',
    declineCode: 'incorrect_cvc',
    message: "Your card's security code is incorrect.",
  },
  pm_card_chargeDeclinedProcessingError: {
    code: 'processing_error',
    declineCode: 'processing_error',
    message: 'An error occurred while processing your card. Try again in a little bit.',
  },
};

export const declineFor = (paymentMethod: string) => DECLINES[paymentMethod];

export function paymentMethodFor(ctx: Ctx, invoice: InvoiceRecord, explicit?: string): string | null {
  if (explicit !== undefined) return explicit;
  const subscription =
    invoice.subscription === null ? undefined : ctx.store.subscriptions.get(invoice.subscription);
  return (
    subscription?.defaultPaymentMethod ??
    ctx.store.customers.get(invoice.customer)?.defaultPaymentMethod ??
    null
  );
}

export const noPaymentMethod = (): StripeApiError =>
  invalidRequest(
    'This customer has no attached payment source or default payment method. Please consider adding a default payment method.',
    'payment_method',
  );

/**
 * One collection attempt: a PaymentIntent and its Charge, then the invoice paid or its attempt recorded
 * as failed. Returns the card error Stripe answers a synchronous `pay` with when it fails.
 */
export function attemptPayment(
  ctx: Ctx,
  invoice: InvoiceRecord,
  paymentMethod: string,
): StripeApiError | undefined {
  const { store } = ctx;
  const now = store.now();
  const amount = invoiceAmounts(invoice).amountRemaining;
  const decline = declineFor(paymentMethod);
  const description = invoice.subscription === null ? 'Payment for Invoice' : 'Subscription creation';
  const chargeId = store.id('ch_');
  const intent = {
    id: store.id('pi_'),
    seq: store.nextSeq(),
    created: now,
    customer: invoice.customer,
    amount,
    currency: invoice.currency,
    paymentMethod: decline ? null : paymentMethod,
    status: decline ? ('requires_payment_method' as const) : ('succeeded' as const),
    latestCharge: chargeId,
    description,
    lastError: decline ?? null,
  };
  const charge = {
    id: chargeId,
    seq: store.nextSeq(),
    created: now,
    customer: invoice.customer,
    amount,
    currency: invoice.currency,
    paymentIntent: intent.id,
    paymentMethod,
    paid: !decline,
    failure: decline ?? null,
    description,
    amountRefunded: 0,
  };
  const payment = {
    id: store.id('inpay_'),
    seq: store.nextSeq(),
    created: now,
    invoice: invoice.id,
    paymentIntent: intent.id,
    amount,
    currency: invoice.currency,
    status: decline ? ('open' as const) : ('paid' as const),
    paidAt: decline ? null : now,
  };
  store.paymentIntents.set(intent.id, intent);
  store.charges.set(charge.id, charge);
  store.payments.set(payment.id, payment);
  invoice.payments.push(payment.id);
  invoice.attempted = true;
  invoice.attemptCount += 1;

  if (!decline) {
    ctx.emit('charge.succeeded', renderCharge(charge));
    ctx.emit('payment_intent.succeeded', renderPaymentIntent(intent));
    markPaid(ctx, invoice, { outOfBand: false, paymentEvents: true });
    return undefined;
  }
  invoice.nextPaymentAttempt = nextPaymentAttemptAfterFailure(invoice, now);
  ctx.emit('charge.failed', renderCharge(charge));
  ctx.emit('payment_intent.payment_failed', renderPaymentIntent(intent));
  ctx.emit('invoice.payment_failed', renderInvoiceFor(ctx, invoice));
  setDelinquent(ctx, invoice.customer, true);
  syncSubscription(ctx, invoice, true);
  return new StripeApiError({
    status: 402,
    type: 'card_error',
    code: decline.code,
    declineCode: decline.declineCode,
    message: decline.message,
    extra: { charge: charge.id, payment_intent: renderPaymentIntent(intent) },
    // The attempt happened: an idempotent retry must replay this failure, not charge again.
    saved: true,
  });
}

/** Automatic collection with nothing to charge fails like a decline does, minus the charge. */
export function recordMissingPaymentMethod(ctx: Ctx, invoice: InvoiceRecord): void {
  invoice.attempted = true;
  invoice.attemptCount += 1;
  invoice.nextPaymentAttempt = nextPaymentAttemptAfterFailure(invoice, ctx.store.now());
  ctx.emit('invoice.payment_failed', renderInvoiceFor(ctx, invoice));
  setDelinquent(ctx, invoice.customer, true);
  syncSubscription(ctx, invoice, true);
}

export function payInvoice(ctx: Ctx, id: string, params: Params): InvoiceRecord {
  params.allow('forgive', 'mandate', 'off_session', 'paid_out_of_band', 'payment_method');
  const invoice = invoiceOf(ctx.store, id);
  if (invoice.status === 'paid')
    throw invalidRequest('Invoice is already paid', undefined, 'invoice_already_paid');
  if (invoice.status === 'void')
    throw invalidRequest('You cannot pay a void invoice.', undefined, 'invoice_not_editable');
  const outOfBand = params.bool('paid_out_of_band') ?? false;
  const explicit = params.string('payment_method');
  if (explicit !== undefined) checkPaymentMethod(explicit, 'payment_method');
  const paymentMethod = outOfBand ? null : paymentMethodFor(ctx, invoice, explicit);
  if (!outOfBand && paymentMethod === null && invoice.status !== 'draft') throw noPaymentMethod();
  if (invoice.status === 'draft') finalizeInvoice(ctx, invoice);
  if (invoice.status !== 'open' && invoice.status !== 'uncollectible') return invoice;
  if (outOfBand) {
    markPaid(ctx, invoice, { outOfBand: true, paymentEvents: false });
    return invoice;
  }
  if (paymentMethod === null) throw noPaymentMethod();
  const error = attemptPayment(ctx, invoice, paymentMethod);
  if (error) throw error;
  return invoice;
}

export function voidInvoice(ctx: Ctx, id: string, params: Params): InvoiceRecord {
  params.allow();
  const invoice = invoiceOf(ctx.store, id);
  if (invoice.status !== 'open' && invoice.status !== 'uncollectible') {
    throw invalidRequest(
      `You can only void an open or uncollectible invoice; this one is ${invoice.status}.`,
      undefined,
      'invoice_not_editable',
    );
  }
  invoice.status = 'void';
  invoice.voidedAt = ctx.store.now();
  invoice.nextPaymentAttempt = null;
  ctx.emit('invoice.voided', renderInvoiceFor(ctx, invoice));
  return invoice;
}

export function markUncollectible(ctx: Ctx, id: string, params: Params): InvoiceRecord {
  params.allow();
  const invoice = invoiceOf(ctx.store, id);
  if (invoice.status !== 'open') {
    throw invalidRequest(
      'You can only mark an open invoice as uncollectible.',
      undefined,
      'invoice_not_editable',
    );
  }
  invoice.status = 'uncollectible';
  invoice.markedUncollectibleAt = ctx.store.now();
  invoice.nextPaymentAttempt = null;
  ctx.emit('invoice.marked_uncollectible', renderInvoiceFor(ctx, invoice));
  setDelinquent(ctx, invoice.customer, false);
  return invoice;
}

export function createInvoiceItem(ctx: Ctx, params: Params): InvoiceItemRecord {
  params.allow(
    'amount',
    'currency',
    'customer',
    'description',
    'invoice',
    'metadata',
    'period',
    'price',
    'quantity',
    'subscription',
    'tax_rates',
    'unit_amount_decimal',
  );
  const { store } = ctx;
  const customer = customerOf(store, params.requiredString('customer'), 'customer');
  const quantity = params.int('quantity', { min: 0 }) ?? 1;
  const priceId = params.string('price');
  let unitAmount: number;
  let currency: string;
  let product: string | null = null;
  let description = params.string('description');
  if (priceId !== undefined) {
    if (params.has('amount') || params.has('unit_amount_decimal')) {
      throw invalidRequest(
        'You may only specify one of these parameters: amount, price, unit_amount_decimal.',
        'price',
      );
    }
    const price = priceOf(store, priceId, 'price');
    unitAmount = price.unitAmount;
    currency = price.currency;
    product = price.product;
    description ??= store.products.get(price.product)?.name;
  } else {
    currency = readCurrency(params);
    const amount = params.int('amount');
    if (amount !== undefined) {
      if (quantity !== 1)
        throw invalidRequest('`amount` is the total; use unit_amount_decimal with quantity.', 'quantity');
      unitAmount = amount;
    } else {
      unitAmount = readUnitAmount(params);
    }
  }
  checkCustomerCurrency(customer, currency, priceId === undefined ? 'currency' : 'price');
  const invoiceId = params.string('invoice');
  const invoice = invoiceId === undefined ? undefined : invoiceOf(store, invoiceId, 'invoice');
  if (invoice !== undefined) {
    if (invoice.status !== 'draft')
      throw invalidRequest(
        'You can only add invoice items to draft invoices.',
        'invoice',
        'invoice_not_editable',
      );
    if (invoice.customer !== customer.id)
      throw invalidRequest('The invoice belongs to another customer.', 'invoice');
    if (invoice.currency !== currency)
      throw invalidRequest(`The invoice currency is ${invoice.currency}.`, 'currency');
  }
  const subscriptionId = params.string('subscription') ?? null;
  if (subscriptionId !== null) subscriptionOf(store, subscriptionId, 'subscription');
  const now = store.now();
  const period = params.object('period');
  period?.allow('end', 'start');
  const periodStart = period?.int('start') ?? now;
  const periodEnd = period?.int('end') ?? now;
  if (period !== undefined && (!period.has('start') || !period.has('end')))
    throw missingParam(period.name(period.has('start') ? 'end' : 'start'));
  const item: InvoiceItemRecord = {
    id: store.id('ii_'),
    seq: store.nextSeq(),
    created: now,
    customer: customer.id,
    invoice: invoice?.id ?? null,
    amount: unitAmount * quantity,
    unitAmount,
    quantity,
    currency,
    description: description ?? 'Invoice item',
    price: priceId ?? null,
    product,
    periodStart,
    periodEnd,
    proration: false,
    subscription: subscriptionId,
    subscriptionItem: null,
    taxRates: readTaxRates(store, params.strings('tax_rates'), 'tax_rates') ?? [],
    metadata: applyMetadata({}, params.metadata()),
  };
  store.invoiceItems.set(item.id, item);
  // The first invoice item fixes the customer's currency, as a subscription would.
  if (customer.currency === null) customer.currency = currency;
  if (invoice !== undefined) {
    const before = renderInvoiceFor(ctx, invoice);
    invoice.lines.push(lineFromInvoiceItem(ctx, invoice, item));
    recomputeTaxes(ctx, invoice);
    ctx.emit('invoiceitem.created', renderInvoiceItem(item));
    ctx.emit('invoice.updated', renderInvoiceFor(ctx, invoice), before);
  } else {
    ctx.emit('invoiceitem.created', renderInvoiceItem(item));
  }
  return item;
}
