import { type CanonicalEvent, followUpEvent, type PaymentApplied } from '../domain/events';
import type { ErpLedger, EventPublisher, LinksRepository } from '../domain/ports';
import { awaitPostedInvoice, INVOICE_NOT_POSTED } from '../shared/awaited-link';

export const FLOW = 'apply-payment';

/**
 * A payment can arrive before its invoice is posted (Stripe sends `invoice.paid` seconds after
 * `invoice.finalized`, and the posting may itself be retrying): it waits (lambdas/shared/awaited-link.ts).
 */
export { INVOICE_NOT_POSTED };

export interface ApplyPaymentDeps {
  readonly erp: Pick<ErpLedger, 'upsertPayment'>;
  readonly links: LinksRepository;
  readonly publisher: EventPublisher;
}

export type ApplyPaymentResult =
  | { outcome: 'applied'; applied: PaymentApplied; alreadyApplied: boolean }
  | { outcome: 'nothing-to-apply' };

/** A payment without a billing payment id (paid out of band, or by credit balance) is keyed by its invoice. */
export const paymentExternalId = (event: CanonicalEvent<'billing.invoice.paid'>): string =>
  event.data.paymentId ?? `${event.data.invoiceId}-payment`;

/**
 * Applies a paid billing invoice's cash in the ERP: a customer payment, upserted by external id, applied
 * to the ERP invoice flow 2 posted. A payment whose ERP id is already linked is not written again (a
 * retry after a failed publish only publishes).
 *
 * The invoice not being posted yet is transient (events arrive out of order); other transient errors
 * propagate too, and the queue retries. The event consumer opens an exception for a permanent one.
 */
export const applyPayment = async (
  event: CanonicalEvent<'billing.invoice.paid'>,
  deps: ApplyPaymentDeps,
): Promise<ApplyPaymentResult> => {
  const payment = event.data;
  // A zero payment (a 0-amount invoice, or one settled by credit balance) moves no cash; NetSuite
  // refuses a customer payment that is not greater than zero.
  if (payment.amount <= 0) return { outcome: 'nothing-to-apply' };
  const externalId = paymentExternalId(event);
  const paymentKey = { entity: 'payment', system: 'stripe', id: externalId } as const;
  const {
    erpInvoiceId,
    erpCustomerId,
    erpSubsidiaryId,
    linkedId: linkedPaymentId,
  } = await awaitPostedInvoice(deps.links, payment, paymentKey);

  const alreadyApplied = linkedPaymentId !== undefined;
  let erpPaymentId = linkedPaymentId;
  if (!erpPaymentId) {
    erpPaymentId = await deps.erp.upsertPayment(
      payment,
      externalId,
      { customerId: erpCustomerId, invoiceId: erpInvoiceId },
      erpSubsidiaryId,
    );
    await deps.links.record(paymentKey, 'netsuite', erpPaymentId, event.id);
  }

  const applied: PaymentApplied = {
    invoiceId: payment.invoiceId,
    paymentExternalId: externalId,
    erpPaymentId,
    erpInvoiceId,
    erpCustomerId,
    amount: payment.amount,
    currency: payment.currency,
  };
  await deps.publisher.publish([followUpEvent(event, 'erp.payment.applied', 'netsuite', applied)]);
  return { outcome: 'applied', applied, alreadyApplied };
};
