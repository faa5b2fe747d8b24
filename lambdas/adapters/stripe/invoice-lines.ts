import type Stripe from 'stripe';
import { toBillingError } from './billing-client';

/** Lines per page of `GET /v1/invoices/:id/lines`: Stripe's maximum. */
const PAGE_SIZE = 100;

/**
 * The product of each line of a billing invoice, by line id, read through every page of the invoice's
 * lines. A line without a price (a one-off amount) has no product. Errors are the shared taxonomy's.
 * https://docs.stripe.com/api/invoice-line-item/retrieve
 */
export const invoiceLineProducts =
  (sdk: () => Promise<Stripe>) =>
  async (invoiceId: string): Promise<ReadonlyMap<string, string | null>> => {
    const stripe = await sdk();
    const products = new Map<string, string | null>();
    try {
      for await (const line of stripe.invoices.listLineItems(invoiceId, { limit: PAGE_SIZE })) {
        products.set(line.id, productOf(line));
      }
    } catch (error) {
      throw toBillingError(error, 'list invoice lines');
    }
    return products;
  };

/** Current API versions name the product under `pricing.price_details`; older ones on `price`. */
const productOf = (line: Stripe.InvoiceLineItem): string | null => {
  const current = (line as { pricing?: { price_details?: { product?: string | null } | null } | null })
    .pricing?.price_details?.product;
  if (current) return current;
  const price = (line as { price?: { product?: string | { id: string } | null } | null }).price;
  const product = price?.product;
  if (!product) return null;
  return typeof product === 'string' ? product : product.id;
};
