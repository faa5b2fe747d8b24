import type { Deal } from './deal';
import type { CanonicalEvent, CreditNote, Invoice, Payment } from './events';

/**
 * The ports the flows work through: what a flow needs of the CRM, billing, the ERP, the links, the
 * exceptions, the bus and the price catalog, in the canonical model's terms. The adapters
 * (lambdas/adapters: vendor clients, AWS repositories) implement them; logic files import only these,
 * so a test passes fakes and a new vendor is a new adapter behind the same port.
 */

// ---- CRM, billing, ERP -------------------------------------------------------------------------

/** What the saga writes back to the CRM when it ends. */
export interface DealWriteBack {
  readonly billingCustomerId?: string;
  readonly subscriptionId?: string;
  readonly erpCustomerId?: string;
  readonly salesOrderId?: string;
  /** `Activated`, or `Failed: <safe reason>` for the CRM owner to read. */
  readonly status: string;
}

/** The CRM side of the saga. Implementations: Salesforce (REST), HubSpot (CRM v3). */
export interface CrmClient {
  /** The deal with its line items and account, as the CRM has them now. `null` if it does not exist. */
  getDeal(dealId: string): Promise<Deal | null>;
  writeBack(dealId: string, values: DealWriteBack): Promise<void>;
}

/**
 * Writes fields of a deal by their names in the CRM (Salesforce field API names, HubSpot property
 * names), for flows whose fields are configured per stage rather than fixed like the saga's.
 */
export interface DealFieldWriter {
  /** Numbers go as numbers to Salesforce and as decimal strings to HubSpot. */
  writeDealFields(dealId: string, fields: Readonly<Record<string, string | number>>): Promise<void>;
}

/** The billing side (Stripe). Every write carries an idempotency key derived from the deal. */
export interface BillingClient {
  /** Creates the billing customer for the CRM account, or returns the one already made for it. */
  upsertCustomer(deal: Deal, idempotencyKey: string): Promise<string>;
  /** Creates the subscription for the deal's lines (prices from the catalog). */
  createSubscription(
    deal: Deal,
    customerId: string,
    items: readonly { priceId: string; quantity: number }[],
    idempotencyKey: string,
  ): Promise<{ subscriptionId: string }>;
  /** Compensation: cancels the subscription at once, without deleting anything (invoices stay). */
  cancelSubscription(subscriptionId: string, idempotencyKey: string): Promise<void>;
}

/** The ERP side (NetSuite), upserting by external id. */
export interface ErpClient {
  upsertCustomer(deal: Deal, externalId: string): Promise<string>;
  upsertSalesOrder(
    deal: Deal,
    externalId: string,
    erpCustomerId: string,
    lines: readonly { itemId: string; quantity: number; unitAmount: number }[],
  ): Promise<string>;
  /** Compensation: closes the sales order's lines (NetSuite's finance-safe undo; never deletes). */
  closeSalesOrder(externalId: string): Promise<void>;
  /** Compensation for a customer created by this saga: marks it inactive (never deleted). */
  deactivateCustomer(externalId: string): Promise<void>;
}

/**
 * The ERP side of the billing flows (NetSuite): billing documents upserted by their billing ids as
 * external ids, so a repeated write finds its own record. `subsidiaryId` is where the saga routed the
 * customer (the links table's `customerSubsidiary`); absent, the stage's default subsidiary.
 */
export interface ErpLedger {
  /** The billing customer as an ERP customer (external id = billing customer id). */
  upsertBillingCustomer(
    customer: Invoice['customer'],
    currency: string,
    subsidiaryId: string | undefined,
  ): Promise<string>;
  /** An AR invoice (external id = billing invoice id); its lines are replaced, never appended. */
  upsertInvoice(invoice: Invoice, erpCustomerId: string, subsidiaryId: string | undefined): Promise<string>;
  /** A customer payment applied to the ERP invoice; a repeated upsert applies it once. */
  upsertPayment(
    payment: Payment,
    externalId: string,
    applyTo: { readonly customerId: string; readonly invoiceId: string },
    subsidiaryId: string | undefined,
  ): Promise<string>;
  /**
   * A credit memo (external id = credit note id) created from the ERP invoice and applied to it for what
   * the note took off the amount left to pay; a repeated upsert neither duplicates its lines nor applies
   * it twice. `lineProducts` gives the products of the invoice lines the note credits (a credit note line
   * names the invoice line, not its product); it is asked only when the ERP needs them.
   */
  upsertCreditMemo(
    note: CreditNote,
    lineProducts: () => Promise<ReadonlyMap<string, string | null>>,
    applyTo: { readonly customerId: string; readonly invoiceId: string },
    subsidiaryId: string | undefined,
  ): Promise<string>;
  /** The credit memo of a credit note (by its id as external id); `null` when the ERP has none. */
  findCreditMemo(creditNoteId: string): Promise<{ readonly id: string; readonly voided: boolean } | null>;
  /** Voids a credit memo by its ERP id (the finance-safe undo: it is never deleted). */
  voidCreditMemo(erpCreditMemoId: string): Promise<void>;
}

// ---- Links ---------------------------------------------------------------------------------------

export type System = 'stripe' | 'netsuite' | 'salesforce' | 'hubspot';
export type Entity =
  | 'customer'
  | 'invoice'
  | 'subscription'
  | 'salesOrder'
  | 'deal'
  | 'payment'
  | 'creditNote'
  /** The ERP subsidiary a billing customer books to (the saga routes it; invoices must follow). */
  | 'customerSubsidiary';

export interface LinkKey {
  readonly entity: Entity;
  readonly system: System;
  readonly id: string;
}

export interface LinkQuery {
  readonly key: LinkKey;
  readonly target: System;
}

export interface LinksRepository {
  /** The ids in the target systems, in the order asked; `undefined` where no link exists. */
  find(queries: readonly LinkQuery[]): Promise<(string | undefined)[]>;
  /**
   * Records `targetId` as the id in `target` of the entity `key`, and the reverse link unless
   * `reverse` is false (an attribute such as a customer's subsidiary has no reverse: many share one).
   */
  record(
    key: LinkKey,
    target: System,
    targetId: string,
    causedBy: string,
    options?: { readonly reverse?: boolean },
  ): Promise<void>;
}

/**
 * Forgets one link and its reverse: reconciliation's re-drive does this when the ERP record a link
 * names is gone or differs, so the normal flow, which trusts its links, posts the record again by
 * external id. `only` keeps a link that no longer is the one re-drive saw: one naming another target
 * id, or one recorded at or after `recordedBefore` (the flow re-posted the record since the difference
 * was found, so a second re-drive of it writes nothing). `absent` when there was no link.
 */
export interface LinksEraser {
  forget(
    key: LinkKey,
    target: System,
    only?: { readonly targetId?: string; readonly recordedBefore?: string },
  ): Promise<'forgotten' | 'kept' | 'absent'>;
}

// ---- Exceptions ----------------------------------------------------------------------------------

/**
 * An exception is a business failure someone must look at (bad master data, a rejected posting). It
 * keeps the event that caused it, so it can be replayed once fixed. The id is derived from the flow
 * and the event, so a redelivered event never opens a second exception.
 */
export interface ExceptionRecord {
  readonly exceptionId: string;
  readonly flow: string;
  readonly code: string;
  readonly message: string;
  readonly event: CanonicalEvent;
}

export interface ExceptionsRepository {
  /**
   * `key` names what the exception is about when that is not the event itself (the dunning flow opens
   * one per invoice, whatever attempt's event opens it). @default the event id
   */
  open(
    flow: string,
    code: string,
    message: string,
    event: CanonicalEvent,
    key?: string,
  ): Promise<ExceptionRecord>;
}

/** Closes an exception the flow itself saw settle (an invoice paid after its payment failed). */
export interface ExceptionResolver {
  /** `false` when there was no open exception with that id (never opened, or resolved already). */
  resolve(exceptionId: string, resolvedBy: string): Promise<boolean>;
}

// ---- The bus -------------------------------------------------------------------------------------

export interface EventPublisher {
  publish(events: readonly CanonicalEvent[]): Promise<void>;
}

// ---- Billing's price catalog ---------------------------------------------------------------------

/**
 * Resolves the catalog's lookup keys to the prices that hold them now (Stripe prices are immutable: a
 * new price takes the key over and the flows follow without a redeploy).
 */
export interface CatalogPrice {
  readonly id: string;
  /** Upper case, like the canonical model. */
  readonly currency: string;
  readonly recurring: boolean;
  /** The price's product: how a subscription still on an older price of it finds its catalog entry. */
  readonly product?: string;
}

export interface PriceCatalog {
  /** The active prices holding these lookup keys, by lookup key; a key no active price holds is absent. */
  findByLookupKeys(lookupKeys: readonly string[]): Promise<ReadonlyMap<string, CatalogPrice>>;
}
