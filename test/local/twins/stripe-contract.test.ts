import type Stripe from 'stripe';
import { type StripeTwin, startStripeTwin } from '../../../local/twins/stripe';
import {
  compareShape,
  type Fixture,
  loadFixtures,
  type NullAllowance,
  type Receiver,
  raw,
  type ShapeProblem,
  sdkFieldTypes,
  startReceiver,
  stripeClient,
} from './stripe-test-kit';

/**
 * The twin's objects against Stripe's own samples (fixtures3.json, what Stripe's mock server serves):
 * every key of a sample is on the twin's object with the same JSON type. Where the sample fills a
 * nullable field that the live API leaves `null` when the feature is unused, the twin may answer
 * `null`; each such field is listed below with the stripe-node 23 declaration that makes it nullable.
 */
const ALLOWANCES: NullAllowance[] = [
  { path: 'customer.currency', sdk: 'Customer.currency' },
  { path: 'customer.discount', sdk: 'Customer.discount' },
  { path: 'customer.invoice_settings.rendering_options', sdk: 'Customer.InvoiceSettings.rendering_options' },
  { path: 'customer.shipping', sdk: 'Customer.shipping' },
  { path: 'product.package_dimensions', sdk: 'Product.package_dimensions' },
  { path: 'price.custom_unit_amount', sdk: 'Price.custom_unit_amount' },
  { path: 'price.transform_quantity', sdk: 'Price.transform_quantity' },
  { path: 'plan.transform_usage', sdk: 'Plan.transform_usage' },
  { path: 'subscription.automatic_tax.liability', sdk: 'Subscription.AutomaticTax.liability' },
  { path: 'subscription.billing_cycle_anchor_config', sdk: 'Subscription.billing_cycle_anchor_config' },
  { path: 'subscription.billing_mode.flexible', sdk: 'Subscription.BillingMode.flexible' },
  { path: 'subscription.billing_thresholds', sdk: 'Subscription.billing_thresholds' },
  { path: 'subscription.cancel_at', sdk: 'Subscription.cancel_at' },
  { path: 'subscription.canceled_at', sdk: 'Subscription.canceled_at' },
  { path: 'subscription.ended_at', sdk: 'Subscription.ended_at' },
  {
    path: 'subscription.next_pending_invoice_item_invoice',
    sdk: 'Subscription.next_pending_invoice_item_invoice',
  },
  { path: 'subscription.pause_collection', sdk: 'Subscription.pause_collection' },
  {
    path: 'subscription.payment_settings.payment_method_options',
    sdk: 'Subscription.PaymentSettings.payment_method_options',
  },
  { path: 'subscription.pending_invoice_item_interval', sdk: 'Subscription.pending_invoice_item_interval' },
  { path: 'subscription.pending_update', sdk: 'Subscription.pending_update' },
  { path: 'subscription.transfer_data', sdk: 'Subscription.transfer_data' },
  { path: 'subscription.trial_end', sdk: 'Subscription.trial_end' },
  { path: 'subscription.trial_start', sdk: 'Subscription.trial_start' },
  { path: 'subscription_item.billing_thresholds', sdk: 'SubscriptionItem.billing_thresholds' },
  { path: 'invoice.automatic_tax.liability', sdk: 'Invoice.AutomaticTax.liability' },
  { path: 'invoice.customer_shipping', sdk: 'Invoice.customer_shipping' },
  { path: 'invoice.due_date', sdk: 'Invoice.due_date' },
  { path: 'invoice.effective_at', sdk: 'Invoice.effective_at' },
  { path: 'invoice.from_invoice', sdk: 'Invoice.from_invoice' },
  { path: 'invoice.last_finalization_error', sdk: 'Invoice.last_finalization_error' },
  { path: 'invoice.next_payment_attempt', sdk: 'Invoice.next_payment_attempt' },
  { path: 'invoice.parent', sdk: 'Invoice.parent' },
  { path: 'invoice.parent.quote_details', sdk: 'Invoice.Parent.quote_details' },
  {
    path: 'invoice.payment_settings.payment_method_options',
    sdk: 'Invoice.PaymentSettings.payment_method_options',
  },
  { path: 'invoice.shipping_cost', sdk: 'Invoice.shipping_cost' },
  { path: 'invoice.shipping_details', sdk: 'Invoice.shipping_details' },
  { path: 'line_item.parent.invoice_item_details', sdk: 'InvoiceLineItem.Parent.invoice_item_details' },
  {
    path: 'line_item.parent.invoice_item_details.proration_details.credited_items',
    sdk: 'InvoiceLineItem.Parent.InvoiceItemDetails.ProrationDetails.credited_items',
  },
  {
    path: 'line_item.parent.subscription_item_details',
    sdk: 'InvoiceLineItem.Parent.subscription_item_details',
  },
  {
    path: 'line_item.parent.subscription_item_details.proration_details.credited_items',
    sdk: 'InvoiceLineItem.Parent.SubscriptionItemDetails.ProrationDetails.credited_items',
  },
  { path: 'invoiceitem.parent', sdk: 'InvoiceItem.parent' },
  { path: 'credit_note.refunds[].payment_record_refund', sdk: 'CreditNote.Refund.payment_record_refund' },
  { path: 'credit_note.shipping_cost', sdk: 'CreditNote.shipping_cost' },
  { path: 'credit_note.voided_at', sdk: 'CreditNote.voided_at' },
  { path: 'tax_rate.flat_amount', sdk: 'TaxRate.flat_amount' },
  { path: 'charge.balance_transaction', sdk: 'Charge.balance_transaction' },
  { path: 'charge.billing_details.name', sdk: 'Charge.BillingDetails.name' },
  {
    path: 'charge.payment_method_details.card.installments',
    sdk: 'Charge.PaymentMethodDetails.Card.installments',
  },
  {
    path: 'charge.payment_method_details.card.three_d_secure',
    sdk: 'Charge.PaymentMethodDetails.Card.three_d_secure',
  },
  { path: 'charge.payment_method_details.card.wallet', sdk: 'Charge.PaymentMethodDetails.Card.wallet' },
  { path: 'charge.shipping', sdk: 'Charge.shipping' },
  { path: 'charge.source', sdk: 'Charge.source' },
  { path: 'charge.transfer_data', sdk: 'Charge.transfer_data' },
  { path: 'payment_intent.automatic_payment_methods', sdk: 'PaymentIntent.automatic_payment_methods' },
  { path: 'payment_intent.canceled_at', sdk: 'PaymentIntent.canceled_at' },
  { path: 'payment_intent.last_payment_error', sdk: 'PaymentIntent.last_payment_error' },
  { path: 'payment_intent.next_action', sdk: 'PaymentIntent.next_action' },
  {
    path: 'payment_intent.payment_method_configuration_details',
    sdk: 'PaymentIntent.payment_method_configuration_details',
  },
  { path: 'payment_intent.processing', sdk: 'PaymentIntent.processing' },
  { path: 'payment_intent.shipping', sdk: 'PaymentIntent.shipping' },
  { path: 'payment_intent.transfer_data', sdk: 'PaymentIntent.transfer_data' },
];

/** Resource types checked, each against the fixture of the same name. */
const CHECKED_TYPES = [
  'customer',
  'product',
  'price',
  'plan',
  'tax_rate',
  'subscription',
  'subscription_item',
  'invoice',
  'line_item',
  'invoiceitem',
  'invoice_payment',
  'credit_note',
  'credit_note_line_item',
  'charge',
  'payment_intent',
  'event',
] as const;

const fixtures = loadFixtures();
const allowances = new Map(ALLOWANCES.map((a) => [a.path, a]));
const used = new Set<string>();
const lookup = (type: string): Fixture | undefined =>
  (CHECKED_TYPES as readonly string[]).includes(type) ? fixtures[type] : undefined;

function problemsOf(type: string, object: unknown): ShapeProblem[] {
  const problems: ShapeProblem[] = [];
  const fixture = fixtures[type];
  if (fixture === undefined) throw new Error(`fixtures3.json has no ${type}`);
  compareShape(fixture, object, type, { allowances, used, problems, lookup });
  return problems;
}

let twin: StripeTwin;
let receiver: Receiver;
let stripe: Stripe;
/** The API path of one object of each checked type, fetched raw and through the SDK. */
const paths = new Map<string, string>();

beforeAll(async () => {
  receiver = await startReceiver();
  twin = await startStripeTwin({ port: 0, seed: 3, webhook: { url: receiver.url } });
  stripe = stripeClient(twin.port);

  const customer = await stripe.customers.create({
    email: 'ap@acme.test',
    name: 'Acme GmbH',
    phone: '+49 30 1234567',
    address: { line1: 'Unter den Linden 1', city: 'Berlin', postal_code: '10117', country: 'DE' },
    invoice_settings: { default_payment_method: 'pm_card_visa' },
    metadata: { crm_account_id: '001RB' },
  });
  const product = await stripe.products.create({
    name: 'RevBridge Pro',
    description: 'Per seat, billed monthly',
    default_price_data: { currency: 'eur', unit_amount: 4900, recurring: { interval: 'month' } },
  });
  const priceId = String(product.default_price);
  const vat = await stripe.taxRates.create({
    display_name: 'VAT',
    description: 'VAT Germany',
    percentage: 19,
    inclusive: false,
    country: 'DE',
    jurisdiction: 'DE',
    tax_type: 'vat',
  });
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: priceId, quantity: 5 }],
    default_tax_rates: [vat.id],
  });
  const invoiceId = String(subscription.latest_invoice);
  const invoice = await stripe.invoices.retrieve(invoiceId);
  const line = invoice.lines.data[0];
  if (!line) throw new Error('the subscription invoice has no line');
  const creditNote = await stripe.creditNotes.create({
    invoice: invoiceId,
    lines: [{ type: 'invoice_line_item', invoice_line_item: line.id, quantity: 1 }],
    refund_amount: 5831,
  });
  const item = await stripe.invoiceItems.create({
    customer: customer.id,
    amount: 15000,
    currency: 'eur',
    description: 'Onboarding',
  });
  const oneOff = await stripe.invoices.create({
    customer: customer.id,
    pending_invoice_items_behavior: 'include',
  });
  await stripe.invoices.finalizeInvoice(oneOff.id);
  const sendInvoice = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: priceId }],
    collection_method: 'send_invoice',
    days_until_due: 30,
  });
  await stripe.subscriptions.update(sendInvoice.id, { cancel_at_period_end: true });
  await stripe.subscriptions.cancel(sendInvoice.id);
  const payments = await stripe.invoicePayments.list({ invoice: invoiceId });
  const intent = payments.data[0]?.payment.payment_intent;
  const chargeId = (await stripe.paymentIntents.retrieve(String(intent))).latest_charge;
  const events = await stripe.events.list({ limit: 1 });

  paths.set('customer', `/v1/customers/${customer.id}`);
  paths.set('product', `/v1/products/${product.id}`);
  paths.set('price', `/v1/prices/${priceId}`);
  paths.set('tax_rate', `/v1/tax_rates/${vat.id}`);
  paths.set('subscription', `/v1/subscriptions/${subscription.id}`);
  paths.set('subscription_item', `/v1/subscription_items/${subscription.items.data[0]?.id}`);
  paths.set('invoice', `/v1/invoices/${invoiceId}`);
  paths.set('invoiceitem', `/v1/invoiceitems/${item.id}`);
  paths.set('invoice_payment', `/v1/invoice_payments/${payments.data[0]?.id}`);
  paths.set('credit_note', `/v1/credit_notes/${creditNote.id}`);
  paths.set('charge', `/v1/charges/${String(chargeId)}`);
  paths.set('payment_intent', `/v1/payment_intents/${String(intent)}`);
  paths.set('event', `/v1/events/${events.data[0]?.id}`);
  paths.set('one-off invoice', `/v1/invoices/${oneOff.id}`);
  paths.set('canceled subscription', `/v1/subscriptions/${sendInvoice.id}`);
  await twin.flushWebhooks();
});

afterAll(async () => {
  await twin.close();
  await receiver.close();
});

describe('Stripe twin objects against Stripe fixtures3.json', () => {
  const cases: Array<[string, string]> = [
    ['customer', 'customer'],
    ['product', 'product'],
    ['price', 'price'],
    ['tax_rate', 'tax_rate'],
    ['subscription', 'subscription'],
    ['canceled subscription', 'subscription'],
    ['subscription_item', 'subscription_item'],
    ['invoice', 'invoice'],
    ['one-off invoice', 'invoice'],
    ['invoiceitem', 'invoiceitem'],
    ['invoice_payment', 'invoice_payment'],
    ['credit_note', 'credit_note'],
    ['charge', 'charge'],
    ['payment_intent', 'payment_intent'],
    ['event', 'event'],
  ];

  it.each(cases)('serves a %s with every key and value type of the fixture', async (name, type) => {
    const response = await raw(twin.url, 'GET', paths.get(name) ?? '');
    expect(response.status).toBe(200);
    expect(response.body.object).toBe(type);
    expect(problemsOf(type, response.body)).toEqual([]);
  });

  it('gives invoice lines, subscription items, credit note lines and tax rates the fixture shapes too', async () => {
    const invoice = await raw(twin.url, 'GET', paths.get('invoice') ?? '');
    const lines = (invoice.body.lines as { data: unknown[] }).data;
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(problemsOf('line_item', line)).toEqual([]);
    const creditNote = await raw(twin.url, 'GET', paths.get('credit_note') ?? '');
    for (const line of (creditNote.body.lines as { data: unknown[] }).data) {
      expect(problemsOf('credit_note_line_item', line)).toEqual([]);
    }
  });

  it('sends every event envelope and its data.object in the fixture shapes', () => {
    const events = twin.events();
    const types = new Set(events.map((e) => e.type));
    for (const type of [
      'customer.created',
      'product.created',
      'price.created',
      'customer.subscription.created',
      'customer.subscription.updated',
      'customer.subscription.deleted',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
      'invoiceitem.created',
      'credit_note.created',
      'charge.succeeded',
      'payment_intent.succeeded',
    ]) {
      expect(types).toContain(type);
    }
    const problems = events.flatMap((event) => problemsOf('event', event));
    expect(problems).toEqual([]);
  });

  it('hands every object to the official SDK without loss', async () => {
    for (const [name, path] of paths) {
      const response = await raw(twin.url, 'GET', path);
      const id = String(response.body.id);
      const sdkObject = await retrieveWithSdk(name, id);
      // Decimal fields (`unit_amount_decimal`, `quantity_decimal`) come back as Decimal; toJSON gives the string.
      expect([name, JSON.parse(JSON.stringify(sdkObject))]).toEqual([name, response.body]);
    }
  });
});

describe('the nullable-field allowances', () => {
  it('name only fields that stripe-node 23 declares nullable', () => {
    const declared = sdkFieldTypes();
    const wrong = ALLOWANCES.filter((a) => !/\|\s*null\b/.test(declared.get(a.sdk) ?? '')).map(
      (a) => `${a.path} -> ${a.sdk}: ${declared.get(a.sdk) ?? 'not declared'}`,
    );
    expect(wrong).toEqual([]);
  });

  it('are each needed by at least one object the twin served', async () => {
    used.clear();
    for (const [name, path] of paths) {
      const response = await raw(twin.url, 'GET', path);
      problemsOf(TYPE_OF[name] ?? name, response.body);
    }
    for (const event of twin.events()) problemsOf('event', event);
    expect(ALLOWANCES.map((a) => a.path).filter((path) => !used.has(path))).toEqual([]);
  });
});

const TYPE_OF: Record<string, string> = {
  'one-off invoice': 'invoice',
  'canceled subscription': 'subscription',
};

function retrieveWithSdk(name: string, id: string): Promise<unknown> {
  switch (name) {
    case 'customer':
      return stripe.customers.retrieve(id);
    case 'product':
      return stripe.products.retrieve(id);
    case 'price':
      return stripe.prices.retrieve(id);
    case 'tax_rate':
      return stripe.taxRates.retrieve(id);
    case 'subscription':
    case 'canceled subscription':
      return stripe.subscriptions.retrieve(id);
    case 'subscription_item':
      return stripe.subscriptionItems.retrieve(id);
    case 'invoice':
    case 'one-off invoice':
      return stripe.invoices.retrieve(id);
    case 'invoiceitem':
      return stripe.invoiceItems.retrieve(id);
    case 'invoice_payment':
      return stripe.invoicePayments.retrieve(id);
    case 'credit_note':
      return stripe.creditNotes.retrieve(id);
    case 'charge':
      return stripe.charges.retrieve(id);
    case 'payment_intent':
      return stripe.paymentIntents.retrieve(id);
    case 'event':
      return stripe.events.retrieve(id);
    default:
      throw new Error(`no SDK call for ${name}`);
  }
}
