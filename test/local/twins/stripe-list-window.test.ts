import { StripeBillingReader } from '../../../lambdas/adapters/stripe/billing-reader';
import { type StripeTwin, startStripeTwin } from '../../../local/twins/stripe';
import { API_KEY, stripeClient } from './stripe-test-kit';

/**
 * What reconciliation relies on from Stripe's list APIs (https://docs.stripe.com/api/invoices/list):
 * `created[gte]`/`created[lte]` bound the window, `limit` 100 pages it, `starting_after` continues it,
 * newest first, and no object is listed twice or skipped. Driven through the official SDK.
 */
const T0 = Date.UTC(2026, 11, 1, 0, 0);
let twin: StripeTwin;
const clock = { now: T0 };

beforeAll(async () => {
  twin = await startStripeTwin({ port: 0, clock: () => clock.now });
});

afterAll(async () => {
  await twin?.close();
});

const iso = (ms: number) => new Date(ms).toISOString();

describe('listing invoices and credit notes of a window', () => {
  const inWindow: string[] = [];

  beforeAll(async () => {
    const stripe = stripeClient(twin.port);
    const customer = await stripe.customers.create({ name: 'Window' });
    // One invoice a minute for 230 minutes: 10 before the window, 210 in it, 10 after.
    for (let minute = 0; minute < 230; minute += 1) {
      clock.now = T0 + minute * 60_000;
      await stripe.invoiceItems.create({ customer: customer.id, amount: 100 + minute, currency: 'usd' });
      const invoice = await stripe.invoices.create({
        customer: customer.id,
        collection_method: 'send_invoice',
        days_until_due: 30,
        pending_invoice_items_behavior: 'include',
      });
      await stripe.invoices.finalizeInvoice(invoice.id as string);
      if (minute >= 10 && minute < 220) inWindow.push(invoice.id as string);
      if (minute === 15) {
        await stripe.creditNotes.create({ invoice: invoice.id as string, amount: 50 });
      }
    }
  });

  const window = { from: iso(T0 + 10 * 60_000), to: iso(T0 + 219 * 60_000) };

  it('pages a window with created[gte], created[lte], limit 100 and starting_after, each invoice once', async () => {
    const stripe = stripeClient(twin.port);
    const pages: string[][] = [];
    let after: string | undefined;
    for (;;) {
      const page = await stripe.invoices.list({
        created: { gte: Date.parse(window.from) / 1000, lte: Date.parse(window.to) / 1000 },
        limit: 100,
        ...(after ? { starting_after: after } : {}),
      });
      pages.push(page.data.map((invoice) => invoice.id as string));
      if (!page.has_more) break;
      after = page.data.at(-1)?.id;
    }
    expect(pages.map((page) => page.length)).toEqual([100, 100, 10]);
    expect(pages.flat()).toEqual([...inWindow].reverse());
  });

  it('serves the reconciliation reader the same pages, with totals and status', async () => {
    const reader = new StripeBillingReader({ apiKey: async () => API_KEY, baseUrl: twin.url });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof reader.listInvoices>> = await reader.listInvoices(window, cursor);
      seen.push(...page.items.map((invoice) => invoice.id));
      cursor = page.next;
    } while (cursor);
    expect(seen.sort()).toEqual([...inWindow].sort());
    const first = await reader.listInvoices(window, null);
    expect(first.items[0]).toEqual({
      id: inWindow.at(-1),
      status: 'open',
      currency: 'USD',
      total: 319,
      amountPaid: 0,
    });
    const notes = await reader.listCreditNotes(window, null);
    expect(notes).toEqual({
      items: [{ id: expect.stringMatching(/^cn_/), status: 'issued', currency: 'USD', total: 50 }],
      next: null,
    });
    expect(await reader.invoiceExists(inWindow[0] as string)).toBe(true);
    expect(await reader.invoiceExists('in_unknown')).toBe(false);
  });
});
