import type * as z from 'zod/mini';
import {
  type CanonicalEvent,
  type CreditNote,
  canonicalEventId,
  describeIssues,
  type EventType,
  type Invoice,
  type Payment,
  type PaymentFailed,
  type Subscription,
} from '../../domain/events';
import { PermanentError } from '../../shared/errors';
import {
  type StripeEvent,
  type StripeInvoice,
  stripeCreditNoteSchema,
  stripeEventSchema,
  stripeInvoiceSchema,
  stripeSubscriptionSchema,
} from './schema';

/** Stripe event types revbridge turns into canonical events; every other type is acknowledged and ignored. */
export const STRIPE_EVENT_TYPES: Readonly<Record<string, EventType>> = {
  'invoice.finalized': 'billing.invoice.finalized',
  'invoice.paid': 'billing.invoice.paid',
  'invoice.payment_failed': 'billing.payment.failed',
  'credit_note.created': 'billing.credit_note.created',
  'credit_note.voided': 'billing.credit_note.voided',
  'customer.subscription.created': 'billing.subscription.created',
  'customer.subscription.updated': 'billing.subscription.updated',
  'customer.subscription.deleted': 'billing.subscription.canceled',
};

const iso = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString();
const isoOrNull = (unixSeconds: number | null | undefined): string | null =>
  unixSeconds === null || unixSeconds === undefined ? null : iso(unixSeconds);
const refId = (ref: string | { id: string }): string => (typeof ref === 'string' ? ref : ref.id);
const refIdOrNull = (ref: string | { id: string } | null | undefined): string | null =>
  ref === null || ref === undefined ? null : refId(ref);

const parseWith = <S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.infer<S> => {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new PermanentError(`${what} is malformed: ${describeIssues(result.error.issues, what)}`, {
      code: 'MalformedPayload',
    });
  }
  return result.data;
};

export const parseStripeEvent = (payload: unknown): StripeEvent =>
  parseWith(stripeEventSchema, payload, 'event');

/** Stripe's newer API versions report tax as `total_taxes`; older ones as `tax`. */
const invoiceTax = (invoice: StripeInvoice): number => {
  if (invoice.total_taxes) return invoice.total_taxes.reduce((sum, tax) => sum + tax.amount, 0);
  if (typeof invoice.tax === 'number') return invoice.tax;
  if (typeof invoice.total_excluding_tax === 'number') return invoice.total - invoice.total_excluding_tax;
  return 0;
};

export const mapInvoice = (invoice: StripeInvoice): Invoice => {
  if (invoice.lines.has_more) {
    // The webhook carries at most the first page of lines; posting a partial invoice would be wrong.
    throw new PermanentError(`invoice ${invoice.id} has more lines than the event carries`, {
      code: 'InvoiceLinesTruncated',
    });
  }
  return {
    id: invoice.id,
    number: invoice.number ?? null,
    customer: {
      billingId: refId(invoice.customer),
      email: invoice.customer_email ?? null,
      name: invoice.customer_name ?? null,
    },
    subscriptionId: refIdOrNull(invoice.parent?.subscription_details?.subscription ?? invoice.subscription),
    currency: invoice.currency.toUpperCase(),
    status: invoice.status ?? 'unknown',
    lines: invoice.lines.data.map((line) => {
      const price = line.pricing?.price_details?.price ?? line.price ?? line.plan ?? null;
      const product =
        line.pricing?.price_details?.product ??
        refIdOrNull(line.price?.product ?? null) ??
        refIdOrNull(line.plan?.product ?? null);
      return {
        id: line.id,
        description: line.description ?? null,
        quantity: line.quantity ?? 1,
        amount: line.amount,
        priceId: refIdOrNull(price),
        productId: product ?? null,
        periodStart: isoOrNull(line.period?.start),
        periodEnd: isoOrNull(line.period?.end),
      };
    }),
    subtotal: invoice.subtotal,
    tax: invoiceTax(invoice),
    total: invoice.total,
    amountDue: invoice.amount_due,
    amountPaid: invoice.amount_paid,
    issuedAt: iso(invoice.status_transitions?.finalized_at ?? invoice.created),
    dueAt: isoOrNull(invoice.due_date),
  };
};

const mapPayment = (invoice: StripeInvoice, failed: boolean): Payment => ({
  invoiceId: invoice.id,
  customerBillingId: refId(invoice.customer),
  paymentId: refIdOrNull(invoice.payment_intent ?? invoice.charge),
  amount: failed ? invoice.amount_due : invoice.amount_paid,
  currency: invoice.currency.toUpperCase(),
  paidAt: iso(invoice.status_transitions?.paid_at ?? invoice.created),
  failureReason: failed ? (invoice.last_finalization_error?.message ?? 'payment_failed') : null,
  attemptCount: invoice.attempt_count ?? 0,
});

/** Stripe sets `next_payment_attempt` while its retry schedule (Smart Retries or a custom one) has one left. */
const mapPaymentFailed = (invoice: StripeInvoice): PaymentFailed => ({
  ...mapPayment(invoice, true),
  amountDue: invoice.amount_remaining ?? invoice.amount_due,
  nextPaymentAttemptAt: isoOrNull(invoice.next_payment_attempt),
  invoiceNumber: invoice.number ?? null,
});

const sumAmounts = (amounts: readonly { amount: number }[]): number =>
  amounts.reduce((sum, tax) => sum + tax.amount, 0);

export const mapCreditNote = (value: unknown): CreditNote => {
  const note = parseWith(stripeCreditNoteSchema, value, 'data.object');
  const lines = note.lines?.data ?? [];
  if (note.lines?.has_more) {
    // Like an invoice: a memo with only the first page of lines would credit the wrong amount.
    throw new PermanentError(`credit note ${note.id} has more lines than the event carries`, {
      code: 'CreditNoteLinesTruncated',
    });
  }
  const subtotal = note.subtotal ?? sumAmounts(lines);
  const tax = note.total_taxes
    ? sumAmounts(note.total_taxes)
    : note.tax_amounts
      ? sumAmounts(note.tax_amounts)
      : note.total - subtotal;
  return {
    id: note.id,
    number: note.number ?? null,
    invoiceId: refId(note.invoice),
    customerBillingId: refId(note.customer),
    currency: note.currency.toUpperCase(),
    status: note.status ?? 'issued',
    lines: lines.map((line) => ({
      id: line.id,
      invoiceLineId: line.invoice_line_item ?? null,
      description: line.description ?? null,
      quantity: line.quantity ?? null,
      amount: line.amount,
    })),
    subtotal,
    tax,
    total: note.total,
    prePaymentAmount: note.pre_payment_amount ?? (note.type === 'post_payment' ? 0 : note.total),
    reason: note.reason ?? null,
    issuedAt: iso(note.created),
    voidedAt: isoOrNull(note.voided_at),
  };
};

const mapSubscription = (value: unknown): Subscription => {
  const sub = parseWith(stripeSubscriptionSchema, value, 'data.object');
  const firstItem = sub.items.data[0];
  const currency = sub.currency ?? firstItem?.price?.currency ?? firstItem?.plan?.currency;
  if (!currency) {
    throw new PermanentError(
      'data.object is malformed: data.object.currency: missing on the subscription and its items',
      {
        code: 'MalformedPayload',
      },
    );
  }
  const items = sub.items.data.map((item, index) => {
    const priceId = item.price?.id ?? item.plan?.id;
    if (!priceId) {
      throw new PermanentError(`data.object is malformed: data.object.items.data.${index}.price: missing`, {
        code: 'MalformedPayload',
      });
    }
    return { id: item.id, priceId, quantity: item.quantity ?? 1 };
  });
  // Newer API versions moved the billing period from the subscription to its items.
  const periodStart = sub.current_period_start ?? firstItem?.current_period_start;
  const periodEnd = sub.current_period_end ?? firstItem?.current_period_end;
  return {
    id: sub.id,
    customerBillingId: refId(sub.customer),
    status: sub.status,
    currency: currency.toUpperCase(),
    items,
    currentPeriodStart: isoOrNull(periodStart),
    currentPeriodEnd: isoOrNull(periodEnd),
    cancelAt: isoOrNull(sub.cancel_at),
    canceledAt: isoOrNull(sub.canceled_at),
    metadata: sub.metadata ?? {},
  };
};

/**
 * Maps a verified Stripe event to the canonical event it stands for, or `null` for a type revbridge
 * does not handle. Throws `PermanentError` naming the field when the payload is malformed.
 */
export const mapStripeEvent = (event: StripeEvent, account: string): CanonicalEvent | null => {
  const type = STRIPE_EVENT_TYPES[event.type];
  if (!type) return null;
  const object = event.data.object;
  const envelope = {
    id: canonicalEventId('stripe', account, event.id, type),
    version: 1,
    occurredAt: iso(event.created),
    source: { vendor: 'stripe' as const, account: event.account ?? account, eventId: event.id },
    causationId: null,
  };
  switch (type) {
    case 'billing.invoice.finalized': {
      const invoice = parseWith(stripeInvoiceSchema, object, 'data.object');
      return { ...envelope, type, correlationId: invoice.id, data: mapInvoice(invoice) };
    }
    case 'billing.invoice.paid': {
      const invoice = parseWith(stripeInvoiceSchema, object, 'data.object');
      return { ...envelope, type, correlationId: invoice.id, data: mapPayment(invoice, false) };
    }
    case 'billing.payment.failed': {
      const invoice = parseWith(stripeInvoiceSchema, object, 'data.object');
      // The attempt count is the failure's version: a late delivery of an earlier attempt is older.
      const version = Math.max(1, invoice.attempt_count ?? 1);
      return { ...envelope, version, type, correlationId: invoice.id, data: mapPaymentFailed(invoice) };
    }
    case 'billing.credit_note.created':
    case 'billing.credit_note.voided': {
      const data = mapCreditNote(object);
      return { ...envelope, type, correlationId: data.invoiceId, data };
    }
    case 'billing.subscription.created':
    case 'billing.subscription.updated':
    case 'billing.subscription.canceled': {
      const data = mapSubscription(object);
      return { ...envelope, type, correlationId: data.metadata.revbridge_deal_id ?? data.id, data };
    }
    default:
      return null;
  }
};
