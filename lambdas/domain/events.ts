import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { PermanentError } from '../shared/errors';
import { currencySchema, minorUnitsSchema } from './money';
import { differenceSchema } from './reconciliation';

/**
 * The canonical event model. Every vendor adapter maps into these shapes; every consumer reads
 * only these. On the bus: Source `revbridge.<vendor>`, DetailType = `type`, Detail = the envelope.
 */

export const VENDORS = ['stripe', 'netsuite', 'salesforce', 'hubspot', 'revbridge'] as const;
export type Vendor = (typeof VENDORS)[number];

export const EVENT_TYPES = [
  'billing.invoice.finalized',
  'billing.invoice.paid',
  'billing.payment.failed',
  'billing.credit_note.created',
  'billing.credit_note.voided',
  'billing.subscription.created',
  'billing.subscription.updated',
  'billing.subscription.canceled',
  'crm.deal.won',
  'contract.activated',
  'contract.amended',
  'erp.invoice.posted',
  'erp.payment.applied',
  'erp.credit_memo.posted',
  'erp.credit_memo.voided',
  'ops.exception.opened',
  'ops.reconciliation.difference',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const isoTimestamp = z.string().check(z.iso.datetime({ offset: true }));

export const customerRefSchema = z.object({
  billingId: z.string(),
  email: z.nullable(z.string()),
  name: z.nullable(z.string()),
});

export const invoiceLineSchema = z.object({
  id: z.string(),
  description: z.nullable(z.string()),
  quantity: z.int(),
  amount: minorUnitsSchema,
  priceId: z.nullable(z.string()),
  productId: z.nullable(z.string()),
  periodStart: z.nullable(isoTimestamp),
  periodEnd: z.nullable(isoTimestamp),
});

export const invoiceSchema = z.object({
  id: z.string(),
  number: z.nullable(z.string()),
  customer: customerRefSchema,
  subscriptionId: z.nullable(z.string()),
  currency: currencySchema,
  status: z.string(),
  lines: z.array(invoiceLineSchema),
  subtotal: minorUnitsSchema,
  tax: minorUnitsSchema,
  total: minorUnitsSchema,
  amountDue: minorUnitsSchema,
  amountPaid: minorUnitsSchema,
  issuedAt: isoTimestamp,
  dueAt: z.nullable(isoTimestamp),
});
export type Invoice = z.infer<typeof invoiceSchema>;

export const paymentSchema = z.object({
  invoiceId: z.string(),
  customerBillingId: z.string(),
  paymentId: z.nullable(z.string()),
  amount: minorUnitsSchema,
  currency: currencySchema,
  paidAt: isoTimestamp,
  failureReason: z.nullable(z.string()),
  attemptCount: z.int(),
});
export type Payment = z.infer<typeof paymentSchema>;

/**
 * A failed collection attempt on an invoice (`billing.payment.failed`): what the dunning flow flags in
 * the CRM. The envelope's `version` is the attempt count, so attempts order by it (and by `occurredAt`
 * between two events of one attempt); `nextPaymentAttemptAt` is null when the billing system will not
 * retry (no retry schedule, or its last retry failed).
 */
export const paymentFailedSchema = z.object({
  ...paymentSchema.shape,
  /** What is still owed on the invoice. */
  amountDue: minorUnitsSchema,
  nextPaymentAttemptAt: z.nullable(isoTimestamp),
  invoiceNumber: z.nullable(z.string()),
});
export type PaymentFailed = z.infer<typeof paymentFailedSchema>;

/** A credit note line: what it credits, before tax. `invoiceLineId` names the invoice line it credits, if any. */
export const creditNoteLineSchema = z.object({
  id: z.string(),
  invoiceLineId: z.nullable(z.string()),
  description: z.nullable(z.string()),
  quantity: z.nullable(z.int()),
  amount: minorUnitsSchema,
});

export const creditNoteSchema = z.object({
  id: z.string(),
  number: z.nullable(z.string()),
  invoiceId: z.string(),
  customerBillingId: z.string(),
  currency: currencySchema,
  status: z.string(),
  lines: z.array(creditNoteLineSchema),
  subtotal: minorUnitsSchema,
  tax: minorUnitsSchema,
  total: minorUnitsSchema,
  /** The part that reduced what was left to pay on the invoice; the rest was refunded or credited to the customer. */
  prePaymentAmount: minorUnitsSchema,
  reason: z.nullable(z.string()),
  issuedAt: isoTimestamp,
  voidedAt: z.nullable(isoTimestamp),
});
export type CreditNote = z.infer<typeof creditNoteSchema>;

export const subscriptionSchema = z.object({
  id: z.string(),
  customerBillingId: z.string(),
  status: z.string(),
  currency: currencySchema,
  items: z.array(z.object({ id: z.string(), priceId: z.string(), quantity: z.int() })),
  currentPeriodStart: z.nullable(isoTimestamp),
  currentPeriodEnd: z.nullable(isoTimestamp),
  cancelAt: z.nullable(isoTimestamp),
  canceledAt: z.nullable(isoTimestamp),
  metadata: z.record(z.string(), z.string()),
});
export type Subscription = z.infer<typeof subscriptionSchema>;

/**
 * A deal the CRM reports as won. Deliberately thin: webhooks can be stale or partial, so the consumer
 * re-fetches the deal and its line items; `version` (the CRM's last-modified stamp) orders deliveries.
 */
export const dealWonSchema = z.object({
  crm: z.enum(['salesforce', 'hubspot']),
  dealId: z.string().check(z.minLength(1)),
  version: z.string().check(z.minLength(1)),
  stage: z.string(),
  name: z.nullable(z.string()),
  accountId: z.nullable(z.string()),
});
export type DealWon = z.infer<typeof dealWonSchema>;

/**
 * The quote-to-cash saga finished: the won deal has a billing customer and subscription and an ERP
 * customer and sales order, and the CRM shows their ids.
 */
export const contractActivatedSchema = z.object({
  crm: z.enum(['salesforce', 'hubspot']),
  dealId: z.string().check(z.minLength(1)),
  /** The deal version the saga ran for (its execution is named after it). */
  dealVersion: z.string(),
  accountId: z.string(),
  currency: currencySchema,
  billingCustomerId: z.string(),
  subscriptionId: z.string(),
  erpCustomerId: z.string(),
  salesOrderId: z.string(),
  /** The NetSuite subsidiary the deal was routed to. */
  erpSubsidiaryId: z.string(),
});
export type ContractActivated = z.infer<typeof contractActivatedSchema>;

/**
 * The amendment saga finished: the won amendment or upsell changed the contract's billing
 * subscription (with proration) and its ERP sales order, and the CRM shows it.
 */
export const contractAmendedSchema = z.object({
  crm: z.enum(['salesforce', 'hubspot']),
  /** The amendment or upsell deal. */
  dealId: z.string().check(z.minLength(1)),
  dealVersion: z.string(),
  /** The deal whose contract it amends. */
  amendsDealId: z.string(),
  accountId: z.string(),
  currency: currencySchema,
  subscriptionId: z.string(),
  salesOrderId: z.string(),
  /** The subscription's recurring value per billing period after the change, in minor units. */
  contractValue: minorUnitsSchema,
  prorationBehavior: z.string(),
});
export type ContractAmended = z.infer<typeof contractAmendedSchema>;

export const invoicePostedSchema = z.object({
  invoiceId: z.string(),
  erpInvoiceId: z.string(),
  erpCustomerId: z.string(),
  total: minorUnitsSchema,
  currency: currencySchema,
});
export type InvoicePosted = z.infer<typeof invoicePostedSchema>;

/** A billing payment recorded in the ERP as a customer payment applied to the posted ERP invoice. */
export const paymentAppliedSchema = z.object({
  invoiceId: z.string(),
  /** The ERP payment's external id: the billing payment id, or `<invoice id>-payment` without one. */
  paymentExternalId: z.string(),
  erpPaymentId: z.string(),
  erpInvoiceId: z.string(),
  erpCustomerId: z.string(),
  amount: minorUnitsSchema,
  currency: currencySchema,
});
export type PaymentApplied = z.infer<typeof paymentAppliedSchema>;

/** A billing credit note as an ERP credit memo, created from (and applied to) the ERP invoice it credits. */
export const creditMemoPostedSchema = z.object({
  creditNoteId: z.string(),
  invoiceId: z.string(),
  erpCreditMemoId: z.string(),
  erpInvoiceId: z.string(),
  total: minorUnitsSchema,
  /** What the memo applies to the invoice; the rest stays as credit on the customer. */
  applied: minorUnitsSchema,
  currency: currencySchema,
});
export type CreditMemoPosted = z.infer<typeof creditMemoPostedSchema>;

export const exceptionSchema = z.object({
  exceptionId: z.string(),
  flow: z.string(),
  code: z.string(),
  message: z.string(),
  eventId: z.string(),
  eventType: z.string(),
});
export type ExceptionOpened = z.infer<typeof exceptionSchema>;

const dataSchemas = {
  'billing.invoice.finalized': invoiceSchema,
  'billing.invoice.paid': paymentSchema,
  'billing.payment.failed': paymentFailedSchema,
  'billing.credit_note.created': creditNoteSchema,
  'billing.credit_note.voided': creditNoteSchema,
  'billing.subscription.created': subscriptionSchema,
  'billing.subscription.updated': subscriptionSchema,
  'billing.subscription.canceled': subscriptionSchema,
  'crm.deal.won': dealWonSchema,
  'contract.activated': contractActivatedSchema,
  'contract.amended': contractAmendedSchema,
  'erp.invoice.posted': invoicePostedSchema,
  'erp.payment.applied': paymentAppliedSchema,
  'erp.credit_memo.posted': creditMemoPostedSchema,
  'erp.credit_memo.voided': creditMemoPostedSchema,
  'ops.exception.opened': exceptionSchema,
  'ops.reconciliation.difference': differenceSchema,
} as const satisfies Record<EventType, z.ZodMiniType>;

export type EventData = { [K in EventType]: z.infer<(typeof dataSchemas)[K]> };

export const sourceSchema = z.object({
  vendor: z.enum(VENDORS),
  account: z.string(),
  eventId: z.string(),
});

const envelopeBase = {
  id: z.string().check(z.minLength(1)),
  version: z.int(),
  occurredAt: isoTimestamp,
  source: sourceSchema,
  correlationId: z.string(),
  causationId: z.nullable(z.string()),
};

export type CanonicalEvent<T extends EventType = EventType> = {
  [K in T]: {
    id: string;
    type: K;
    version: number;
    occurredAt: string;
    source: z.infer<typeof sourceSchema>;
    correlationId: string;
    causationId: string | null;
    data: EventData[K];
  };
}[T];

/** Parses an envelope of one of the given types; the message names the first failing field. */
export const parseEvent = <T extends EventType>(
  value: unknown,
  ...types: readonly T[]
): CanonicalEvent<T> => {
  const head = z.object({ ...envelopeBase, type: z.enum(EVENT_TYPES) }).safeParse(value);
  if (!head.success) throw new EnvelopeError(describeIssues(head.error.issues));
  const type = head.data.type as T;
  if (types.length > 0 && !types.includes(type)) {
    throw new EnvelopeError(`type: expected one of ${types.join(', ')}, got ${type}`);
  }
  const data = dataSchemas[type].safeParse((value as { data?: unknown }).data);
  if (!data.success) throw new EnvelopeError(describeIssues(data.error.issues, 'data'));
  return { ...head.data, type, data: data.data } as CanonicalEvent<T>;
};

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError' as const;
}

/**
 * A mapped event, checked against the canonical model before it goes on the bus. A vendor payload
 * that maps to an invalid event (an empty currency, a fractional amount) is the sender's error: the
 * ingest answers 4xx naming the field, instead of publishing a message every consumer would refuse.
 */
export const checkCanonical = <E extends CanonicalEvent>(event: E): E => {
  try {
    parseEvent(event, event.type);
  } catch (error) {
    if (!(error instanceof EnvelopeError)) throw error;
    throw new PermanentError(`payload maps to an invalid ${event.type} event: ${error.message}`, {
      code: 'InvalidCanonicalEvent',
    });
  }
  return event;
};

/** `path.to.field: message`, for every issue, so a rejected payload says exactly what is wrong. */
export const describeIssues = (
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  prefix?: string,
): string =>
  issues
    .map((issue) => {
      const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)].join('.');
      return `${path || '(root)'}: ${issue.message}`;
    })
    .join('; ');

/**
 * Deterministic id: the same vendor event always maps to the same canonical id, so a webhook
 * delivered twice is deduplicated downstream by the idempotency table.
 */
export const canonicalEventId = (
  vendor: Vendor,
  account: string,
  vendorEventId: string,
  type: string,
): string =>
  `evt_${createHash('sha256').update(`${vendor}\u0000${account}\u0000${vendorEventId}\u0000${type}`).digest('hex').slice(0, 32)}`;

export const busSource = (vendor: Vendor): string => `revbridge.${vendor}`;

/**
 * An exception's event replayed by an operator goes back on the bus as `<event id>-replay-<n>` (ops/
 * exceptions.ts): the attempt `n`, or null when the event is not such a replay.
 */
export const replayAttemptOf = (eventId: string): number | null => {
  const attempt = /-replay-(\d+)$/.exec(eventId)?.[1];
  return attempt === undefined ? null : Number(attempt);
};

/**
 * An event revbridge emits because of another one: deterministic id (a retry emits the same event),
 * same correlation, causation = the cause's id. `account` names the emitter (a flow or a system).
 */
export const followUpEvent = <T extends EventType>(
  cause: Pick<CanonicalEvent, 'id' | 'correlationId'>,
  type: T,
  account: string,
  data: EventData[T],
  occurredAt: Date = new Date(),
): CanonicalEvent<T> =>
  ({
    id: canonicalEventId('revbridge', account, cause.id, type),
    type,
    version: 1,
    occurredAt: occurredAt.toISOString(),
    source: { vendor: 'revbridge', account, eventId: cause.id },
    correlationId: cause.correlationId,
    causationId: cause.id,
    data,
  }) as CanonicalEvent<T>;
