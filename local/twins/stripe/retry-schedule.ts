import type { InvoiceRecord } from './store';

const DAY = 86_400;

/**
 * When Stripe collects a failed invoice again: a custom retry schedule, in days after the previous
 * attempt (the Billing settings' "Retry schedule"; Smart Retries pick their own times within the same
 * window). After the last retry Stripe stops (`next_payment_attempt: null`) and takes the configured
 * final action. Only invoices Stripe collects itself are retried: `charge_automatically` with
 * `auto_advance`; a `send_invoice` one waits for the customer. https://docs.stripe.com/billing/revenue-recovery/smart-retries
 */
export const STRIPE_TWIN_RETRY_SCHEDULE_DAYS: readonly number[] = [3, 5, 7];

/** `next_payment_attempt` after the invoice's `attemptCount`-th attempt failed at `now` (unix seconds). */
export function nextPaymentAttemptAfterFailure(
  invoice: Pick<InvoiceRecord, 'attemptCount' | 'autoAdvance' | 'collectionMethod'>,
  now: number,
  scheduleDays: readonly number[] = STRIPE_TWIN_RETRY_SCHEDULE_DAYS,
): number | null {
  if (!invoice.autoAdvance || invoice.collectionMethod !== 'charge_automatically') return null;
  const days = scheduleDays[invoice.attemptCount - 1];
  return days === undefined ? null : now + days * DAY;
}
