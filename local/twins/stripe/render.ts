import type { Json, JsonObject } from './json';
import type {
  Address,
  ChargeRecord,
  CreditNoteLineRecord,
  CreditNoteRecord,
  CustomerRecord,
  EventRecord,
  InvoiceItemRecord,
  InvoiceLineRecord,
  InvoiceRecord,
  PaymentIntentRecord,
  PaymentRecord,
  PriceRecord,
  ProductRecord,
  Store,
  SubscriptionItemRecord,
  SubscriptionRecord,
  TaxAmount,
  TaxRateRecord,
  WebhookEndpointRecord,
} from './store';

/**
 * Records to Stripe's wire shapes. Every resource carries every key of its sample in Stripe's
 * fixtures3.json (checked by test/local/twins/stripe-contract.test.ts); fields the twin does not model
 * hold what Stripe returns when the feature is unused (`null`, `[]`, `{ enabled: false }`).
 */

export const ACCOUNT = {
  id: 'acct_1RevBridgeLocal0',
  country: 'US',
  name: 'RevBridge (Stripe twin)',
} as const;

/** Embedded lists (invoice lines, credit note lines) show the first page; the rest via their `url`. */
const EMBEDDED_LIST_LIMIT = 10;

export function list(data: Json[], url: string, hasMore = false): JsonObject {
  return { object: 'list', data, has_more: hasMore, url };
}

const address = (a: Address | null): Json => (a === null ? null : { ...a });

export function renderCustomer(c: CustomerRecord): JsonObject {
  if (c.deleted) return { id: c.id, object: 'customer', deleted: true };
  return {
    id: c.id,
    object: 'customer',
    address: address(c.address),
    balance: c.balance,
    created: c.created,
    currency: c.currency,
    customer_account: null,
    default_source: null,
    delinquent: c.delinquent,
    description: c.description,
    discount: null,
    email: c.email,
    invoice_prefix: c.invoicePrefix,
    invoice_settings: {
      custom_fields: null,
      default_payment_method: c.defaultPaymentMethod,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: { ...c.metadata },
    name: c.name,
    next_invoice_sequence: c.nextInvoiceSequence,
    phone: c.phone,
    preferred_locales: [...c.preferredLocales],
    shipping: c.shipping === null ? null : { ...c.shipping, address: { ...c.shipping.address } },
    tax_exempt: c.taxExempt,
    test_clock: null,
  };
}

export function renderProduct(p: ProductRecord): JsonObject {
  return {
    id: p.id,
    object: 'product',
    active: p.active,
    created: p.created,
    default_price: p.defaultPrice,
    description: p.description,
    images: [...p.images],
    livemode: false,
    marketing_features: [],
    metadata: { ...p.metadata },
    name: p.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: p.statementDescriptor,
    tax_code: p.taxCode,
    type: 'service',
    unit_label: p.unitLabel,
    updated: p.updated,
    url: p.url,
  };
}

export function renderPrice(p: PriceRecord): JsonObject {
  return {
    id: p.id,
    object: 'price',
    active: p.active,
    billing_scheme: 'per_unit',
    created: p.created,
    currency: p.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: p.lookupKey,
    metadata: { ...p.metadata },
    nickname: p.nickname,
    product: p.product,
    recurring:
      p.recurring === null
        ? null
        : {
            interval: p.recurring.interval,
            interval_count: p.recurring.intervalCount,
            meter: null,
            trial_period_days: null,
            usage_type: 'licensed',
          },
    tax_behavior: p.taxBehavior,
    tiers_mode: null,
    transform_quantity: null,
    type: p.recurring === null ? 'one_time' : 'recurring',
    unit_amount: p.unitAmount,
    unit_amount_decimal: String(p.unitAmount),
  };
}

/** Subscription items still carry the legacy `plan`, Stripe's older view of the same recurring price. */
function renderPlan(p: PriceRecord): JsonObject {
  return {
    id: p.id,
    object: 'plan',
    active: p.active,
    amount: p.unitAmount,
    amount_decimal: String(p.unitAmount),
    billing_scheme: 'per_unit',
    created: p.created,
    currency: p.currency,
    interval: p.recurring?.interval ?? 'month',
    interval_count: p.recurring?.intervalCount ?? 1,
    livemode: false,
    metadata: { ...p.metadata },
    meter: null,
    nickname: p.nickname,
    product: p.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: 'licensed',
  };
}

export function renderTaxRate(t: TaxRateRecord): JsonObject {
  return {
    id: t.id,
    object: 'tax_rate',
    active: t.active,
    country: t.country,
    created: t.created,
    description: t.description,
    display_name: t.displayName,
    effective_percentage: t.percentage,
    flat_amount: null,
    inclusive: t.inclusive,
    jurisdiction: t.jurisdiction,
    jurisdiction_level: null,
    livemode: false,
    metadata: { ...t.metadata },
    percentage: t.percentage,
    rate_type: 'percentage',
    state: t.state,
    tax_type: t.taxType,
  };
}

const taxRates = (store: Store, ids: readonly string[]): Json[] =>
  ids.flatMap((id) => {
    const rate = store.taxRates.get(id);
    return rate ? [renderTaxRate(rate)] : [];
  });

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`twin state is inconsistent: ${what} is missing`);
  return value;
}

export function renderSubscriptionItem(store: Store, item: SubscriptionItemRecord): JsonObject {
  if (item.deleted) return { id: item.id, object: 'subscription_item', deleted: true };
  const price = must(store.prices.get(item.price), item.price);
  return {
    id: item.id,
    object: 'subscription_item',
    billing_thresholds: null,
    created: item.created,
    current_period_end: item.periodEnd,
    current_period_start: item.periodStart,
    current_trial: null,
    discounts: [],
    metadata: { ...item.metadata },
    plan: renderPlan(price),
    price: renderPrice(price),
    quantity: item.quantity,
    subscription: item.subscription,
    tax_rates: taxRates(store, item.taxRates),
  };
}

export function renderSubscription(store: Store, s: SubscriptionRecord): JsonObject {
  const items = s.items.map((id) => renderSubscriptionItem(store, must(store.subscriptionItems.get(id), id)));
  return {
    id: s.id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: s.billingCycleAnchor,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: 'classic' },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: s.cancelAt,
    cancel_at_period_end: s.cancelAtPeriodEnd,
    canceled_at: s.canceledAt,
    cancellation_details: { ...s.cancellation, feedback_option: null },
    collection_method: s.collectionMethod,
    created: s.created,
    currency: s.currency,
    customer: s.customer,
    customer_account: null,
    days_until_due: s.daysUntilDue,
    default_payment_method: s.defaultPaymentMethod,
    default_source: null,
    default_tax_rates: taxRates(store, s.defaultTaxRates),
    description: s.description,
    discounts: [],
    ended_at: s.endedAt,
    invoice_settings: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: { type: 'self' },
    },
    items: list(items, `/v1/subscription_items?subscription=${s.id}`),
    latest_invoice: s.latestInvoice,
    livemode: false,
    managed_payments: { enabled: false },
    metadata: { ...s.metadata },
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: 'off',
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: s.startDate,
    status: s.status,
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { missing_payment_method: 'create_invoice' } },
    trial_start: null,
  };
}

function renderTaxes(taxes: readonly TaxAmount[]): Json[] {
  return taxes.map((t) => ({
    amount: t.amount,
    tax_behavior: t.inclusive ? 'inclusive' : 'exclusive',
    tax_rate_details: { tax_rate: t.taxRate },
    taxability_reason: 'standard_rated',
    taxable_amount: t.taxableAmount,
    type: 'tax_rate_details',
  }));
}

/** Sums taxes per rate, as `total_taxes` reports them. */
function totalTaxes(taxes: readonly TaxAmount[]): TaxAmount[] {
  const byRate = new Map<string, TaxAmount>();
  for (const t of taxes) {
    const sum = byRate.get(t.taxRate);
    if (sum) {
      sum.amount += t.amount;
      sum.taxableAmount += t.taxableAmount;
    } else {
      byRate.set(t.taxRate, { ...t });
    }
  }
  return [...byRate.values()];
}

export function renderInvoiceLine(line: InvoiceLineRecord): JsonObject {
  return {
    id: line.id,
    object: 'line_item',
    amount: line.amount,
    currency: line.currency,
    description: line.description,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: line.invoice,
    livemode: false,
    metadata: { ...line.metadata },
    parent:
      line.subscriptionItem !== null
        ? {
            invoice_item_details: null,
            subscription_item_details: {
              invoice_item: line.invoiceItem,
              proration: line.proration,
              proration_details: { credited_items: null },
              subscription: line.subscription,
              subscription_item: line.subscriptionItem,
            },
            type: 'subscription_item_details',
          }
        : {
            invoice_item_details: {
              invoice_item: line.invoiceItem ?? '',
              proration: line.proration,
              proration_details: { credited_items: null },
              subscription: line.subscription,
            },
            subscription_item_details: null,
            type: 'invoice_item_details',
          },
    period: { end: line.periodEnd, start: line.periodStart },
    pretax_credit_amounts: [],
    pricing: {
      ...(line.price === null || line.product === null
        ? {}
        : { price_details: { price: line.price, product: line.product } }),
      type: 'price_details',
      unit_amount_decimal: String(line.unitAmount),
    },
    quantity: line.quantity,
    quantity_decimal: String(line.quantity),
    subscription: line.subscription,
    subtotal: line.amount,
    taxes: renderTaxes(line.taxes),
  };
}

export interface InvoiceAmounts {
  subtotal: number;
  inclusiveTax: number;
  exclusiveTax: number;
  total: number;
  amountDue: number;
  amountRemaining: number;
}

/**
 * Stripe's invoice arithmetic (https://docs.stripe.com/api/invoices/object): `subtotal` is the sum of the
 * lines (inclusive taxes inside it), `total` adds exclusive taxes, `amount_due` takes off pre-payment
 * credit notes and any customer balance applied at finalization.
 */
export function invoiceAmounts(inv: InvoiceRecord): InvoiceAmounts {
  let subtotal = 0;
  let inclusiveTax = 0;
  let exclusiveTax = 0;
  for (const line of inv.lines) {
    subtotal += line.amount;
    for (const tax of line.taxes) {
      if (tax.inclusive) inclusiveTax += tax.amount;
      else exclusiveTax += tax.amount;
    }
  }
  const total = subtotal + exclusiveTax;
  const amountDue = Math.max(0, total - inv.prePaymentCreditNotesAmount + inv.appliedBalance);
  const amountRemaining = inv.status === 'void' ? 0 : Math.max(0, amountDue - inv.amountPaid);
  return { subtotal, inclusiveTax, exclusiveTax, total, amountDue, amountRemaining };
}

const hostedUrl = (inv: InvoiceRecord): string => `https://invoice.stripe.com/i/${ACCOUNT.id}/test_${inv.id}`;

export function renderInvoice(
  store: Store,
  inv: InvoiceRecord,
  options: { payments?: boolean } = {},
): JsonObject {
  const amounts = invoiceAmounts(inv);
  const draft = inv.status === 'draft';
  const snapshot = inv.customerSnapshot;
  const customer = store.customers.get(inv.customer);
  const details = snapshot ?? {
    email: customer?.email ?? null,
    name: customer?.name ?? null,
    phone: customer?.phone ?? null,
    address: customer?.address ?? null,
  };
  const taxes = inv.lines.flatMap((l) => l.taxes);
  const body: JsonObject = {
    id: inv.id,
    object: 'invoice',
    account_country: ACCOUNT.country,
    account_name: ACCOUNT.name,
    account_tax_ids: null,
    amount_due: amounts.amountDue,
    amount_overpaid: 0,
    amount_paid: inv.amountPaid,
    amount_remaining: amounts.amountRemaining,
    amount_shipping: 0,
    application: null,
    attempt_count: inv.attemptCount,
    attempted: inv.attempted,
    auto_advance: inv.autoAdvance,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: inv.billingReason,
    collection_method: inv.collectionMethod,
    created: inv.created,
    currency: inv.currency,
    custom_fields: null,
    customer: inv.customer,
    customer_account: null,
    customer_address: address(details.address),
    customer_email: details.email,
    customer_name: details.name,
    customer_phone: details.phone,
    customer_shipping: null,
    customer_tax_exempt: customer?.taxExempt ?? 'none',
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: taxRates(store, inv.defaultTaxRates),
    description: inv.description,
    discounts: [],
    due_date: inv.dueDate,
    effective_at: inv.finalizedAt,
    ending_balance: inv.endingBalance,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: draft ? null : hostedUrl(inv),
    invoice_pdf: draft ? null : `${hostedUrl(inv)}/pdf`,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: list(
      inv.lines.slice(0, EMBEDDED_LIST_LIMIT).map(renderInvoiceLine),
      `/v1/invoices/${inv.id}/lines`,
      inv.lines.length > EMBEDDED_LIST_LIMIT,
    ),
    livemode: false,
    metadata: { ...inv.metadata },
    next_payment_attempt: inv.nextPaymentAttempt,
    number: inv.number,
    on_behalf_of: null,
    parent:
      inv.subscription === null
        ? null
        : {
            quote_details: null,
            subscription_details: {
              metadata: inv.subscriptionMetadata === null ? null : { ...inv.subscriptionMetadata },
              subscription: inv.subscription,
            },
            type: 'subscription_details',
          },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: inv.periodEnd,
    period_start: inv.periodStart,
    post_payment_credit_notes_amount: inv.postPaymentCreditNotesAmount,
    pre_payment_credit_notes_amount: inv.prePaymentCreditNotesAmount,
    receipt_number: null,
    rendering: {
      amount_tax_display: null,
      pdf: { page_size: 'auto' },
      template: null,
      template_version: null,
    },
    shipping_cost: null,
    shipping_details: null,
    starting_balance: inv.startingBalance,
    statement_descriptor: null,
    status: inv.status,
    status_transitions: {
      finalized_at: inv.finalizedAt,
      marked_uncollectible_at: inv.markedUncollectibleAt,
      paid_at: inv.paidAt,
      voided_at: inv.voidedAt,
    },
    // Moved to `parent.subscription_details.subscription` in 2025-03-31.basil; kept (null) because
    // Stripe's own fixtures, which its mock server serves, still carry the key.
    subscription: null,
    subtotal: amounts.subtotal,
    subtotal_excluding_tax: amounts.subtotal - amounts.inclusiveTax,
    test_clock: null,
    total: amounts.total,
    total_discount_amounts: [],
    total_excluding_tax: amounts.subtotal - amounts.inclusiveTax,
    total_pretax_credit_amounts: [],
    total_taxes: renderTaxes(totalTaxes(taxes)),
    webhooks_delivered_at: inv.created,
  };
  // `payments` is includable only: Stripe returns it when `expand[]=payments` asks for it.
  if (options.payments) {
    const payments = inv.payments.map((id) => renderInvoicePayment(must(store.payments.get(id), id)));
    body.payments = list(payments, `/v1/invoice_payments?invoice=${inv.id}`);
  }
  return body;
}

export function renderInvoicePayment(p: PaymentRecord): JsonObject {
  return {
    id: p.id,
    object: 'invoice_payment',
    amount_paid: p.status === 'paid' ? p.amount : null,
    amount_requested: p.amount,
    created: p.created,
    currency: p.currency,
    invoice: p.invoice,
    is_default: true,
    livemode: false,
    payment: { payment_intent: p.paymentIntent, type: 'payment_intent' },
    status: p.status,
    status_transitions: { canceled_at: null, paid_at: p.paidAt },
  };
}

export function renderInvoiceItem(ii: InvoiceItemRecord): JsonObject {
  return {
    id: ii.id,
    object: 'invoiceitem',
    amount: ii.amount,
    currency: ii.currency,
    customer: ii.customer,
    customer_account: null,
    date: ii.created,
    description: ii.description,
    discountable: true,
    discounts: [],
    invoice: ii.invoice,
    livemode: false,
    metadata: { ...ii.metadata },
    net_amount: ii.amount,
    parent:
      ii.subscription === null
        ? null
        : { subscription_details: { subscription: ii.subscription }, type: 'subscription_details' },
    period: { end: ii.periodEnd, start: ii.periodStart },
    pricing: {
      ...(ii.price === null || ii.product === null
        ? {}
        : { price_details: { price: ii.price, product: ii.product } }),
      type: 'price_details',
      unit_amount_decimal: String(ii.unitAmount),
    },
    proration: ii.proration,
    quantity: ii.quantity,
    quantity_decimal: String(ii.quantity),
    tax_rates: [],
    test_clock: null,
  };
}

export function renderCreditNoteLine(store: Store, line: CreditNoteLineRecord): JsonObject {
  return {
    id: line.id,
    object: 'credit_note_line_item',
    amount: line.amount,
    description: line.description,
    discount_amount: 0,
    discount_amounts: [],
    ...(line.invoiceLineItem === null ? {} : { invoice_line_item: line.invoiceLineItem }),
    livemode: false,
    metadata: line.metadata === null ? null : { ...line.metadata },
    pretax_credit_amounts: [],
    quantity: line.quantity,
    tax_rates: taxRates(store, line.taxRates),
    taxes: renderTaxes(line.taxes),
    type: line.type,
    unit_amount: line.unitAmount,
    unit_amount_decimal: line.unitAmount === null ? null : String(line.unitAmount),
  };
}

export function renderCreditNote(store: Store, cn: CreditNoteRecord): JsonObject {
  const taxes = cn.lines.flatMap((l) => l.taxes);
  const inclusiveTax = taxes.filter((t) => t.inclusive).reduce((sum, t) => sum + t.amount, 0);
  const total = cn.subtotal + cn.exclusiveTax;
  return {
    id: cn.id,
    object: 'credit_note',
    amount: total,
    amount_shipping: 0,
    created: cn.created,
    currency: cn.currency,
    customer: cn.customer,
    customer_account: null,
    customer_balance_transaction: null,
    discount_amount: 0,
    discount_amounts: [],
    effective_at: cn.created,
    invoice: cn.invoice,
    lines: list(
      cn.lines.slice(0, EMBEDDED_LIST_LIMIT).map((l) => renderCreditNoteLine(store, l)),
      `/v1/credit_notes/${cn.id}/lines`,
      cn.lines.length > EMBEDDED_LIST_LIMIT,
    ),
    livemode: false,
    memo: cn.memo,
    metadata: { ...cn.metadata },
    number: cn.number,
    out_of_band_amount: cn.outOfBandAmount,
    pdf: `https://pay.stripe.com/credit_notes/${ACCOUNT.id}/test_${cn.id}/pdf`,
    post_payment_amount: cn.postPaymentAmount,
    pre_payment_amount: cn.prePaymentAmount,
    pretax_credit_amounts: [],
    reason: cn.reason,
    refunds:
      cn.refund === null
        ? []
        : [
            {
              amount_refunded: cn.refundAmount,
              payment_record_refund: null,
              refund: cn.refund,
              type: 'refund',
            },
          ],
    shipping_cost: null,
    status: cn.status,
    subtotal: cn.subtotal,
    subtotal_excluding_tax: cn.subtotal - inclusiveTax,
    total,
    total_excluding_tax: cn.subtotal - inclusiveTax,
    total_taxes: renderTaxes(totalTaxes(taxes)),
    type: cn.type,
    voided_at: cn.voidedAt,
  };
}

export function renderEvent(e: EventRecord, apiVersion: string): JsonObject {
  return {
    id: e.id,
    object: 'event',
    api_version: apiVersion,
    created: e.created,
    data:
      e.previousAttributes === null
        ? { object: e.object }
        : { object: e.object, previous_attributes: e.previousAttributes },
    livemode: false,
    pending_webhooks: e.pendingWebhooks,
    request: { ...e.request },
    type: e.type,
  };
}

export function renderWebhookEndpoint(w: WebhookEndpointRecord, withSecret = false): JsonObject {
  return {
    id: w.id,
    object: 'webhook_endpoint',
    api_version: w.apiVersion,
    application: null,
    created: w.created,
    description: w.description,
    enabled_events: [...w.enabledEvents],
    livemode: false,
    metadata: { ...w.metadata },
    // Stripe shows the signing secret only in the create response.
    ...(withSecret ? { secret: w.secret } : {}),
    status: w.status,
    url: w.url,
  };
}

/** Card details for Stripe's test payment methods (https://docs.stripe.com/testing#cards). */
export function testCard(paymentMethod: string): { brand: string; last4: string; funding: string } {
  if (paymentMethod.includes('mastercard')) return { brand: 'mastercard', last4: '4444', funding: 'credit' };
  if (paymentMethod.includes('amex')) return { brand: 'amex', last4: '8431', funding: 'credit' };
  if (paymentMethod.includes('InsufficientFunds')) return { brand: 'visa', last4: '9995', funding: 'credit' };
  if (paymentMethod.includes('ExpiredCard')) return { brand: 'visa', last4: '0069', funding: 'credit' };
  if (paymentMethod.includes('Declined') || paymentMethod.includes('Fail')) {
    return { brand: 'visa', last4: '0002', funding: 'credit' };
  }
  return { brand: 'visa', last4: '4242', funding: 'credit' };
}

export function renderPaymentIntent(pi: PaymentIntentRecord): JsonObject {
  return {
    id: pi.id,
    object: 'payment_intent',
    amount: pi.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: pi.status === 'succeeded' ? pi.amount : 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic',
    client_secret: `${pi.id}_secret_twin`,
    confirmation_method: 'automatic',
    created: pi.created,
    currency: pi.currency,
    customer: pi.customer,
    customer_account: null,
    description: pi.description,
    excluded_payment_method_types: null,
    last_payment_error:
      pi.lastError === null
        ? null
        : {
            code: pi.lastError.code,
            decline_code: pi.lastError.declineCode,
            message: pi.lastError.message,
            type: 'card_error',
          },
    latest_charge: pi.latestCharge,
    livemode: false,
    managed_payments: { enabled: false },
    metadata: {},
    next_action: null,
    on_behalf_of: null,
    payment_method: pi.paymentMethod,
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ['card'],
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: pi.status,
    transfer_data: null,
    transfer_group: null,
  };
}

export function renderCharge(ch: ChargeRecord): JsonObject {
  const card = testCard(ch.paymentMethod);
  const failed = ch.failure !== null;
  return {
    id: ch.id,
    object: 'charge',
    amount: ch.amount,
    amount_captured: ch.paid ? ch.amount : 0,
    amount_refunded: ch.amountRefunded,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: {
      address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
      email: null,
      name: null,
      phone: null,
      tax_id: null,
    },
    calculated_statement_descriptor: 'REVBRIDGE',
    captured: ch.paid,
    created: ch.created,
    currency: ch.currency,
    customer: ch.customer,
    description: ch.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: ch.failure?.code ?? null,
    failure_message: ch.failure?.message ?? null,
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: failed ? 'declined_by_network' : 'approved_by_network',
      reason: ch.failure?.declineCode ?? null,
      risk_level: 'normal',
      seller_message: failed
        ? 'The bank did not return any further details with this decline.'
        : 'Payment complete.',
      type: failed ? 'issuer_declined' : 'authorized',
    },
    paid: ch.paid,
    payment_intent: ch.paymentIntent,
    payment_method: ch.paymentMethod,
    payment_method_details: {
      card: {
        amount_authorized: failed ? null : ch.amount,
        authorization_code: null,
        brand: card.brand,
        checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
        country: 'US',
        exp_month: 12,
        exp_year: 2034,
        extended_authorization: { status: 'disabled' },
        fingerprint: `twin${card.last4}${card.brand}`,
        funding: card.funding,
        incremental_authorization: { status: 'unavailable' },
        installments: null,
        last4: card.last4,
        mandate: null,
        multicapture: { status: 'unavailable' },
        network: card.brand,
        network_token: { used: false },
        network_transaction_id: failed ? null : `twin${ch.id.slice(3, 18)}`,
        overcapture: { maximum_amount_capturable: ch.amount, status: 'unavailable' },
        regulated_status: 'unregulated',
        three_d_secure: null,
        transaction_link_id: null,
        wallet: null,
      },
      type: 'card',
    },
    receipt_email: null,
    receipt_number: null,
    receipt_url: failed ? null : `https://pay.stripe.com/receipts/payment/${ACCOUNT.id}/test_${ch.id}`,
    refunded: ch.amountRefunded >= ch.amount && ch.amount > 0,
    refunds: list([], `/v1/charges/${ch.id}/refunds`),
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: failed ? 'failed' : 'succeeded',
    transfer_data: null,
    transfer_group: null,
  };
}
