import { PermanentError } from '../shared/errors';

/**
 * A subscription's current state turned into a change of the ERP sales order that was made for it.
 * Shared by flow 5 (a billing subscription updated or canceled) and the amendment saga (a CRM upsell
 * changes the subscription, then the order): both call `syncSalesOrderToSubscription`.
 *
 * The order is never rewritten: a line's quantity and rate stay as they were (part of it may be billed
 * or fulfilled already). A change only
 * - adds a line (a new product, more seats at the same price, or the new price of a re-priced item),
 *   carrying its effective date, and
 * - closes lines (`isClosed`: nothing more is billed or fulfilled from them) that no longer match the
 *   subscription (a price change, fewer seats, an item removed, a cancellation).
 * The change is computed from current state on both sides, so computing it again after it was applied
 * gives no change: a duplicate or a stale event that re-fetches the subscription changes nothing.
 */

/** The subscription as the billing system has it now (always re-fetched: events can be stale). */
export interface SubscriptionState {
  readonly id: string;
  /** Billing's status: `active`, `past_due`, `canceled`, ... */
  readonly status: string;
  /** ISO 4217, upper case. */
  readonly currency: string;
  readonly items: readonly SubscriptionItemState[];
  /** When the subscription ended (ISO), if it did. */
  readonly endedAt: string | null;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface SubscriptionItemState {
  readonly id: string;
  readonly priceId: string;
  /** The price's lookup key, the catalog's name for it; null once another price took the key over. */
  readonly lookupKey: string | null;
  readonly productId: string;
  /** Per unit, integer minor units. */
  readonly unitAmount: number;
  readonly quantity: number;
}

/** One line of the ERP sales order, as it is now. */
export interface OrderLine {
  /** The ERP's line key. */
  readonly line: number;
  readonly itemId: string;
  readonly quantity: number;
  /** Per unit, integer minor units. */
  readonly unitAmount: number;
  readonly isClosed: boolean;
  /** The line as the ERP returned it, sent back unchanged when other lines change. */
  readonly fields?: Readonly<Record<string, unknown>>;
}

export interface SalesOrderState {
  readonly id: string;
  readonly externalId: string;
  readonly lines: readonly OrderLine[];
}

export interface NewOrderLine {
  readonly itemId: string;
  readonly quantity: number;
  readonly unitAmount: number;
  /** YYYY-MM-DD: from when the line applies. */
  readonly effectiveDate: string;
  readonly description: string;
}

export interface SalesOrderChange {
  /** Line keys to close. */
  readonly close: readonly number[];
  readonly add: readonly NewOrderLine[];
}

/** The ERP side of a sales order change (NetSuite: lambdas/adapters/netsuite/sales-order-lines.ts). */
export interface SalesOrderPort {
  /** The order with its lines, rates converted to minor units of `currency`; null if there is none. */
  getSalesOrder(externalId: string, currency: string): Promise<SalesOrderState | null>;
  /** Closes and adds lines in one write; every other line is left as it is. */
  applySalesOrderChange(order: SalesOrderState, change: SalesOrderChange, currency: string): Promise<void>;
}

/** The billing side: the subscription as it is now. */
export interface SubscriptionReader {
  /** null if billing does not know the subscription. */
  getSubscription(subscriptionId: string): Promise<SubscriptionState | null>;
}

/** Which ERP item a subscription item is; undefined when the catalog does not map it. */
export type ItemResolver = (item: SubscriptionItemState) => string | undefined;

const ENDED: ReadonlySet<string> = new Set(['canceled', 'incomplete_expired']);

/** Billing no longer bills it: what remains of the order is closed. */
export const isEnded = (subscription: SubscriptionState): boolean =>
  ENDED.has(subscription.status) || subscription.endedAt !== null;

/** The recurring value of one billing period, in minor units; 0 once ended. */
export const contractValue = (subscription: SubscriptionState): number =>
  isEnded(subscription)
    ? 0
    : subscription.items.reduce((sum, item) => sum + item.unitAmount * item.quantity, 0);

export const isEmptyChange = (change: SalesOrderChange): boolean =>
  change.close.length === 0 && change.add.length === 0;

const keyOf = (itemId: string, unitAmount: number) => `${itemId}@${unitAmount}`;

/**
 * The change that makes the order's open lines say what the subscription says: per ERP item and unit
 * price, the open quantity equals the subscription's. More at the same price adds a line for the
 * difference; anything else closes that item's lines at that price and adds one with the new quantity.
 * Throws `PermanentError` (`ProductNotMapped`) if a subscription item has no ERP item.
 */
export const computeSalesOrderChange = (
  subscription: SubscriptionState,
  order: SalesOrderState,
  itemFor: ItemResolver,
  effectiveDate: string,
): SalesOrderChange => {
  const open = order.lines.filter((line) => !line.isClosed);
  if (isEnded(subscription)) return { close: open.map((line) => line.line), add: [] };

  const target = new Map<string, { itemId: string; unitAmount: number; quantity: number }>();
  const unmapped: string[] = [];
  for (const item of subscription.items) {
    const itemId = itemFor(item);
    if (itemId === undefined) {
      unmapped.push(`${item.priceId}${item.lookupKey ? ` (${item.lookupKey})` : ''}`);
      continue;
    }
    if (item.quantity <= 0) continue;
    const key = keyOf(itemId, item.unitAmount);
    const entry = target.get(key) ?? { itemId, unitAmount: item.unitAmount, quantity: 0 };
    target.set(key, { ...entry, quantity: entry.quantity + item.quantity });
  }
  if (unmapped.length > 0) {
    throw new PermanentError(
      `subscription ${subscription.id} has prices the catalog does not map to an ERP item: ${unmapped.join(', ')}`,
      { code: 'ProductNotMapped' },
    );
  }

  const openByKey = new Map<string, OrderLine[]>();
  for (const line of open) {
    const key = keyOf(line.itemId, line.unitAmount);
    openByKey.set(key, [...(openByKey.get(key) ?? []), line]);
  }
  const close: number[] = [];
  const add: NewOrderLine[] = [];
  const newLine = (itemId: string, unitAmount: number, quantity: number, why: string): NewOrderLine => ({
    itemId,
    quantity,
    unitAmount,
    effectiveDate,
    description: `revbridge: ${why}, subscription ${subscription.id}, effective ${effectiveDate}`,
  });
  for (const [key, wanted] of target) {
    const lines = openByKey.get(key) ?? [];
    const have = lines.reduce((sum, line) => sum + line.quantity, 0);
    if (have === wanted.quantity) continue;
    if (have < wanted.quantity) {
      add.push(
        newLine(
          wanted.itemId,
          wanted.unitAmount,
          wanted.quantity - have,
          have === 0 ? 'added' : `${have} → ${wanted.quantity}`,
        ),
      );
    } else {
      close.push(...lines.map((line) => line.line));
      add.push(newLine(wanted.itemId, wanted.unitAmount, wanted.quantity, `${have} → ${wanted.quantity}`));
    }
  }
  for (const [key, lines] of openByKey) {
    if (!target.has(key)) close.push(...lines.map((line) => line.line));
  }
  return { close: close.sort((a, b) => a - b), add };
};

export type SalesOrderSyncResult =
  | { readonly outcome: 'changed'; readonly change: SalesOrderChange; readonly orderId: string }
  | { readonly outcome: 'unchanged'; readonly orderId: string };

/**
 * Re-reads the order, computes the change the subscription calls for and applies it. Safe to run any
 * number of times for the same subscription state. Throws `PermanentError` (`SalesOrderNotFound`) when
 * the order does not exist.
 */
export const syncSalesOrderToSubscription = async (
  subscription: SubscriptionState,
  salesOrderExternalId: string,
  deps: { readonly salesOrders: SalesOrderPort; readonly itemFor: ItemResolver },
  effectiveDate: string,
): Promise<SalesOrderSyncResult> => {
  const order = await deps.salesOrders.getSalesOrder(salesOrderExternalId, subscription.currency);
  if (!order) {
    throw new PermanentError(`sales order ${salesOrderExternalId} is not in the ERP`, {
      code: 'SalesOrderNotFound',
    });
  }
  const change = computeSalesOrderChange(subscription, order, deps.itemFor, effectiveDate);
  if (isEmptyChange(change)) return { outcome: 'unchanged', orderId: order.id };
  await deps.salesOrders.applySalesOrderChange(order, change, subscription.currency);
  return { outcome: 'changed', change, orderId: order.id };
};

/**
 * The catalog's item mapping for one currency: a subscription item maps by its price's lookup key, or,
 * for a price that handed its key over to a newer price (`transfer_lookup_key`), by its product, as the
 * product of the price that holds the key now.
 */
export const catalogItemResolver = (
  catalog: Readonly<
    Record<
      string,
      { readonly netsuiteItemId: string; readonly stripeLookupKeys: Readonly<Record<string, string>> }
    >
  >,
  productsOfCatalogPrices: ReadonlyMap<string, string> = new Map(),
): ItemResolver => {
  const byLookupKey = new Map<string, string>();
  for (const product of Object.values(catalog)) {
    for (const lookupKey of Object.values(product.stripeLookupKeys)) {
      byLookupKey.set(lookupKey, product.netsuiteItemId);
    }
  }
  const byProduct = new Map<string, string>();
  for (const [lookupKey, productId] of productsOfCatalogPrices) {
    const itemId = byLookupKey.get(lookupKey);
    if (itemId !== undefined) byProduct.set(productId, itemId);
  }
  return (item) =>
    (item.lookupKey === null ? undefined : byLookupKey.get(item.lookupKey)) ?? byProduct.get(item.productId);
};
