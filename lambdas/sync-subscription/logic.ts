import type { Deal, DealFieldWriter } from '../domain/deal';
import type { CanonicalEvent } from '../domain/events';
import { toMajorUnits } from '../domain/money';
import type { LinksRepository, PriceCatalog } from '../domain/ports';
import {
  catalogItemResolver,
  contractValue,
  isEnded,
  type SalesOrderChange,
  type SalesOrderPort,
  type SubscriptionReader,
  type SubscriptionState,
  syncSalesOrderToSubscription,
} from '../domain/sales-order-change';
import { salesOrderExternalId } from '../quote-to-cash/identity';
import { PermanentError, TransientError } from '../shared/errors';
import type { SubscriptionSyncMapping } from './schema';

/**
 * Flow 5: a billing subscription updated or canceled becomes a change of the ERP sales order the
 * quote-to-cash saga made for it, and the CRM deal shows the subscription's status and contract value.
 *
 * The event only says which subscription changed: its copy of the subscription may be stale, and
 * events arrive late, twice and out of order. So the subscription is re-fetched from billing, the order
 * from the ERP, and the change between them computed by the domain (`syncSalesOrderToSubscription`, the
 * one place that computes it, shared with the amendment saga). An older event therefore applies the
 * newest state, which a newer event already applied: it changes nothing.
 */

export const FLOW = 'sync-subscription';

export type SubscriptionEvent = CanonicalEvent<
  'billing.subscription.updated' | 'billing.subscription.canceled'
>;

export interface SyncSubscriptionDeps {
  readonly billing: SubscriptionReader;
  /** For a subscription still on a price that handed its lookup key over to a newer one. */
  readonly prices: PriceCatalog;
  readonly salesOrders: SalesOrderPort;
  readonly links: LinksRepository;
  readonly crm: (crm: Deal['crm']) => DealFieldWriter;
  readonly mapping: SubscriptionSyncMapping;
}

export type SyncOutcome =
  | {
      readonly outcome: 'synced';
      readonly crm: Deal['crm'];
      readonly dealId: string;
      readonly salesOrderId: string;
      /** Whether the order had to change (false: a duplicate, a stale event, or a change of no lines). */
      readonly orderChanged: boolean;
      readonly linesAdded: number;
      readonly linesClosed: number;
      readonly status: string;
      /** Minor units of `currency`, one billing period; 0 once ended. */
      readonly contractValue: number;
      readonly currency: string;
      readonly ended: boolean;
    }
  /** No revbridge deal is behind the subscription (made in billing by hand, or by another system). */
  | { readonly outcome: 'not-managed'; readonly subscriptionId: string }
  /** The subscription ended before any sales order was made for it (its saga failed and undid it). */
  | { readonly outcome: 'no-order'; readonly subscriptionId: string };

/**
 * Applying a change, then reading both sides again, must find nothing left to do. Another change that
 * raced this one (two events of one subscription handled at once) shows up as a further change, applied
 * in the next pass, so the order always ends on what billing says last. Past this many passes the
 * subscription is still moving: the event is retried later.
 */
const MAX_PASSES = 3;

export const syncSubscription = async (
  event: SubscriptionEvent,
  deps: SyncSubscriptionDeps,
): Promise<SyncOutcome> => {
  const subscriptionId = event.data.id;
  let subscription = await readSubscription(deps, subscriptionId);
  const deal = await dealOf(subscription, deps);
  if (!deal) return { outcome: 'not-managed', subscriptionId };

  const [orderId] = await deps.links.find([
    { key: { entity: 'salesOrder', system: deal.crm, id: deal.dealId }, target: 'netsuite' },
  ]);
  if (orderId === undefined) {
    if (isEnded(subscription)) return { outcome: 'no-order', subscriptionId };
    // The saga links the subscription before it creates the order: it is still running.
    throw new TransientError(`subscription ${subscriptionId} has no sales order yet`, {
      code: 'SalesOrderNotLinkedYet',
    });
  }

  const externalId = salesOrderExternalId(deal);
  const applied: SalesOrderChange[] = [];
  const products = productsOfCatalogPrices(deps);
  for (let pass = 1; ; pass += 1) {
    const result = await syncSalesOrderToSubscription(
      subscription,
      externalId,
      { salesOrders: deps.salesOrders, itemFor: await itemResolver(subscription, deps.mapping, products) },
      effectiveDate(event, subscription),
    );
    if (result.outcome === 'unchanged') break;
    applied.push(result.change);
    if (pass === MAX_PASSES) {
      throw new TransientError(`sales order ${externalId} did not settle after ${MAX_PASSES} changes`, {
        code: 'SalesOrderNotSettled',
      });
    }
    subscription = await readSubscription(deps, subscriptionId);
  }

  const value = contractValue(subscription);
  await deps
    .crm(deal.crm)
    .writeDealFields(deal.dealId, crmFields(deal.crm, subscription, value, deps.mapping));
  return {
    outcome: 'synced',
    crm: deal.crm,
    dealId: deal.dealId,
    salesOrderId: orderId,
    orderChanged: applied.length > 0,
    linesAdded: applied.reduce((sum, change) => sum + change.add.length, 0),
    linesClosed: applied.reduce((sum, change) => sum + change.close.length, 0),
    status: subscription.status,
    contractValue: value,
    currency: subscription.currency,
    ended: isEnded(subscription),
  };
};

const readSubscription = async (deps: SyncSubscriptionDeps, id: string): Promise<SubscriptionState> => {
  const subscription = await deps.billing.getSubscription(id);
  if (!subscription) {
    throw new PermanentError(`billing does not know subscription ${id}`, { code: 'SubscriptionNotFound' });
  }
  return subscription;
};

const CRMS: readonly Deal['crm'][] = ['salesforce', 'hubspot'];

/**
 * The deal the subscription was made for, from the links the saga wrote. A subscription whose metadata
 * names a deal but has no link yet belongs to a saga that is still running: retried, not ignored.
 */
const dealOf = async (
  subscription: SubscriptionState,
  deps: SyncSubscriptionDeps,
): Promise<{ crm: Deal['crm']; dealId: string } | undefined> => {
  const found = await deps.links.find(
    CRMS.map((crm) => ({
      key: { entity: 'subscription', system: 'stripe', id: subscription.id },
      target: crm,
    })),
  );
  for (const [index, crm] of CRMS.entries()) {
    const dealId = found[index];
    if (dealId !== undefined && crm !== undefined) return { crm, dealId };
  }
  if (subscription.metadata.revbridge_deal_id) {
    throw new TransientError(`subscription ${subscription.id} is not linked to its deal yet`, {
      code: 'SubscriptionNotLinkedYet',
    });
  }
  return undefined;
};

/** The products of the prices that hold the catalog's lookup keys now, read once per event if at all. */
const productsOfCatalogPrices = (deps: SyncSubscriptionDeps) => {
  let read: Promise<Map<string, string>> | undefined;
  return (lookupKeys: readonly string[]) => {
    read ??= deps.prices.findByLookupKeys(lookupKeys).then((prices) => {
      const products = new Map<string, string>();
      for (const [lookupKey, price] of prices) if (price.product) products.set(lookupKey, price.product);
      return products;
    });
    return read;
  };
};

/**
 * The catalog's ERP items by lookup key; only when an item's price holds no catalog key (it handed the
 * key to a newer price) are the current catalog prices read, to map the old price by its product.
 */
const itemResolver = async (
  subscription: SubscriptionState,
  mapping: SubscriptionSyncMapping,
  products: (lookupKeys: readonly string[]) => Promise<ReadonlyMap<string, string>>,
) => {
  const { catalog } = mapping;
  const lookupKeys = Object.values(catalog).flatMap((product) => {
    const key = product.stripeLookupKeys[subscription.currency];
    return key === undefined ? [] : [key];
  });
  const known = new Set(lookupKeys);
  const needsProducts = subscription.items.some(
    (item) => item.lookupKey === null || !known.has(item.lookupKey),
  );
  return catalogItemResolver(catalog, needsProducts ? await products(lookupKeys) : new Map());
};

/**
 * From when the change applies: the day billing ended the subscription, else the day of the event
 * that reported the change (the subscription re-fetched carries no date of its last change).
 */
const effectiveDate = (event: SubscriptionEvent, subscription: SubscriptionState): string =>
  (isEnded(subscription) && subscription.endedAt ? subscription.endedAt : event.occurredAt).slice(0, 10);

const crmFields = (
  crm: Deal['crm'],
  subscription: SubscriptionState,
  value: number,
  mapping: SubscriptionSyncMapping,
): Record<string, string | number> => {
  const major = toMajorUnits(value, subscription.currency);
  return crm === 'salesforce'
    ? {
        [mapping.salesforce.statusField]: subscription.status,
        [mapping.salesforce.contractValueField]: major,
      }
    : {
        [mapping.hubspot.statusProperty]: subscription.status,
        [mapping.hubspot.contractValueProperty]: major,
      };
};
