import { type CanonicalEvent, followUpEvent, type InvoicePosted } from '../domain/events';
import type { ErpLedger, EventPublisher, LinksRepository } from '../domain/ports';

export const FLOW = 'post-invoice';

export interface PostInvoiceDeps {
  readonly erp: Pick<ErpLedger, 'upsertBillingCustomer' | 'upsertInvoice'>;
  readonly links: LinksRepository;
  readonly publisher: EventPublisher;
}

export type PostInvoiceResult = { outcome: 'posted'; posted: InvoicePosted; alreadyPosted: boolean };

/**
 * Posts a finalized billing invoice as an ERP AR invoice. Every step is safe to run again: the ERP
 * customer and invoice are upserted by external id, and an invoice whose ERP id is already linked
 * is not written a second time (a retry after a failed publish only publishes).
 *
 * Errors propagate: the event consumer retries a transient one and opens an exception for a permanent one.
 */
export const postInvoice = async (
  event: CanonicalEvent<'billing.invoice.finalized'>,
  deps: PostInvoiceDeps,
): Promise<PostInvoiceResult> => {
  const invoice = event.data;
  const invoiceKey = { entity: 'invoice', system: 'stripe', id: invoice.id } as const;
  const customerKey = { entity: 'customer', system: 'stripe', id: invoice.customer.billingId } as const;

  let [erpCustomerId, erpInvoiceId, erpSubsidiaryId] = await deps.links.find([
    { key: customerKey, target: 'netsuite' },
    { key: invoiceKey, target: 'netsuite' },
    {
      key: { entity: 'customerSubsidiary', system: 'stripe', id: invoice.customer.billingId },
      target: 'netsuite',
    },
  ]);
  // A customer the saga made books to the subsidiary the deal was routed to, not the default one.
  if (!erpCustomerId) {
    erpCustomerId = await deps.erp.upsertBillingCustomer(invoice.customer, invoice.currency, erpSubsidiaryId);
    await deps.links.record(customerKey, 'netsuite', erpCustomerId, event.id);
  }

  const alreadyPosted = erpInvoiceId !== undefined;
  if (!erpInvoiceId) {
    erpInvoiceId = await deps.erp.upsertInvoice(invoice, erpCustomerId, erpSubsidiaryId);
    // Forward only: the ERP invoice carries the billing id as its external id, which is how
    // reconciliation and the trail find their way back (a reverse item was a write per invoice).
    await deps.links.record(invoiceKey, 'netsuite', erpInvoiceId, event.id, { reverse: false });
  }

  const posted: InvoicePosted = {
    invoiceId: invoice.id,
    erpInvoiceId,
    erpCustomerId,
    total: invoice.total,
    currency: invoice.currency,
  };
  await deps.publisher.publish([followUpEvent(event, 'erp.invoice.posted', 'netsuite', posted)]);
  return { outcome: 'posted', posted, alreadyPosted };
};
