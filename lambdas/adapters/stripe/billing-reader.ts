import Stripe from 'stripe';
import type { BillingCreditNote, BillingInvoice, ReconciliationWindow } from '../../domain/reconciliation';
import { type StripeBillingClientOptions, stripeSdk, toBillingError } from './billing-client';

/** Stripe's list endpoints serve at most 100 objects a page. https://docs.stripe.com/api/pagination */
export const STRIPE_PAGE_LIMIT = 100;

export interface BillingPage<T> {
  readonly items: T[];
  /** The cursor of the next page (`starting_after`), null after the last one. */
  readonly next: string | null;
}

/** What reconciliation and its re-drive read from billing. */
export interface BillingReader {
  listInvoices(
    window: ReconciliationWindow,
    startingAfter: string | null,
  ): Promise<BillingPage<BillingInvoice>>;
  listCreditNotes(
    window: ReconciliationWindow,
    startingAfter: string | null,
  ): Promise<BillingPage<BillingCreditNote>>;
  invoiceExists(id: string): Promise<boolean>;
  /** The object as Stripe has it now (the JSON a webhook would carry), null when Stripe does not know it. */
  retrieve(entity: 'invoice' | 'creditNote', id: string): Promise<Record<string, unknown> | null>;
}

export type StripeBillingReaderOptions = Pick<StripeBillingClientOptions, 'apiKey' | 'baseUrl' | 'timeoutMs'>;

const seconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);
const createdIn = (window: ReconciliationWindow) => ({ gte: seconds(window.from), lte: seconds(window.to) });

/** Billing on the official `stripe` SDK: one page per call, so the caller holds one page at a time. */
export class StripeBillingReader implements BillingReader {
  private readonly client: () => Promise<Stripe>;

  constructor(options: StripeBillingReaderOptions) {
    this.client = stripeSdk(options);
  }

  async listInvoices(window: ReconciliationWindow, startingAfter: string | null) {
    const stripe = await this.client();
    const page = await call('list invoices', () =>
      stripe.invoices.list({
        created: createdIn(window),
        limit: STRIPE_PAGE_LIMIT,
        ...(startingAfter ? { starting_after: startingAfter } : {}),
      }),
    );
    return {
      items: page.data.map(toBillingInvoice),
      next: page.has_more ? (page.data.at(-1)?.id ?? null) : null,
    };
  }

  async listCreditNotes(window: ReconciliationWindow, startingAfter: string | null) {
    const stripe = await this.client();
    const page = await call('list credit notes', () =>
      stripe.creditNotes.list({
        created: createdIn(window),
        limit: STRIPE_PAGE_LIMIT,
        ...(startingAfter ? { starting_after: startingAfter } : {}),
      }),
    );
    return {
      items: page.data.map(toBillingCreditNote),
      next: page.has_more ? (page.data.at(-1)?.id ?? null) : null,
    };
  }

  async invoiceExists(id: string): Promise<boolean> {
    return (await this.retrieve('invoice', id)) !== null;
  }

  async getInvoice(id: string): Promise<BillingInvoice | null> {
    const object = await this.retrieve('invoice', id);
    return object ? toBillingInvoice(object as unknown as Stripe.Invoice) : null;
  }

  async getCreditNote(id: string): Promise<BillingCreditNote | null> {
    const object = await this.retrieve('creditNote', id);
    return object ? toBillingCreditNote(object as unknown as Stripe.CreditNote) : null;
  }

  /** Stripe never deletes a subscription (a canceled one is kept): only an id billing never had is missing. */
  async subscriptionExists(id: string): Promise<boolean> {
    return (await this.retrieve('subscription', id)) !== null;
  }

  async retrieve(
    entity: 'invoice' | 'creditNote' | 'subscription',
    id: string,
  ): Promise<Record<string, unknown> | null> {
    const stripe = await this.client();
    try {
      const object =
        entity === 'invoice'
          ? await stripe.invoices.retrieve(id)
          : entity === 'creditNote'
            ? await stripe.creditNotes.retrieve(id)
            : await stripe.subscriptions.retrieve(id);
      // The SDK's objects are the API's JSON plus a non-enumerable `lastResponse`.
      return JSON.parse(JSON.stringify(object)) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof Stripe.errors.StripeError && error.statusCode === 404) return null;
      throw toBillingError(error, `retrieve ${entity}`);
    }
  }
}

const toBillingInvoice = (invoice: Stripe.Invoice): BillingInvoice => ({
  id: invoice.id as string,
  status: invoice.status ?? 'unknown',
  currency: invoice.currency.toUpperCase(),
  total: invoice.total,
  amountPaid: invoice.amount_paid,
});

const toBillingCreditNote = (note: Stripe.CreditNote): BillingCreditNote => ({
  id: note.id,
  status: note.status,
  currency: note.currency.toUpperCase(),
  total: note.total,
});

const call = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
  try {
    return await run();
  } catch (error) {
    throw toBillingError(error, what);
  }
};
