import type { Deal } from './deal';
import type { PriceCatalog } from './ports';

/** The stage catalog as the sagas read it: CRM product code → ERP item and Stripe lookup keys. */
export type Catalog = Readonly<
  Record<
    string,
    { readonly netsuiteItemId: string; readonly stripeLookupKeys: Readonly<Record<string, string>> }
  >
>;

/**
 * A deal's lines priced from the catalog: each product must be in the catalog with a lookup key for
 * the deal's currency, held now by an active, recurring Stripe price in that currency. Both sagas
 * (quote-to-cash and the amendment) check their lines with this before writing anything; the problems
 * name products and lookup keys, never values a customer entered.
 */
export const priceDealLines = async (
  deal: Pick<Deal, 'currency' | 'lines'>,
  catalog: Catalog,
  prices: PriceCatalog,
): Promise<{ problems: string[]; priceIdOf: (productCode: string) => string | undefined }> => {
  const problems: string[] = [];
  const lookupKeys = new Map<string, string>();
  for (const line of deal.lines) {
    const product = catalog[line.productCode];
    const lookupKey = product?.stripeLookupKeys[deal.currency];
    if (!product) problems.push(`product ${line.productCode || '(no code)'} is not in the catalog`);
    else if (!lookupKey)
      problems.push(`product ${line.productCode} has no ${deal.currency} price in the catalog`);
    else lookupKeys.set(lookupKey, line.productCode);
  }
  const found = lookupKeys.size > 0 ? await prices.findByLookupKeys([...lookupKeys.keys()]) : new Map();
  for (const [lookupKey, productCode] of lookupKeys) {
    const price = found.get(lookupKey);
    if (!price) problems.push(`product ${productCode}: no active Stripe price has lookup key ${lookupKey}`);
    else if (price.currency !== deal.currency)
      problems.push(
        `product ${productCode}: Stripe price ${lookupKey} is in ${price.currency}, not ${deal.currency}`,
      );
    else if (!price.recurring)
      problems.push(`product ${productCode}: Stripe price ${lookupKey} is not recurring`);
  }
  return {
    problems,
    priceIdOf: (productCode) => found.get(catalog[productCode]?.stripeLookupKeys[deal.currency] ?? '')?.id,
  };
};
