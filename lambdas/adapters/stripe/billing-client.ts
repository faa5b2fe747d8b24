import Stripe from 'stripe';
import {
  AMENDMENT_METADATA_KEY,
  type AmendmentLine,
  hasAmendment,
  type ItemUpdate,
  itemsAdding,
  itemsRemoving,
  type ProrationBehavior,
  type SubscriptionAmendments,
} from '../../domain/amendment';
import type { BillingClient, Deal } from '../../domain/deal';
import type { SubscriptionReader, SubscriptionState } from '../../domain/sales-order-change';
import { PermanentError, parseRetryAfter, TransientError } from '../../shared/errors';
import { stripeSdk } from './sdk';

/**
 * The billing side of the quote-to-cash saga, on the official `stripe` SDK.
 *
 * Every write carries an idempotency key: the caller's key (derived from the deal) plus a suffix per
 * call kind, so a retried step replays Stripe's saved answer instead of creating a second object, and
 * one deal's customer, subscription and cancellation never share a key (Stripe rejects a key reused
 * for another endpoint). https://docs.stripe.com/api/idempotent_requests
 */

export interface StripeBillingClientOptions {
  /** The secret key, read from Secrets Manager (cached there); a rotated key gets a new SDK instance. */
  readonly apiKey: () => Promise<string>;
  /** `STRIPE_API_BASE_URL`; the local runtime points it at the Stripe twin. @default 'https://api.stripe.com' */
  readonly baseUrl?: string;
  /** Per request. @default 20000 */
  readonly timeoutMs?: number;
  /** `send_invoice` terms: no card is needed, Stripe emails the invoice. @default 30 */
  readonly daysUntilDue?: number;
  /** Replaces the SDK's Node HTTP client, e.g. `Stripe.createFetchHttpClient(fetch)`. */
  readonly httpClient?: Stripe.HttpClient;
}

const ENDED_STATUSES: ReadonlySet<string> = new Set(['canceled', 'incomplete_expired']);

/** The SDK's error classes carry their class name in `type`, which survives bundling. */
const TRANSIENT_TYPES: ReadonlySet<string> = new Set([
  'StripeRateLimitError',
  'StripeAPIError',
  'StripeConnectionError',
]);

export class StripeBillingClient implements BillingClient, SubscriptionReader, SubscriptionAmendments {
  private readonly client: () => Promise<Stripe>;

  constructor(private readonly options: StripeBillingClientOptions) {
    this.client = stripeSdk(options);
  }

  async upsertCustomer(deal: Deal, idempotencyKey: string): Promise<string> {
    if (deal.existing.billingCustomerId) return deal.existing.billingCustomerId;
    const stripe = await this.client();
    const found = await call('search customers', () =>
      stripe.customers.search({
        query: `metadata['revbridge_crm']:'${quote(deal.crm)}' AND metadata['revbridge_account_id']:'${quote(deal.account.id)}'`,
        limit: 1,
      }),
    );
    // Search finds the customer an earlier deal of the same account made. It lags writes by up to a
    // minute (https://docs.stripe.com/search#data-freshness), so a retry of this very step relies on
    // the idempotency key instead.
    const existing = found.data[0];
    if (existing) return existing.id;
    const { account } = deal;
    const address = account.billingAddress;
    const customer = await call('create customer', () =>
      stripe.customers.create(
        {
          name: account.name,
          ...(account.email ? { email: account.email } : {}),
          ...(address
            ? {
                address: {
                  line1: address.line1,
                  ...(address.line2 ? { line2: address.line2 } : {}),
                  city: address.city,
                  postal_code: address.postalCode,
                  ...(address.state ? { state: address.state } : {}),
                  country: address.country,
                },
              }
            : {}),
          metadata: {
            revbridge_crm: deal.crm,
            revbridge_account_id: account.id,
            revbridge_deal_id: deal.dealId,
          },
        },
        { idempotencyKey: `${idempotencyKey}-customer` },
      ),
    );
    return customer.id;
  }

  async createSubscription(
    deal: Deal,
    customerId: string,
    items: readonly { priceId: string; quantity: number }[],
    idempotencyKey: string,
  ): Promise<{ subscriptionId: string }> {
    const stripe = await this.client();
    const earlier = deal.existing.subscriptionId;
    if (earlier) {
      // An id written back by an earlier run is reused unless that run's compensation canceled it, or
      // billing no longer has it (reconciliation re-drives a deal whose subscription is gone).
      const subscription = await this.getSubscription(earlier);
      if (subscription && !ENDED_STATUSES.has(subscription.status))
        return { subscriptionId: subscription.id };
    }
    const subscription = await call('create subscription', () =>
      stripe.subscriptions.create(
        {
          customer: customerId,
          items: items.map((item) => ({ price: item.priceId, quantity: item.quantity })),
          currency: deal.currency.toLowerCase(),
          collection_method: 'send_invoice',
          days_until_due: this.options.daysUntilDue ?? 30,
          // Invoices copy the subscription's metadata: the invoice mapping reads the deal id from it.
          metadata: { revbridge_deal_id: deal.dealId, revbridge_crm: deal.crm },
        },
        { idempotencyKey: `${idempotencyKey}-subscription` },
      ),
    );
    return { subscriptionId: subscription.id };
  }

  async cancelSubscription(subscriptionId: string, idempotencyKey: string): Promise<void> {
    const stripe = await this.client();
    try {
      // Cancel now, without a proration credit or a final invoice: the invoices already issued stay
      // (finance-safe), and crediting them is a decision for finance, not for an automatic undo.
      // Cancel is a DELETE, on which Stripe ignores the key (it only shows in Stripe's request log):
      // what makes a repeated cancel safe is the already-canceled check below.
      await stripe.subscriptions.cancel(
        subscriptionId,
        { prorate: false, invoice_now: false },
        { idempotencyKey: `${idempotencyKey}-cancel` },
      );
    } catch (error) {
      // Stripe refuses to cancel a subscription twice; for a compensation that is success.
      if (isStripeError(error) && error.type === 'StripeInvalidRequestError') {
        const current = await stripe.subscriptions.retrieve(subscriptionId).catch(() => undefined);
        if (current && ENDED_STATUSES.has(current.status)) return;
      }
      throw toBillingError(error, 'cancel subscription');
    }
  }

  /**
   * The subscription as Stripe has it now, for a consumer that must not trust the event's copy (stale,
   * or delivered after a newer one). null when Stripe does not know it.
   */
  async getSubscription(subscriptionId: string): Promise<SubscriptionState | null> {
    const stripe = await this.client();
    let subscription: Stripe.Subscription;
    try {
      subscription = await stripe.subscriptions.retrieve(subscriptionId);
    } catch (error) {
      if (isStripeError(error) && error.statusCode === 404) return null;
      throw toBillingError(error, 'retrieve subscription');
    }
    return toSubscriptionState(subscription);
  }

  /**
   * The amendment's lines added to the subscription's items in one update, carrying the amendment's
   * key twice: as the Idempotency-Key (a retried request replays Stripe's answer) and in the metadata
   * (a step retried after the answer was lost sees the amendment taken, and adds nothing again).
   */
  async applyAmendment(
    subscriptionId: string,
    lines: readonly AmendmentLine[],
    amendmentKey: string,
    proration: ProrationBehavior,
  ): Promise<SubscriptionState> {
    const current = await this.currentSubscription(subscriptionId);
    if (hasAmendment(current, amendmentKey)) return current;
    return this.updateItems(subscriptionId, itemsAdding(current, lines), amendmentKey, proration, 'amend');
  }

  async revertAmendment(
    subscriptionId: string,
    lines: readonly AmendmentLine[],
    amendmentKey: string,
    proration: ProrationBehavior,
  ): Promise<'reverted' | 'not-applied'> {
    const current = await this.currentSubscription(subscriptionId);
    if (!hasAmendment(current, amendmentKey)) return 'not-applied';
    // The metadata is cleared: once reverted, the subscription no longer has this amendment.
    await this.updateItems(
      subscriptionId,
      itemsRemoving(current, lines),
      '',
      proration,
      'revert',
      amendmentKey,
    );
    return 'reverted';
  }

  private async currentSubscription(subscriptionId: string): Promise<SubscriptionState> {
    const current = await this.getSubscription(subscriptionId);
    if (!current) {
      throw new PermanentError(`subscription ${subscriptionId} is not in Stripe`, {
        code: 'SubscriptionNotFound',
      });
    }
    return current;
  }

  private async updateItems(
    subscriptionId: string,
    items: readonly ItemUpdate[],
    marker: string,
    proration: ProrationBehavior,
    what: 'amend' | 'revert',
    amendmentKey = marker,
  ): Promise<SubscriptionState> {
    const stripe = await this.client();
    const updated = await call(`${what} subscription`, () =>
      stripe.subscriptions.update(
        subscriptionId,
        {
          items: items.map((item) => ({ ...item })),
          proration_behavior: proration,
          metadata: { [AMENDMENT_METADATA_KEY]: marker },
        },
        { idempotencyKey: `${amendmentKey}-${what}` },
      ),
    );
    return toSubscriptionState(updated);
  }
}

/** The SDK for the current key: one place builds it (./sdk); re-exported for the readers. */
export { stripeSdk } from './sdk';

const iso = (unixSeconds: number | null | undefined): string | null =>
  unixSeconds === null || unixSeconds === undefined ? null : new Date(unixSeconds * 1000).toISOString();

export const toSubscriptionState = (subscription: Stripe.Subscription): SubscriptionState => {
  if (subscription.items.has_more) {
    throw new PermanentError(`subscription ${subscription.id} has more items than one page`, {
      code: 'SubscriptionItemsTruncated',
    });
  }
  return {
    id: subscription.id,
    status: subscription.status,
    currency: subscription.currency.toUpperCase(),
    items: subscription.items.data.map((item) => {
      const { price } = item;
      if (price.unit_amount === null) {
        // Tiered and custom-unit prices have no single unit amount to put on an order line.
        throw new PermanentError(`price ${price.id} has no unit amount`, { code: 'PriceNotPerUnit' });
      }
      return {
        id: item.id,
        priceId: price.id,
        lookupKey: price.lookup_key ?? null,
        productId: typeof price.product === 'string' ? price.product : price.product.id,
        unitAmount: price.unit_amount,
        quantity: item.quantity ?? 1,
      };
    }),
    endedAt: iso(subscription.ended_at),
    metadata: subscription.metadata ?? {},
  };
};

/** Stripe's search syntax quotes values with `'`; a quote inside is escaped with a backslash. */
const quote = (value: string): string => value.replace(/\\/g, '\\\\').replace(/'/g, "\\'");

const isStripeError = (error: unknown): error is Stripe.errors.StripeError =>
  error instanceof Stripe.errors.StripeError;

const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
  try {
    return await run();
  } catch (error) {
    throw toBillingError(error, what);
  }
};

/**
 * The SDK's errors in the shared taxonomy: rate limits, Stripe's 5xx (and 409 lock conflicts, which
 * the SDK reports as API errors) and connection failures can pass on a retry; invalid requests, card
 * declines, authentication, permission and idempotency-key misuse cannot.
 * https://docs.stripe.com/error-handling#error-types
 */
export const toBillingError = (error: unknown, what: string): Error => {
  if (!isStripeError(error)) return error instanceof Error ? error : new Error(String(error));
  const code = error.code ?? error.type;
  const status = error.statusCode;
  // Stripe's own message can quote what was sent (an email address): only the code and the parameter
  // name travel on; the SDK error stays as the cause.
  const message = `Stripe ${what} failed: ${code}${error.param ? ` (${error.param})` : ''}`;
  const details = { code, ...(status === undefined ? {} : { status }) };
  if (TRANSIENT_TYPES.has(error.type)) {
    const retryAfterSeconds = parseRetryAfter(error.headers?.['retry-after']);
    return new TransientError(
      message,
      { ...details, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) },
      { cause: error },
    );
  }
  return new PermanentError(message, details, { cause: error });
};
