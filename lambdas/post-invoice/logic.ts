import type { NetSuiteClient } from '../adapters/netsuite/client';
import { type NetSuiteMapping, toNetSuiteCustomer, toNetSuiteInvoice } from '../adapters/netsuite/map';
import { type CanonicalEvent, followUpEvent, type InvoicePosted } from '../domain/events';
import type { EventPublisher, LinksRepository } from '../domain/ports';
import { withSubsidiary } from '../shared/awaited-link';

export const FLOW = 'post-invoice';

export interface PostInvoiceDeps {
  readonly netsuite: Pick<NetSuiteClient, 'upsert'>;
  readonly links: LinksRepository;
  readonly publisher: EventPublisher;
  readonly mapping: NetSuiteMapping;
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
  const mapping = withSubsidiary(deps.mapping, erpSubsidiaryId);
  if (!erpCustomerId) {
    erpCustomerId = await deps.netsuite.upsert(
      'customer',
      invoice.customer.billingId,
      toNetSuiteCustomer(invoice.customer, invoice.currency, mapping),
    );
    await deps.links.record(customerKey, 'netsuite', erpCustomerId, event.id);
  }

  const alreadyPosted = erpInvoiceId !== undefined;
  if (!erpInvoiceId) {
    erpInvoiceId = await deps.netsuite.upsert(
      'invoice',
      invoice.id,
      toNetSuiteInvoice(invoice, erpCustomerId, mapping),
      // Replace, not append: an invoice upserted again (reconciliation re-drives one whose ERP copy
      // was altered) must end with the billing lines once, not twice.
      { replace: ['item'] },
    );
    await deps.links.record(invoiceKey, 'netsuite', erpInvoiceId, event.id);
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
