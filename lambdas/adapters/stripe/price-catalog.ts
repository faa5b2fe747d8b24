import type Stripe from 'stripe';
import type { CatalogPrice, PriceCatalog } from '../../domain/ports';
import { toBillingError } from './billing-client';
import { stripeSdk } from './sdk';

/**
 * Resolves the catalog's Stripe lookup keys to the prices that hold them now. The stage configuration
 * names prices by lookup key because Stripe prices are immutable: a new price takes the key over
 * (`transfer_lookup_key`) and the saga follows without a redeploy.
 * https://docs.stripe.com/products-prices/manage-prices#lookup-keys
 */

export type { CatalogPrice, PriceCatalog } from '../../domain/ports';

export interface StripePriceCatalogOptions {
  readonly apiKey: () => Promise<string>;
  /** @default 'https://api.stripe.com' */
  readonly baseUrl?: string;
  /** Per request. @default 10000 */
  readonly timeoutMs?: number;
}

/** `GET /v1/prices` takes at most 10 lookup keys. https://docs.stripe.com/api/prices/list#list_prices-lookup_keys */
const LOOKUP_KEYS_PER_REQUEST = 10;

export class StripePriceCatalog implements PriceCatalog {
  private readonly client: () => Promise<Stripe>;

  constructor(options: StripePriceCatalogOptions) {
    // The saga's Retry policy owns retries.
    this.client = stripeSdk(options);
  }

  async findByLookupKeys(lookupKeys: readonly string[]): Promise<ReadonlyMap<string, CatalogPrice>> {
    const stripe = await this.client();
    const found = new Map<string, CatalogPrice>();
    const unique = [...new Set(lookupKeys)];
    for (let start = 0; start < unique.length; start += LOOKUP_KEYS_PER_REQUEST) {
      const keys = unique.slice(start, start + LOOKUP_KEYS_PER_REQUEST);
      let page: Stripe.ApiList<Stripe.Price>;
      try {
        page = await stripe.prices.list({ lookup_keys: keys, active: true, limit: 100 });
      } catch (error) {
        throw toBillingError(error, 'list prices');
      }
      for (const price of page.data) {
        if (!price.lookup_key) continue;
        found.set(price.lookup_key, {
          id: price.id,
          currency: price.currency.toUpperCase(),
          recurring: price.recurring !== null,
          product: typeof price.product === 'string' ? price.product : price.product.id,
        });
      }
    }
    return found;
  }
}
