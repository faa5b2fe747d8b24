import type { Ctx } from './context';
import { invoiceOf } from './context';
import { attemptPayment, paymentMethodFor, recordMissingPaymentMethod } from './invoices';
import type { InvoiceRecord } from './store';

/**
 * The automatic retry Stripe makes at `next_payment_attempt`, run now (as a test clock advancing to
 * it would): one more attempt with the invoice's payment method, or `paymentMethod` (a decline token
 * makes it fail again). It emits what Stripe emits: `invoice.payment_failed` with the next retry of
 * the schedule (or none after the last), or `invoice.paid`.
 */
export function retryScheduledPayment(ctx: Ctx, invoiceId: string, paymentMethod?: string): InvoiceRecord {
  const invoice = invoiceOf(ctx.store, invoiceId);
  if (invoice.status !== 'open' || invoice.nextPaymentAttempt === null) {
    throw new Error(`invoice ${invoiceId} has no scheduled payment retry (status ${invoice.status})`);
  }
  const method = paymentMethodFor(ctx, invoice, paymentMethod);
  if (method === null) recordMissingPaymentMethod(ctx, invoice);
  // An automatic retry answers nobody: a decline is recorded on the invoice and in its events.
  else attemptPayment(ctx, invoice, method);
  return invoice;
}
