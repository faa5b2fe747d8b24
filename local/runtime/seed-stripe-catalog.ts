import { stripeCatalogSeed } from '../config';

/**
 * Creates the dev catalog's products and prices in the Stripe twin through its API, as an operator
 * sets up a Stripe account once: the saga finds the prices by lookup key (cdk.json `quoteToCash`).
 */
export const seedStripeCatalog = async (stripeUrl: string, apiKey: string): Promise<void> => {
  const post = async (path: string, fields: Record<string, string>) => {
    const response = await fetch(`${stripeUrl}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(fields).toString(),
    });
    if (!response.ok) {
      throw new Error(
        `seeding the Stripe twin: POST ${path} answered ${response.status}: ${await response.text()}`,
      );
    }
  };
  for (const { product, prices } of stripeCatalogSeed) {
    await post('/v1/products', { id: product.id, name: product.name });
    for (const price of prices) {
      await post('/v1/prices', {
        product: product.id,
        currency: price.currency,
        unit_amount: String(price.unitAmount),
        'recurring[interval]': 'month',
        lookup_key: price.lookupKey,
      });
    }
  }
};
