import type { ErpLedger } from '../../domain/ports';
import { withSubsidiary } from '../../shared/awaited-link';
import type { NetSuiteClient } from './client';
import { type NetSuiteMapping, toNetSuiteCustomer, toNetSuiteInvoice, toNetSuitePayment } from './map';

/**
 * The billing flows' ERP port on NetSuite's REST record API: every document upserted by its billing
 * id as external id, in the subsidiary the saga routed its customer to when it did.
 */

type Upsert = Pick<NetSuiteClient, 'upsert'>;

/** Cash application only: it is told the subsidiary and currency ids, not the items. */
export const netSuitePaymentLedger = (
  client: Upsert,
  mapping: Pick<NetSuiteMapping, 'subsidiaryId' | 'currencyIds'>,
): Pick<ErpLedger, 'upsertPayment'> => ({
  upsertPayment: (payment, externalId, applyTo, subsidiaryId) =>
    client.upsert(
      'customerPayment',
      externalId,
      toNetSuitePayment(payment, externalId, applyTo, withSubsidiary(mapping, subsidiaryId)),
      // Replace, not append: a repeated upsert must not apply the payment to the invoice twice.
      { replace: ['apply'] },
    ),
});

export const netSuiteErpLedger = (client: Upsert, mapping: NetSuiteMapping): ErpLedger => ({
  ...netSuitePaymentLedger(client, mapping),
  upsertBillingCustomer: (customer, currency, subsidiaryId) =>
    client.upsert(
      'customer',
      customer.billingId,
      toNetSuiteCustomer(customer, currency, withSubsidiary(mapping, subsidiaryId)),
    ),
  upsertInvoice: (invoice, erpCustomerId, subsidiaryId) =>
    client.upsert(
      'invoice',
      invoice.id,
      toNetSuiteInvoice(invoice, erpCustomerId, withSubsidiary(mapping, subsidiaryId)),
      // Replace, not append: an invoice upserted again (reconciliation re-drives one whose ERP copy
      // was altered) must end with the billing lines once, not twice.
      { replace: ['item'] },
    ),
});
