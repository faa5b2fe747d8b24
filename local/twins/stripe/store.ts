import { IdGenerator } from '../common';
import { JournaledMap } from '../common/journaled-map';
import type { JsonObject } from './json';

/**
 * The twin's state, as plain records. Wire shapes are produced from these by `render.ts`, so an event
 * snapshots an object by rendering it at that moment.
 */

export interface Address {
  city: string | null;
  country: string | null;
  line1: string | null;
  line2: string | null;
  postal_code: string | null;
  state: string | null;
}

export interface CustomerRecord {
  id: string;
  seq: number;
  created: number;
  email: string | null;
  name: string | null;
  description: string | null;
  phone: string | null;
  address: Address | null;
  shipping: { name: string; phone: string | null; address: Address } | null;
  metadata: Record<string, string>;
  currency: string | null;
  balance: number;
  delinquent: boolean;
  invoicePrefix: string;
  nextInvoiceSequence: number;
  defaultPaymentMethod: string | null;
  paymentMethods: string[];
  taxExempt: 'none' | 'exempt' | 'reverse';
  preferredLocales: string[];
  deleted: boolean;
}

export interface ProductRecord {
  id: string;
  seq: number;
  created: number;
  updated: number;
  name: string;
  description: string | null;
  active: boolean;
  metadata: Record<string, string>;
  defaultPrice: string | null;
  unitLabel: string | null;
  taxCode: string | null;
  url: string | null;
  images: string[];
  statementDescriptor: string | null;
}

export type Interval = 'day' | 'week' | 'month' | 'year';

export interface PriceRecord {
  id: string;
  seq: number;
  created: number;
  product: string;
  currency: string;
  unitAmount: number;
  recurring: { interval: Interval; intervalCount: number } | null;
  active: boolean;
  nickname: string | null;
  lookupKey: string | null;
  metadata: Record<string, string>;
  taxBehavior: 'inclusive' | 'exclusive' | 'unspecified';
}

export interface TaxRateRecord {
  id: string;
  seq: number;
  created: number;
  displayName: string;
  description: string | null;
  percentage: number;
  inclusive: boolean;
  active: boolean;
  country: string | null;
  state: string | null;
  jurisdiction: string | null;
  taxType: string | null;
  metadata: Record<string, string>;
}

export interface SubscriptionItemRecord {
  id: string;
  seq: number;
  created: number;
  subscription: string;
  price: string;
  quantity: number;
  metadata: Record<string, string>;
  taxRates: string[];
  periodStart: number;
  periodEnd: number;
  deleted: boolean;
}

export type SubscriptionStatus =
  | 'incomplete'
  | 'incomplete_expired'
  | 'active'
  | 'past_due'
  | 'canceled'
  | 'unpaid';

export interface SubscriptionRecord {
  id: string;
  seq: number;
  created: number;
  customer: string;
  currency: string;
  status: SubscriptionStatus;
  items: string[];
  collectionMethod: 'charge_automatically' | 'send_invoice';
  daysUntilDue: number | null;
  defaultPaymentMethod: string | null;
  defaultTaxRates: string[];
  description: string | null;
  metadata: Record<string, string>;
  billingCycleAnchor: number;
  startDate: number;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  canceledAt: number | null;
  endedAt: number | null;
  cancellation: { comment: string | null; feedback: string | null; reason: string | null };
  latestInvoice: string | null;
}

export type InvoiceStatus = 'draft' | 'open' | 'paid' | 'void' | 'uncollectible';

export interface TaxAmount {
  amount: number;
  taxRate: string;
  inclusive: boolean;
  taxableAmount: number;
}

export interface InvoiceLineRecord {
  id: string;
  invoice: string;
  amount: number;
  currency: string;
  description: string;
  quantity: number;
  unitAmount: number;
  price: string | null;
  product: string | null;
  periodStart: number;
  periodEnd: number;
  proration: boolean;
  subscription: string | null;
  subscriptionItem: string | null;
  invoiceItem: string | null;
  metadata: Record<string, string>;
  /** The line's own tax rates; when empty the invoice's (or subscription's) defaults apply. */
  taxRates: string[];
  taxes: TaxAmount[];
}

export interface InvoiceRecord {
  id: string;
  seq: number;
  created: number;
  customer: string;
  subscription: string | null;
  status: InvoiceStatus;
  number: string | null;
  currency: string;
  collectionMethod: 'charge_automatically' | 'send_invoice';
  daysUntilDue: number | null;
  dueDate: number | null;
  billingReason: 'manual' | 'subscription_create' | 'subscription_cycle' | 'subscription_update';
  autoAdvance: boolean;
  description: string | null;
  metadata: Record<string, string>;
  defaultTaxRates: string[];
  lines: InvoiceLineRecord[];
  periodStart: number;
  periodEnd: number;
  amountPaid: number;
  attemptCount: number;
  attempted: boolean;
  prePaymentCreditNotesAmount: number;
  postPaymentCreditNotesAmount: number;
  /** Customer balance when the invoice was created, then when finalized (Stripe's `starting_balance`). */
  startingBalance: number;
  /** The part of the customer balance applied at finalization (negative = credit used). */
  appliedBalance: number;
  endingBalance: number | null;
  nextPaymentAttempt: number | null;
  finalizedAt: number | null;
  paidAt: number | null;
  voidedAt: number | null;
  markedUncollectibleAt: number | null;
  paidOutOfBand: boolean;
  payments: string[];
  /** Customer details copied at finalization, as Stripe freezes them on the invoice. */
  customerSnapshot: {
    email: string | null;
    name: string | null;
    phone: string | null;
    address: Address | null;
  } | null;
  subscriptionMetadata: Record<string, string> | null;
}

export interface InvoiceItemRecord {
  id: string;
  seq: number;
  created: number;
  customer: string;
  invoice: string | null;
  amount: number;
  unitAmount: number;
  quantity: number;
  currency: string;
  description: string;
  price: string | null;
  product: string | null;
  periodStart: number;
  periodEnd: number;
  proration: boolean;
  subscription: string | null;
  subscriptionItem: string | null;
  taxRates: string[];
  metadata: Record<string, string>;
}

export interface PaymentRecord {
  /** `inpay_` id of the invoice payment. */
  id: string;
  seq: number;
  created: number;
  invoice: string;
  paymentIntent: string;
  amount: number;
  currency: string;
  status: 'paid' | 'open' | 'canceled';
  paidAt: number | null;
}

export interface PaymentIntentRecord {
  id: string;
  seq: number;
  created: number;
  customer: string;
  amount: number;
  currency: string;
  paymentMethod: string | null;
  status: 'succeeded' | 'requires_payment_method';
  latestCharge: string | null;
  description: string | null;
  lastError: { code: string; declineCode: string; message: string } | null;
}

export interface ChargeRecord {
  id: string;
  seq: number;
  created: number;
  customer: string;
  amount: number;
  currency: string;
  paymentIntent: string;
  paymentMethod: string;
  paid: boolean;
  failure: { code: string; declineCode: string; message: string } | null;
  description: string | null;
  amountRefunded: number;
}

export interface CreditNoteLineRecord {
  id: string;
  type: 'invoice_line_item' | 'custom_line_item';
  invoiceLineItem: string | null;
  description: string | null;
  quantity: number | null;
  unitAmount: number | null;
  amount: number;
  taxes: TaxAmount[];
  taxRates: string[];
  metadata: Record<string, string> | null;
}

export interface CreditNoteRecord {
  id: string;
  seq: number;
  created: number;
  invoice: string;
  customer: string;
  currency: string;
  number: string;
  lines: CreditNoteLineRecord[];
  /** Sum of the line amounts (what `subtotal` reports). */
  subtotal: number;
  /** Credited tax that is added on top (exclusive rates). */
  exclusiveTax: number;
  reason: 'duplicate' | 'fraudulent' | 'order_change' | 'product_unsatisfactory' | null;
  memo: string | null;
  metadata: Record<string, string>;
  status: 'issued' | 'void';
  type: 'pre_payment' | 'post_payment' | 'mixed';
  prePaymentAmount: number;
  postPaymentAmount: number;
  creditAmount: number;
  refundAmount: number;
  outOfBandAmount: number | null;
  refund: string | null;
  voidedAt: number | null;
}

export interface EventRecord {
  id: string;
  seq: number;
  created: number;
  type: string;
  object: JsonObject;
  previousAttributes: JsonObject | null;
  request: { id: string | null; idempotency_key: string | null };
  pendingWebhooks: number;
}

export interface WebhookEndpointRecord {
  id: string;
  seq: number;
  created: number;
  url: string;
  secret: string;
  /** Secrets still honoured after a roll, until their expiry (unix seconds). */
  previousSecrets: Array<{ secret: string; expiresAt: number }>;
  enabledEvents: string[];
  description: string | null;
  metadata: Record<string, string>;
  status: 'enabled' | 'disabled';
  apiVersion: string | null;
}

/** The collections a write request may change (every one but the events), typed from the store's fields. */
type Collections = Pick<
  Store,
  | 'customers'
  | 'products'
  | 'prices'
  | 'taxRates'
  | 'subscriptions'
  | 'subscriptionItems'
  | 'invoices'
  | 'invoiceItems'
  | 'paymentIntents'
  | 'charges'
  | 'payments'
  | 'creditNotes'
  | 'webhookEndpoints'
>;

/**
 * Stripe object ids: a type prefix then an opaque suffix. Newer objects carry a 24-character suffix
 * (`in_1Pgc6tB7WZ01zgkWu9fdqL6I`), older types 14 (`cus_QXg1o8vcGmoR32`), as in Stripe's own fixtures.
 */
const SHORT_PREFIXES = new Set(['cus_', 'prod_', 'si_', 'req_']);

export class Store {
  readonly customers = new JournaledMap<string, CustomerRecord>();
  readonly products = new JournaledMap<string, ProductRecord>();
  readonly prices = new JournaledMap<string, PriceRecord>();
  readonly taxRates = new JournaledMap<string, TaxRateRecord>();
  readonly subscriptions = new JournaledMap<string, SubscriptionRecord>();
  readonly subscriptionItems = new JournaledMap<string, SubscriptionItemRecord>();
  readonly invoices = new JournaledMap<string, InvoiceRecord>();
  readonly invoiceItems = new JournaledMap<string, InvoiceItemRecord>();
  readonly paymentIntents = new JournaledMap<string, PaymentIntentRecord>();
  readonly charges = new JournaledMap<string, ChargeRecord>();
  readonly payments = new JournaledMap<string, PaymentRecord>();
  readonly creditNotes = new JournaledMap<string, CreditNoteRecord>();
  readonly events = new Map<string, EventRecord>();
  readonly webhookEndpoints = new JournaledMap<string, WebhookEndpointRecord>();
  private readonly ids: IdGenerator;
  /** Request ids come from their own sequence, so reads never shift the ids of objects. */
  private readonly requestIds: IdGenerator;
  private sequence = 0;

  constructor(
    seed: number,
    private readonly clock: () => number,
  ) {
    this.ids = new IdGenerator(seed);
    this.requestIds = new IdGenerator(seed + 1);
  }

  requestId(): string {
    return this.requestIds.next('req_', 14);
  }

  /**
   * Starts a write: every mutable collection but the events (which are only appended once a request
   * succeeds) keeps what the write changes, so a write request that fails is rolled back
   * (`rollback()`) and a 400 never leaves half a change behind, as Stripe's transactional writes never
   * do. `commit()` keeps the changes. A write costs what it touches, not a copy of the store.
   */
  begin(): void {
    for (const collection of Object.values(this.collections())) collection.begin();
  }

  commit(): void {
    for (const collection of Object.values(this.collections())) collection.end();
  }

  rollback(): void {
    for (const collection of Object.values(this.collections())) collection.rollback();
  }

  private collections(): Collections {
    return {
      customers: this.customers,
      products: this.products,
      prices: this.prices,
      taxRates: this.taxRates,
      subscriptions: this.subscriptions,
      subscriptionItems: this.subscriptionItems,
      invoices: this.invoices,
      invoiceItems: this.invoiceItems,
      paymentIntents: this.paymentIntents,
      charges: this.charges,
      payments: this.payments,
      creditNotes: this.creditNotes,
      webhookEndpoints: this.webhookEndpoints,
    };
  }

  /** Unix seconds, Stripe's unit for every timestamp. */
  now(): number {
    return Math.floor(this.clock() / 1000);
  }

  nowMs(): number {
    return this.clock();
  }

  /** Insertion order, to break ties between objects created in the same second. */
  nextSeq(): number {
    this.sequence += 1;
    return this.sequence;
  }

  id(prefix: string): string {
    return SHORT_PREFIXES.has(prefix) ? this.ids.next(prefix, 14) : this.ids.next(`${prefix}1`, 23);
  }

  /** Stripe's invoice prefixes are 7-8 upper-case alphanumerics (`7FE1103`). */
  invoicePrefix(): string {
    return this.ids.next('', 8, 'ABCDEF0123456789');
  }

  webhookSecret(): string {
    return this.ids.next('whsec_', 32);
  }
}
