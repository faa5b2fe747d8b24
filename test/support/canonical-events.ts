import { mapStripeEvent, parseStripeEvent } from '../../lambdas/adapters/stripe/map';
import { type CanonicalEvent, parseEvent } from '../../lambdas/domain/events';
import { stripeEventFor, vendorJson } from './fixtures';

/**
 * Canonical events for unit tests, made the way the ingest makes them: Stripe's own invoice sample
 * through the real mapper, or a won HubSpot deal.
 */

const fromStripe = <
  T extends
    | 'billing.invoice.finalized'
    | 'billing.invoice.paid'
    | 'billing.payment.failed'
    | 'billing.subscription.updated'
    | 'billing.subscription.canceled',
>(
  stripeType: string,
  object: Record<string, unknown>,
  type: T,
  event: { id?: string; created?: number } = {},
): CanonicalEvent<T> =>
  parseEvent(
    mapStripeEvent(
      parseStripeEvent({
        ...stripeEventFor(stripeType, object, event.id),
        ...(event.created ? { created: event.created } : {}),
      }),
      'acct_test',
    ),
    type,
  );

export const invoiceFinalizedEvent = (
  overrides: Record<string, unknown> = {},
): CanonicalEvent<'billing.invoice.finalized'> =>
  fromStripe(
    'invoice.finalized',
    { ...vendorJson<Record<string, unknown>>('stripe/resources/invoice.json'), ...overrides },
    'billing.invoice.finalized',
  );

/** Stripe's invoice sample, paid by a payment intent. */
export const invoicePaidEvent = (
  overrides: Record<string, unknown> = {},
  event: { id?: string; created?: number } = {},
): CanonicalEvent<'billing.invoice.paid'> =>
  fromStripe(
    'invoice.paid',
    {
      ...vendorJson<Record<string, unknown>>('stripe/resources/invoice.json'),
      status: 'paid',
      amount_paid: 1234,
      payment_intent: 'pi_test_1',
      status_transitions: { paid_at: 1_721_954_054 },
      ...overrides,
    },
    'billing.invoice.paid',
    event,
  );

/**
 * Stripe's invoice sample after its `attempt`-th collection attempt failed, with the next retry
 * `nextAttempt` (unix seconds, or null when Stripe will not retry); `created` orders the events.
 */
export const paymentFailedEvent = (
  attempt: number,
  options: {
    nextAttempt?: number | null;
    created?: number;
    invoice?: Record<string, unknown>;
    id?: string;
  } = {},
): CanonicalEvent<'billing.payment.failed'> =>
  fromStripe(
    'invoice.payment_failed',
    {
      ...vendorJson<Record<string, unknown>>('stripe/resources/invoice.json'),
      status: 'open',
      attempted: true,
      attempt_count: attempt,
      next_payment_attempt: options.nextAttempt === undefined ? 1_722_213_254 : options.nextAttempt,
      ...options.invoice,
    },
    'billing.payment.failed',
    { id: options.id ?? `evt_failed_${attempt}`, created: options.created ?? 1_721_954_054 + attempt * 60 },
  );

/** Stripe's credit note sample (an invoice line of 11.90 and a custom line of 5.00), as created or voided. */
export const creditNoteEvent = <T extends 'billing.credit_note.created' | 'billing.credit_note.voided'>(
  type: T,
  overrides: Record<string, unknown> = {},
): CanonicalEvent<T> =>
  parseEvent(
    mapStripeEvent(
      parseStripeEvent(
        stripeEventFor(
          type === 'billing.credit_note.created' ? 'credit_note.created' : 'credit_note.voided',
          {
            ...vendorJson<Record<string, unknown>>('stripe/resources/credit_note.json'),
            // The sample's pre/post split is filler; this note reduced what was left to pay by all of it.
            pre_payment_amount: 1690,
            post_payment_amount: 0,
            ...(type === 'billing.credit_note.voided' ? { status: 'void' } : { voided_at: null }),
            ...overrides,
          },
        ),
      ),
      'acct_test',
    ),
    type,
  );

export const dealWonEvent = (
  version = '2026-03-01T10:00:00.000+0000',
  id = 'evt_won_1',
): CanonicalEvent<'crm.deal.won'> =>
  parseEvent(
    {
      id,
      type: 'crm.deal.won',
      version: 1,
      occurredAt: '2026-03-01T10:00:00.000Z',
      source: { vendor: 'hubspot', account: '62515', eventId: '1' },
      correlationId: '1234567',
      causationId: null,
      data: { crm: 'hubspot', dealId: '1234567', version, stage: 'closedwon', name: null, accountId: null },
    },
    'crm.deal.won',
  );

/** Stripe's subscription sample as `customer.subscription.updated` (or `.deleted`), with its own id. */
export const subscriptionEvent = (
  type: 'billing.subscription.updated' | 'billing.subscription.canceled' = 'billing.subscription.updated',
  overrides: Record<string, unknown> = {},
): CanonicalEvent<'billing.subscription.updated' | 'billing.subscription.canceled'> =>
  fromStripe(
    type === 'billing.subscription.updated'
      ? 'customer.subscription.updated'
      : 'customer.subscription.deleted',
    { ...vendorJson<Record<string, unknown>>('stripe/resources/subscription.json'), ...overrides },
    type,
  );
