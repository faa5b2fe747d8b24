import type { SubscriptionReader, SubscriptionState } from './sales-order-change';

/**
 * An amendment or upsell won in the CRM against an active contract, as billing applies it: the
 * amendment's lines are what it adds (seats, a product) to the subscription's items, priced from the
 * catalog. The subscription remembers the last amendment it took (metadata `revbridge_amendment`), so
 * applying one twice adds nothing twice, and undoing it knows exactly what to take back.
 */

/** Stripe's `proration_behavior`. https://docs.stripe.com/billing/subscriptions/prorations */
export const PRORATION_BEHAVIORS = ['create_prorations', 'always_invoice', 'none'] as const;
export type ProrationBehavior = (typeof PRORATION_BEHAVIORS)[number];

/** Subscription metadata key holding the key of the last amendment applied. */
export const AMENDMENT_METADATA_KEY = 'revbridge_amendment';

/** One price's added quantity. */
export interface AmendmentLine {
  readonly priceId: string;
  readonly quantity: number;
}

/** How the subscription's items change: an existing item's new quantity, a new item, an item removed. */
export type ItemUpdate =
  | { readonly id: string; readonly quantity: number }
  | { readonly price: string; readonly quantity: number }
  | { readonly id: string; readonly deleted: true };

/** The billing side of the amendment saga (Stripe: lambdas/adapters/stripe/billing-client.ts). */
export interface SubscriptionAmendments extends SubscriptionReader {
  /**
   * Adds the lines to the subscription's items with `proration`, unless it took this amendment already.
   * Returns the subscription as it is after.
   */
  applyAmendment(
    subscriptionId: string,
    lines: readonly AmendmentLine[],
    amendmentKey: string,
    proration: ProrationBehavior,
  ): Promise<SubscriptionState>;
  /**
   * Compensation: takes the lines back (the proration credits what was charged; nothing is deleted but
   * items this amendment added), if the subscription took this amendment and still has it.
   */
  revertAmendment(
    subscriptionId: string,
    lines: readonly AmendmentLine[],
    amendmentKey: string,
    proration: ProrationBehavior,
  ): Promise<'reverted' | 'not-applied'>;
}

export const hasAmendment = (subscription: SubscriptionState, amendmentKey: string): boolean =>
  subscription.metadata[AMENDMENT_METADATA_KEY] === amendmentKey;

const addedByPrice = (lines: readonly AmendmentLine[]): Map<string, number> => {
  const added = new Map<string, number>();
  for (const line of lines) added.set(line.priceId, (added.get(line.priceId) ?? 0) + line.quantity);
  return added;
};

/** The item updates that add the lines: more of a price the subscription has, or a new item. */
export const itemsAdding = (subscription: SubscriptionState, lines: readonly AmendmentLine[]): ItemUpdate[] =>
  [...addedByPrice(lines)].map(([priceId, quantity]) => {
    const item = subscription.items.find((candidate) => candidate.priceId === priceId);
    return item ? { id: item.id, quantity: item.quantity + quantity } : { price: priceId, quantity };
  });

/** The item updates that take the lines back from a subscription that has them. */
export const itemsRemoving = (
  subscription: SubscriptionState,
  lines: readonly AmendmentLine[],
): ItemUpdate[] =>
  [...addedByPrice(lines)].flatMap(([priceId, quantity]): ItemUpdate[] => {
    const item = subscription.items.find((candidate) => candidate.priceId === priceId);
    if (!item) return [];
    const before = item.quantity - quantity;
    return [before > 0 ? { id: item.id, quantity: before } : { id: item.id, deleted: true }];
  });

/**
 * The subscription as it was before the amendment, while billing still has it: what the ERP sales
 * order goes back to when the saga undoes the amendment (the order's undo runs first, in reverse).
 */
export const withoutAmendment = (
  subscription: SubscriptionState,
  lines: readonly AmendmentLine[],
  amendmentKey: string,
): SubscriptionState => {
  if (!hasAmendment(subscription, amendmentKey)) return subscription;
  const added = addedByPrice(lines);
  return {
    ...subscription,
    items: subscription.items.flatMap((item) => {
      const quantity = item.quantity - (added.get(item.priceId) ?? 0);
      return quantity > 0 ? [{ ...item, quantity }] : [];
    }),
  };
};
