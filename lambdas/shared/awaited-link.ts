import type { LinkKey, LinksRepository } from '../domain/ports';
import { PermanentError, TransientError } from './errors';
import type { RetryPolicy } from './sqs-retry';

/**
 * Events that depend on an earlier flow's write (a payment or a credit note on an invoice not posted
 * yet, a void of a memo not created yet) arrive out of order: Stripe sends them seconds apart, and the
 * earlier flow may itself be retrying. Such a record waits: it is retried from a short first delay,
 * doubling per receive, and its queue allows more receives than the others, so it waits ~25 minutes
 * for its predecessor before it goes to the DLQ (and its alarm).
 */

/** The code of a record waiting for its billing invoice to be posted to the ERP (flow 2). */
export const INVOICE_NOT_POSTED = 'InvoiceNotPostedYet';

/** First delay of a record waiting for its predecessor; a race expected to settle in seconds. */
export const AWAIT_BASE_SECONDS = 3;

/** Receives before the DLQ for a queue whose records may wait: 3 s doubling, capped at 15 min, ~25 min in all. */
export const AWAITING_MAX_RECEIVE_COUNT = 10;

/** The id an earlier flow linked, or a transient error with `code` so the record waits for it. */
export const awaitLinked = (linked: string | undefined, code: string, message: string): string => {
  if (linked === undefined) throw new TransientError(message, { code });
  return linked;
};

/**
 * A consumer's retry policy: `baseSeconds` doubling per receive, never sooner than the vendor's
 * Retry-After; the waiting codes start at `AWAIT_BASE_SECONDS` instead.
 */
export const retryPolicyAwaiting = (baseSeconds: number, awaitingCodes: readonly string[]): RetryPolicy => ({
  baseSeconds,
  baseSecondsByCode: Object.fromEntries(awaitingCodes.map((code) => [code, AWAIT_BASE_SECONDS])),
});

/**
 * The ERP ids of the billing invoice a document (a payment, a credit note) depends on, and the ERP id
 * already linked to the document itself, in one read of the links table. An invoice not posted yet
 * makes the record wait (`INVOICE_NOT_POSTED`); a posted invoice whose customer has no link is a data
 * fault (flow 2 links the customer before the invoice).
 */
export const awaitPostedInvoice = async (
  links: LinksRepository,
  billing: { readonly invoiceId: string; readonly customerBillingId: string },
  document: LinkKey,
): Promise<{
  erpInvoiceId: string;
  erpCustomerId: string;
  /** The subsidiary the saga booked the customer to; undefined for a customer the invoice flow made. */
  erpSubsidiaryId: string | undefined;
  linkedId: string | undefined;
}> => {
  const [linkedInvoiceId, erpCustomerId, linkedId, erpSubsidiaryId] = await links.find([
    { key: { entity: 'invoice', system: 'stripe', id: billing.invoiceId }, target: 'netsuite' },
    { key: { entity: 'customer', system: 'stripe', id: billing.customerBillingId }, target: 'netsuite' },
    { key: document, target: 'netsuite' },
    {
      key: { entity: 'customerSubsidiary', system: 'stripe', id: billing.customerBillingId },
      target: 'netsuite',
    },
  ]);
  const erpInvoiceId = awaitLinked(
    linkedInvoiceId,
    INVOICE_NOT_POSTED,
    `invoice ${billing.invoiceId} is not posted to the ERP yet`,
  );
  if (!erpCustomerId) {
    throw new PermanentError(`customer ${billing.customerBillingId} has no ERP link`, {
      code: 'CustomerNotLinked',
    });
  }
  return { erpInvoiceId, erpCustomerId, erpSubsidiaryId, linkedId };
};

/**
 * The mapping with the subsidiary a customer books to, where the saga recorded one: a transaction must
 * be in its customer's subsidiary, and a routed deal's customer may not be in the default one.
 */
export const withSubsidiary = <M extends { readonly subsidiaryId: string }>(
  mapping: M,
  erpSubsidiaryId: string | undefined,
): M => (erpSubsidiaryId === undefined ? mapping : { ...mapping, subsidiaryId: erpSubsidiaryId });
