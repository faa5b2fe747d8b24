import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { mapStripeEvent, parseStripeEvent } from '../../lambdas/adapters/stripe/map';
import { canonicalEventId, parseEvent } from '../../lambdas/domain/events';
import { PermanentError } from '../../lambdas/shared/errors';
import { stripeEventFor, VENDOR_FIXTURES, vendorJson } from '../support/fixtures';

const ACCOUNT = 'acct_revbridgetest';
const map = (event: unknown) => mapStripeEvent(parseStripeEvent(event), ACCOUNT);

describe('Stripe events to canonical events', () => {
  const invoice = vendorJson('stripe/resources/invoice.json');

  it('maps Stripe’s own invoice sample to a canonical finalized invoice in integer minor units', () => {
    const event = map(stripeEventFor('invoice.finalized', invoice));
    expect(event).not.toBeNull();
    const parsed = parseEvent(event, 'billing.invoice.finalized');
    expect(parsed.data).toMatchObject({
      id: invoice.id,
      customer: { billingId: invoice.customer },
      currency: 'USD',
      total: invoice.total,
      subtotal: invoice.subtotal,
      amountDue: invoice.amount_due,
    });
    expect(parsed.data.lines).toHaveLength(1);
    expect(Number.isInteger(parsed.data.lines[0]?.amount)).toBe(true);
    expect(parsed.correlationId).toBe(invoice.id);
    expect(parsed.source).toEqual({ vendor: 'stripe', account: ACCOUNT, eventId: 'evt_fixture_1' });
  });

  it('gives the same canonical id to the same Stripe event delivered twice', () => {
    const first = map(stripeEventFor('invoice.finalized', invoice, 'evt_twice'));
    const second = map(stripeEventFor('invoice.finalized', invoice, 'evt_twice'));
    expect(first?.id).toBe(second?.id);
    expect(first?.id).toBe(canonicalEventId('stripe', ACCOUNT, 'evt_twice', 'billing.invoice.finalized'));
    expect(map(stripeEventFor('invoice.finalized', invoice, 'evt_other'))?.id).not.toBe(first?.id);
  });

  it('reads tax from total_taxes on current API versions and from tax on legacy ones', () => {
    const current = map(
      stripeEventFor('invoice.finalized', {
        ...invoice,
        total: 1200,
        total_taxes: [{ amount: 150 }, { amount: 50 }],
      }),
    );
    expect(parseEvent(current, 'billing.invoice.finalized').data.tax).toBe(200);
    const legacy = map(stripeEventFor('invoice.finalized', { ...invoice, total_taxes: undefined, tax: 80 }));
    expect(parseEvent(legacy, 'billing.invoice.finalized').data.tax).toBe(80);
  });

  it('maps paid and payment-failed invoices to payment events', () => {
    const paid = parseEvent(map(stripeEventFor('invoice.paid', invoice)), 'billing.invoice.paid');
    expect(paid.data).toMatchObject({
      invoiceId: invoice.id,
      amount: invoice.amount_paid,
      failureReason: null,
    });
    const failed = parseEvent(
      map(stripeEventFor('invoice.payment_failed', invoice)),
      'billing.payment.failed',
    );
    expect(failed.data.amount).toBe(invoice.amount_due);
    expect(failed.data.failureReason).not.toBeNull();
  });

  it('gives a payment failure what dunning needs: amount due, attempts as its version, and the next retry', () => {
    const failed = parseEvent(
      map(
        stripeEventFor('invoice.payment_failed', {
          ...invoice,
          attempt_count: 3,
          amount_remaining: 700,
          next_payment_attempt: 1_722_213_254,
        }),
      ),
      'billing.payment.failed',
    );
    expect(failed.version).toBe(3);
    expect(failed.data).toMatchObject({
      invoiceId: invoice.id,
      attemptCount: 3,
      amountDue: 700,
      nextPaymentAttemptAt: '2024-07-29T00:34:14.000Z',
    });
    const last = map(stripeEventFor('invoice.payment_failed', { ...invoice, next_payment_attempt: null }));
    expect(parseEvent(last, 'billing.payment.failed').data.nextPaymentAttemptAt).toBeNull();
  });

  it('maps Stripe’s credit note sample to a canonical credit note', () => {
    const note = vendorJson('stripe/resources/credit_note.json');
    const event = parseEvent(map(stripeEventFor('credit_note.created', note)), 'billing.credit_note.created');
    expect(event.data).toMatchObject({ id: note.id, total: note.total, invoiceId: note.invoice });
  });

  it('maps a credit note’s lines, tax and pre-payment part, and credit_note.voided to billing.credit_note.voided', () => {
    const note = {
      ...vendorJson<Record<string, unknown>>('stripe/resources/credit_note.json'),
      status: 'void',
    };
    const event = parseEvent(map(stripeEventFor('credit_note.voided', note)), 'billing.credit_note.voided');
    expect(event.correlationId).toBe('in_1Pgc75B7WZ01zgkWYv4iMwt7');
    expect(event.data).toMatchObject({
      status: 'void',
      subtotal: 1690,
      tax: 0,
      total: 1690,
      voidedAt: '2009-02-13T23:31:30.000Z',
      lines: [
        { invoiceLineId: 'il_1Pgc74B7WZ01zgkWWh45tUBA', amount: 1190, quantity: 1 },
        { invoiceLineId: null, amount: 500, description: 'Service credit' },
      ],
    });
  });

  it('rejects a credit note whose lines do not all fit in the event', () => {
    const note = vendorJson<{ lines: Record<string, unknown> }>('stripe/resources/credit_note.json');
    expect(() =>
      map(stripeEventFor('credit_note.created', { ...note, lines: { ...note.lines, has_more: true } })),
    ).toThrow(expect.objectContaining({ code: 'CreditNoteLinesTruncated' }));
  });

  it.each([
    ['customer.subscription.created', 'billing.subscription.created'],
    ['customer.subscription.updated', 'billing.subscription.updated'],
    ['customer.subscription.deleted', 'billing.subscription.canceled'],
  ] as const)('maps Stripe’s subscription sample in %s to %s', (stripeType, canonicalType) => {
    const subscription = vendorJson('stripe/resources/subscription.json');
    const event = parseEvent(map(stripeEventFor(stripeType, subscription)), canonicalType);
    expect(event.data.id).toBe(subscription.id);
    expect(event.data.items.length).toBeGreaterThan(0);
  });

  it('returns null for event types revbridge does not handle', () => {
    expect(map(stripeEventFor('customer.created', vendorJson('stripe/resources/customer.json')))).toBeNull();
  });

  it('rejects an invoice without a customer with an error that names the field', () => {
    const { customer: _dropped, ...withoutCustomer } = invoice;
    expect(() => map(stripeEventFor('invoice.finalized', withoutCustomer))).toThrow(PermanentError);
    expect(() => map(stripeEventFor('invoice.finalized', withoutCustomer))).toThrow(/data\.object\.customer/);
  });

  it('rejects an invoice whose lines the event truncated, rather than posting part of it', () => {
    const truncated = { ...invoice, lines: { ...(invoice.lines as object), has_more: true } };
    expect(() => map(stripeEventFor('invoice.finalized', truncated))).toThrow(/more lines/);
  });

  it('rejects an envelope that is not a Stripe event, naming the field', () => {
    expect(() => parseStripeEvent({ id: 'evt_1', type: 'invoice.finalized' })).toThrow(/event\.object/);
  });

  describe('legacy webhook envelopes (mozilla/subhub, old API versions)', () => {
    const dir = path.join(VENDOR_FIXTURES, 'stripe', 'events-legacy-api');
    const files = readdirSync(dir).filter((file) => file.endsWith('.json'));

    // What each legacy envelope must become: a canonical type, or null where revbridge ignores the type.
    const expected: Record<string, string | null> = {
      'charge.refunded.json': null,
      'charge.succeeded.json': null,
      'customer.created.json': null,
      'customer.deleted.json': null,
      'customer.updated.json': null,
      'customer.subscription.created.json': 'billing.subscription.created',
      'customer.subscription.deleted.json': 'billing.subscription.canceled',
      'customer.subscription.updated.cancel.json': 'billing.subscription.updated',
      'customer.subscription.updated.plan-change.json': 'billing.subscription.updated',
      'invoice.finalized.json': 'billing.invoice.finalized',
      'invoice.payment_failed.json': 'billing.payment.failed',
      'invoice.payment_succeeded.json': null,
      'payment_intent.succeeded.json': null,
    };

    it('covers every legacy fixture', () => {
      expect(files.sort()).toEqual(Object.keys(expected).sort());
    });

    it.each(Object.entries(expected))('%s maps to %s', (file, type) => {
      const event = map(vendorJson(`stripe/events-legacy-api/${file}`));
      if (type === null) expect(event).toBeNull();
      else expect(parseEvent(event).type).toBe(type);
    });

    it('rejects a legacy subscription with no currency anywhere, naming the field', () => {
      const payload = vendorJson<{ data: { object: { items: { data: Record<string, unknown>[] } } } }>(
        'stripe/events-legacy-api/customer.subscription.created.json',
      );
      payload.data.object.items.data = payload.data.object.items.data.map((item) => ({
        ...item,
        plan: { id: 'plan_x' },
      }));
      expect(() => map(payload)).toThrow(/data\.object\.currency/);
    });

    it('rejects a legacy subscription whose items carry neither price nor plan, naming the field', () => {
      const payload = vendorJson<{
        data: { object: { currency?: string; items: { data: Record<string, unknown>[] } } };
      }>('stripe/events-legacy-api/customer.subscription.created.json');
      const item = payload.data.object.items.data[0] ?? {};
      payload.data.object.currency = 'usd';
      payload.data.object.items.data = [{ ...item, plan: null, price: null }];
      expect(() => map(payload)).toThrow(/data\.object\.items\.data\.0\.price/);
    });

    it('maps the legacy invoice.finalized, reading tax and lines from legacy fields', () => {
      const payload = vendorJson<{ data: { object: { id: string; tax: number; total: number } } }>(
        'stripe/events-legacy-api/invoice.finalized.json',
      );
      const event = parseEvent(map(payload), 'billing.invoice.finalized');
      expect(event.data.id).toBe(payload.data.object.id);
      expect(event.data.total).toBe(payload.data.object.total);
      expect(event.data.lines[0]?.priceId).toMatch(/^plan_/);
    });
  });
});
