import { mapStripeEvent, parseStripeEvent } from '../../lambdas/adapters/stripe/map';
import { type CanonicalEvent, parseEvent } from '../../lambdas/domain/events';
import { stripeEventFor, vendorJson } from './fixtures';

/**
 * Canonical events for unit tests, made the way the ingest makes them: Stripe's own invoice sample
 * through the real mapper, or a won HubSpot deal.
 */

const fromStripe = <T extends 'billing.invoice.finalized' | 'billing.invoice.paid'>(
  stripeType: string,
  object: Record<string, unknown>,
  type: T,
): CanonicalEvent<T> =>
  parseEvent(mapStripeEvent(parseStripeEvent(stripeEventFor(stripeType, object)), 'acct_test'), type);

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
