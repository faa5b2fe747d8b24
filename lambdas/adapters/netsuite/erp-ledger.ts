import type { ErpLedger } from '../../domain/ports';
import { withSubsidiary } from '../../shared/awaited-link';
import type { NetSuiteClient } from './client';
import {
  type NetSuiteMapping,
  toNetSuiteCreditMemo,
  toNetSuiteCustomer,
  toNetSuiteInvoice,
  toNetSuitePayment,
} from './map';

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

type CreditMemoMethods = 'upsertCreditMemo' | 'findCreditMemo' | 'voidCreditMemo';

/** Credit notes: the memos are upserted, and also read and voided. */
export const netSuiteCreditMemoLedger = (
  client: Pick<NetSuiteClient, 'upsert' | 'getByExternalId' | 'voidTransaction'>,
  mapping: NetSuiteMapping,
): Pick<ErpLedger, CreditMemoMethods> => ({
  upsertCreditMemo: async (note, lineProducts, applyTo, subsidiaryId) => {
    // The products only decide the item of a line that credits an invoice line, and only when some
    // product maps to an item of its own: otherwise every line takes the default item, unasked.
    const products =
      note.lines.some((line) => line.invoiceLineId !== null) && Object.keys(mapping.productItemIds).length > 0
        ? await lineProducts()
        : new Map<string, string | null>();
    return client.upsert(
      'creditMemo',
      note.id,
      toNetSuiteCreditMemo(note, products, applyTo, withSubsidiary(mapping, subsidiaryId)),
      // Replace, not append: a repeated upsert must neither duplicate the lines nor apply the memo twice.
      { replace: ['item', 'apply'] },
    );
  },
  findCreditMemo: async (creditNoteId) => {
    const memo = await client.getByExternalId('creditMemo', creditNoteId);
    return memo ? { id: memo.id, voided: memo.voided === true } : null;
  },
  voidCreditMemo: (erpCreditMemoId) => client.voidTransaction('creditMemo', erpCreditMemoId),
});

/** Invoices, their customers and payments: upserts only (credit memos: `netSuiteCreditMemoLedger`). */
export const netSuiteErpLedger = (
  client: Upsert,
  mapping: NetSuiteMapping,
): Omit<ErpLedger, CreditMemoMethods> => ({
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
