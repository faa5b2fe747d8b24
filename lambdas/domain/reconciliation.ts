import { createHash } from 'node:crypto';
import * as z from 'zod/mini';

/**
 * Flow 6, reconciliation: what billing says against what the ERP has, one record at a time. The
 * functions here are pure: the flow (lambdas/reconcile) pages through the vendors and feeds them.
 * Money is compared in integer minor units of the same currency; nothing is rounded here.
 */

export const DIFFERENCE_KINDS = [
  'invoice-missing-in-erp',
  'invoice-total-differs',
  'invoice-currency-differs',
  'payment-not-applied',
  'credit-note-missing-memo',
  'credit-memo-total-differs',
  'erp-invoice-without-billing',
  'deal-without-subscription',
  'deal-without-sales-order',
] as const;
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

/** What a re-drive can do about a kind: re-post a billing record, or nothing (a person decides). */
export const REDRIVABLE: Readonly<Record<DifferenceKind, boolean>> = {
  'invoice-missing-in-erp': true,
  'invoice-total-differs': true,
  'invoice-currency-differs': true,
  'payment-not-applied': true,
  'credit-note-missing-memo': true,
  'credit-memo-total-differs': true,
  // The ERP holds a receivable billing never issued: voiding or crediting it is a finance decision.
  'erp-invoice-without-billing': false,
  // Re-driven through the CRM: a fresh `crm.deal.won` runs the (idempotent) quote-to-cash saga again.
  'deal-without-subscription': true,
  'deal-without-sales-order': true,
};

const isoTimestamp = z.string().check(z.iso.datetime({ offset: true }));

export const reconciliationWindowSchema = z.object({ from: isoTimestamp, to: isoTimestamp });
export type ReconciliationWindow = z.infer<typeof reconciliationWindowSchema>;

/** One difference, naming both sides: the billing record (if any) and the ERP record (if any). */
export const differenceSchema = z.object({
  differenceId: z.string(),
  kind: z.enum(DIFFERENCE_KINDS),
  billing: z.nullable(
    z.object({
      system: z.literal('stripe'),
      entity: z.enum(['invoice', 'creditNote', 'subscription']),
      id: z.string(),
    }),
  ),
  /** The CRM deal, for the won-deal kinds. */
  crm: z.optional(
    z.object({ system: z.enum(['salesforce', 'hubspot']), entity: z.literal('deal'), id: z.string() }),
  ),
  erp: z.object({
    system: z.literal('netsuite'),
    recordType: z.enum(['invoice', 'creditMemo', 'customerPayment', 'salesOrder']),
    /** The ERP internal id; null when the record is missing. */
    id: z.nullable(z.string()),
    externalId: z.nullable(z.string()),
  }),
  /** A sentence with both sides' values, e.g. "total 2500 USD in billing, 2400 USD in the ERP". */
  detail: z.string(),
  window: reconciliationWindowSchema,
});
export type Difference = z.infer<typeof differenceSchema>;

/** A billing invoice as reconciliation reads it (from the billing system's list API). */
export interface BillingInvoice {
  readonly id: string;
  readonly status: string;
  readonly currency: string;
  readonly total: number;
  readonly amountPaid: number;
}

/** An ERP invoice as reconciliation reads it, in minor units; `currency` is null when its id is not mapped. */
export interface ErpInvoice {
  readonly id: string;
  readonly externalId: string | null;
  readonly currency: string | null;
  readonly total: number;
  readonly amountPaid: number;
}

export interface BillingCreditNote {
  readonly id: string;
  readonly status: string;
  readonly currency: string;
  readonly total: number;
}

export interface ErpCreditMemo {
  readonly id: string;
  readonly currency: string | null;
  readonly total: number;
}

/**
 * Billing invoices that must exist in the ERP: finalized and not voided. A draft is not a receivable
 * yet, and a void one was never owed (flow 2 posts at finalization, so a voided one may or may not
 * have been posted; either is right).
 */
const POSTABLE_INVOICE_STATUSES: ReadonlySet<string> = new Set(['open', 'paid', 'uncollectible']);
/** Stripe credit notes are `issued` or `void`. */
const POSTABLE_CREDIT_NOTE_STATUSES: ReadonlySet<string> = new Set(['issued']);

/** Deterministic: the same difference found by two runs (or two pages of one) has one id and one exception. */
export const differenceIdOf = (kind: DifferenceKind, sideIds: readonly (string | null)[]): string =>
  `dif_${createHash('sha256')
    .update([kind, ...sideIds.map((id) => id ?? '')].join('\u0000'))
    .digest('hex')
    .slice(0, 24)}`;

const money = (amount: number, currency: string | null) => `${amount} ${currency ?? '(unmapped currency)'}`;

const difference = (
  kind: DifferenceKind,
  billing: Difference['billing'],
  erp: Difference['erp'],
  detail: string,
  window: ReconciliationWindow,
): Difference => ({
  differenceId: differenceIdOf(kind, [billing?.id ?? null, erp.externalId ?? erp.id]),
  kind,
  billing,
  erp,
  detail,
  window,
});

/** Both sides of a billing record and the ERP record upserted under its id (`erp` null: none). */
const sidesOf = (
  entity: 'invoice' | 'creditNote',
  recordType: 'invoice' | 'creditMemo',
  billingId: string,
  erp: { readonly id: string } | null,
) => ({
  billingSide: { system: 'stripe', entity, id: billingId } as const,
  erpSide: { system: 'netsuite', recordType, id: erp?.id ?? null, externalId: billingId } as const,
});

/** A billing invoice against the ERP invoice upserted under its id (null: none). */
export const compareInvoice = (
  billing: BillingInvoice,
  erp: ErpInvoice | null,
  window: ReconciliationWindow,
): Difference[] => {
  if (!POSTABLE_INVOICE_STATUSES.has(billing.status)) return [];
  const { billingSide, erpSide } = sidesOf('invoice', 'invoice', billing.id, erp);
  if (!erp) {
    return [
      difference(
        'invoice-missing-in-erp',
        billingSide,
        erpSide,
        `billing invoice ${billing.id} (${billing.status}, ${money(billing.total, billing.currency)}) has no ERP invoice with external id ${billing.id}`,
        window,
      ),
    ];
  }
  if (erp.currency !== billing.currency) {
    // Amounts in different currencies cannot be compared: the currency is the one difference.
    return [
      difference(
        'invoice-currency-differs',
        billingSide,
        erpSide,
        `currency ${billing.currency} in billing invoice ${billing.id}, ${erp.currency ?? 'an unmapped currency'} in ERP invoice ${erp.id}`,
        window,
      ),
    ];
  }
  const found: Difference[] = [];
  if (erp.total !== billing.total) {
    found.push(
      difference(
        'invoice-total-differs',
        billingSide,
        erpSide,
        `total ${money(billing.total, billing.currency)} in billing invoice ${billing.id}, ${money(erp.total, erp.currency)} in ERP invoice ${erp.id}`,
        window,
      ),
    );
  }
  if (billing.status === 'paid' && billing.amountPaid > 0 && erp.amountPaid < billing.amountPaid) {
    found.push(
      difference(
        'payment-not-applied',
        billingSide,
        { system: 'netsuite', recordType: 'customerPayment', id: null, externalId: null },
        `billing invoice ${billing.id} is paid (${money(billing.amountPaid, billing.currency)}); ERP invoice ${erp.id} has ${money(erp.amountPaid, erp.currency)} applied`,
        window,
      ),
    );
  }
  return found;
};

/** A billing credit note against the ERP credit memo upserted under its id (null: none). */
export const compareCreditNote = (
  billing: BillingCreditNote,
  erp: ErpCreditMemo | null,
  window: ReconciliationWindow,
): Difference[] => {
  if (!POSTABLE_CREDIT_NOTE_STATUSES.has(billing.status)) return [];
  const { billingSide, erpSide } = sidesOf('creditNote', 'creditMemo', billing.id, erp);
  if (!erp) {
    return [
      difference(
        'credit-note-missing-memo',
        billingSide,
        erpSide,
        `billing credit note ${billing.id} (${money(billing.total, billing.currency)}) has no ERP credit memo with external id ${billing.id}`,
        window,
      ),
    ];
  }
  if (erp.currency !== billing.currency || erp.total !== billing.total) {
    return [
      difference(
        'credit-memo-total-differs',
        billingSide,
        erpSide,
        `total ${money(billing.total, billing.currency)} in billing credit note ${billing.id}, ${money(erp.total, erp.currency)} in ERP credit memo ${erp.id}`,
        window,
      ),
    ];
  }
  return [];
};

/**
 * An ERP invoice no link points at: an orphan unless billing knows its external id (then it is
 * billing's record, compared from the billing side). `billingExists` is null when it has no external id.
 */
export const compareErpInvoice = (
  erp: ErpInvoice,
  billingExists: boolean | null,
  window: ReconciliationWindow,
): Difference[] => {
  if (billingExists) return [];
  return [
    difference(
      'erp-invoice-without-billing',
      null,
      { system: 'netsuite', recordType: 'invoice', id: erp.id, externalId: erp.externalId },
      erp.externalId
        ? `ERP invoice ${erp.id} (${money(erp.total, erp.currency)}) has external id ${erp.externalId}, which billing does not know`
        : `ERP invoice ${erp.id} (${money(erp.total, erp.currency)}) has no external id and no billing counterpart`,
      window,
    ),
  ];
};

/** A deal won in a CRM, as its list API gives it. */
export interface WonDeal {
  readonly crm: 'salesforce' | 'hubspot';
  readonly dealId: string;
  /** The deal this one amends (an upsell runs the amendment saga: no subscription or order of its own). */
  readonly amends: string | null;
}

/** One page of a CRM's won deals; `next` is the cursor of the next page, null after the last. */
export interface WonDealPage {
  readonly items: WonDeal[];
  readonly next: string | null;
}

/** What the saga should have made for a won deal, as found through the links and the vendors' APIs. */
export interface DealRecords {
  /** The linked billing subscription id, and whether billing still has it (null: no link). */
  readonly subscription: { readonly id: string; readonly exists: boolean } | null;
  /** The sales order's external id (per deal) and the ERP's internal id under it (null: none). */
  readonly salesOrder: { readonly externalId: string; readonly id: string | null };
}

/**
 * A won deal against what the quote-to-cash saga makes for it: a billing subscription (linked from the
 * deal) and an ERP sales order (upserted under the deal's external id). Each one missing is a difference.
 */
export const compareWonDeal = (
  deal: WonDeal,
  records: DealRecords,
  window: ReconciliationWindow,
): Difference[] => {
  if (deal.amends) return [];
  const crm = { system: deal.crm, entity: 'deal', id: deal.dealId } as const;
  const erp = {
    system: 'netsuite',
    recordType: 'salesOrder',
    id: records.salesOrder.id,
    externalId: records.salesOrder.externalId,
  } as const;
  const sub = records.subscription;
  const found: Difference[] = [];
  const of = (kind: DifferenceKind, billing: Difference['billing'], detail: string): Difference => ({
    differenceId: differenceIdOf(kind, [deal.crm, deal.dealId]),
    kind,
    billing,
    crm,
    erp,
    detail,
    window,
  });
  if (!sub?.exists) {
    found.push(
      of(
        'deal-without-subscription',
        sub ? { system: 'stripe', entity: 'subscription', id: sub.id } : null,
        sub
          ? `won ${deal.crm} deal ${deal.dealId} links billing subscription ${sub.id}, which billing does not have`
          : `won ${deal.crm} deal ${deal.dealId} has no billing subscription`,
      ),
    );
  }
  if (records.salesOrder.id === null) {
    found.push(
      of(
        'deal-without-sales-order',
        sub?.exists ? { system: 'stripe', entity: 'subscription', id: sub.id } : null,
        `won ${deal.crm} deal ${deal.dealId} has no ERP sales order with external id ${records.salesOrder.externalId}`,
      ),
    );
  }
  return found;
};

/** `invoice-total-differs` → `InvoiceTotalDiffers`: the exception code and the metric dimension. */
export const differenceCode = (kind: DifferenceKind): string =>
  kind
    .split('-')
    .map((word) => `${word.charAt(0).toUpperCase()}${word.slice(1)}`)
    .join('');

/** The default window: the last `days` days up to `settleSeconds` ago (flows still in flight are not differences). */
export const defaultWindow = (now: Date, days = 2, settleSeconds = 900): ReconciliationWindow => {
  const to = new Date(now.getTime() - settleSeconds * 1000);
  return { from: new Date(to.getTime() - days * 86_400_000).toISOString(), to: to.toISOString() };
};
