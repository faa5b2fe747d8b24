import type { EventPublisher } from '../../lambdas/adapters/aws/event-publisher';
import type { LinksRepository } from '../../lambdas/adapters/aws/links-repository';
import type { NetSuiteRecord, WriteOptions } from '../../lambdas/adapters/netsuite/client';
import { netSuiteCreditMemoLedger } from '../../lambdas/adapters/netsuite/erp-ledger';
import type { CanonicalEvent } from '../../lambdas/domain/events';
import { type PostCreditMemoDeps, postCreditMemo } from '../../lambdas/post-credit-memo/logic';
import { retryPolicyAwaiting } from '../../lambdas/shared/awaited-link';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';
import { retryDelaySeconds } from '../../lambdas/shared/sqs-retry';
import { creditNoteEvent } from '../support/canonical-events';

const mapping = {
  subsidiaryId: '1',
  currencyIds: { USD: '1' },
  productItemIds: { prod_seat: '101' },
  defaultItemId: '100',
  taxItemId: '200',
  adjustmentItemId: '300',
};

const created = (overrides: Record<string, unknown> = {}) =>
  creditNoteEvent('billing.credit_note.created', overrides);
const voided = (overrides: Record<string, unknown> = {}) =>
  creditNoteEvent('billing.credit_note.voided', overrides);

const world = () => {
  const links = new Map<string, string>();
  const memos = new Map<string, NetSuiteRecord>();
  const calls: {
    op: string;
    type: string;
    id: string;
    body?: Record<string, unknown>;
    options?: WriteOptions;
  }[] = [];
  const published: CanonicalEvent[] = [];
  const productLookups: string[] = [];
  let failNext: Error | undefined;
  const fail = () => {
    if (!failNext) return;
    const error = failNext;
    failNext = undefined;
    throw error;
  };
  const linksRepo: LinksRepository = {
    async find(queries) {
      return queries.map(({ key, target }) => links.get(`${key.entity}#${key.system}#${key.id}->${target}`));
    },
    async record(key, target, targetId) {
      links.set(`${key.entity}#${key.system}#${key.id}->${target}`, targetId);
    },
  };
  const publisher: EventPublisher = {
    async publish(events) {
      published.push(...events);
    },
  };
  const netsuite: Parameters<typeof netSuiteCreditMemoLedger>[0] = {
    async upsert(type, externalId, body, options) {
      fail();
      calls.push({ op: 'upsert', type, id: externalId, body, ...(options ? { options } : {}) });
      const id = `${memos.size + 900}`;
      memos.set(externalId, { id, externalId });
      return id;
    },
    async getByExternalId(type, externalId) {
      fail();
      calls.push({ op: 'get', type, id: externalId });
      return memos.get(externalId) ?? null;
    },
    async voidTransaction(type, internalId) {
      fail();
      calls.push({ op: 'void', type, id: internalId });
      for (const [key, memo] of memos) if (memo.id === internalId) memos.set(key, { ...memo, voided: true });
    },
  };
  const deps: PostCreditMemoDeps = {
    erp: netSuiteCreditMemoLedger(netsuite, mapping),
    links: linksRepo,
    publisher,
    invoiceLineProducts: async (invoiceId) => {
      productLookups.push(invoiceId);
      return new Map([['il_1Pgc74B7WZ01zgkWWh45tUBA', 'prod_seat']]);
    },
  };
  /** What flow 2 leaves behind once it posted the invoice. */
  const invoicePosted = (event: CanonicalEvent<'billing.credit_note.created'>) => {
    links.set(`customer#stripe#${event.data.customerBillingId}->netsuite`, '77');
    links.set(`invoice#stripe#${event.data.invoiceId}->netsuite`, '501');
  };
  return {
    netsuite,
    links,
    memos,
    calls,
    published,
    productLookups,
    invoicePosted,
    failWith: (error: Error) => {
      failNext = error;
    },
    deps,
  };
};

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('a billing credit note as an ERP credit memo', () => {
  it('upserts one memo created from and applied to the posted ERP invoice, links it and emits erp.credit_memo.posted', async () => {
    const w = world();
    const event = created();
    w.invoicePosted(event);
    const result = await postCreditMemo(event, w.deps);
    expect(result).toMatchObject({ outcome: 'posted', alreadyPosted: false });
    expect(w.calls).toEqual([
      {
        op: 'upsert',
        type: 'creditMemo',
        id: 'cn_1Pgc75B7WZ01zgkWJMPt5riP',
        body: {
          externalId: 'cn_1Pgc75B7WZ01zgkWJMPt5riP',
          entity: { id: '77' },
          createdFrom: { id: '501' },
          subsidiary: { id: '1' },
          currency: { id: '1' },
          tranDate: '2009-02-13',
          otherRefNum: 'ABCD-1234-CN-01',
          memo: 'Billing credit note ABCD-1234-CN-01',
          item: {
            items: [
              {
                item: { id: '101' },
                quantity: 1,
                amount: 11.9,
                description: 'My First Invoice Item (created for API docs)',
              },
              { item: { id: '100' }, quantity: 1, amount: 5, description: 'Service credit' },
            ],
          },
          apply: { items: [{ doc: { id: '501' }, apply: true, amount: 16.9 }] },
        },
        options: { replace: ['item', 'apply'] },
      },
    ]);
    expect(w.productLookups).toEqual([event.data.invoiceId]);
    expect(w.links.get('creditNote#stripe#cn_1Pgc75B7WZ01zgkWJMPt5riP->netsuite')).toBe('900');
    expect(w.published).toHaveLength(1);
    expect(w.published[0]).toMatchObject({
      type: 'erp.credit_memo.posted',
      causationId: event.id,
      correlationId: event.data.invoiceId,
      data: { erpCreditMemoId: '900', erpInvoiceId: '501', total: 1690, applied: 1690, currency: 'USD' },
    });
  });

  it('maps the billing tax to the tax item so the memo total equals the credit note total', async () => {
    const w = world();
    const event = created({
      subtotal: 1690,
      total: 2011,
      total_taxes: [{ amount: 321, tax_behavior: 'exclusive' }],
      pre_payment_amount: 2011,
    });
    w.invoicePosted(event);
    await postCreditMemo(event, w.deps);
    const sublist = w.calls[0]?.body?.item as
      | { items: { item: { id: string }; amount: number }[] }
      | undefined;
    const items = sublist?.items ?? [];
    expect(items.at(-1)).toEqual({ item: { id: '200' }, quantity: 1, amount: 3.21, description: 'Tax' });
    expect(items.reduce((sum, line) => sum + line.amount * 100, 0)).toBeCloseTo(2011);
  });

  it('leaves what was credited after payment unapplied on the customer, applying only the rest', async () => {
    const w = world();
    const event = created({ pre_payment_amount: 0, post_payment_amount: 1690, type: 'post_payment' });
    w.invoicePosted(event);
    const result = await postCreditMemo(event, w.deps);
    expect(w.calls[0]?.body?.apply).toEqual({ items: [] });
    expect(result).toMatchObject({ posted: { applied: 0, total: 1690 } });
  });

  it('does not ask billing for products when no product maps to an item of its own', async () => {
    const w = world();
    const event = created();
    w.invoicePosted(event);
    await postCreditMemo(event, {
      ...w.deps,
      erp: netSuiteCreditMemoLedger(w.netsuite, { ...mapping, productItemIds: {} }),
    });
    expect(w.productLookups).toEqual([]);
  });

  it('does not write the memo again when a retry only has to publish', async () => {
    const w = world();
    const event = created();
    w.invoicePosted(event);
    await postCreditMemo(event, w.deps);
    const again = await postCreditMemo(event, w.deps);
    expect(again).toMatchObject({ outcome: 'posted', alreadyPosted: true });
    expect(w.calls.filter((call) => call.op === 'upsert')).toHaveLength(1);
    expect(w.published).toHaveLength(2);
  });

  it('waits with InvoiceNotPostedYet, writing nothing, when the ERP invoice is not posted yet', async () => {
    const w = world();
    const error = await rejection(postCreditMemo(created(), w.deps));
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'InvoiceNotPostedYet', retryAfterSeconds: undefined });
    expect(w.calls).toEqual([]);
    expect(w.published).toEqual([]);
  });

  it('fails for good when the posted invoice has no linked ERP customer', async () => {
    const w = world();
    const event = created();
    w.links.set(`invoice#stripe#${event.data.invoiceId}->netsuite`, '501');
    await expect(postCreditMemo(event, w.deps)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'CustomerNotLinked',
    });
  });

  it('fails for good on a currency the ERP has no mapping for, writing nothing', async () => {
    const w = world();
    const event = created({ currency: 'jpy' });
    w.invoicePosted(event);
    await expect(postCreditMemo(event, w.deps)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'CurrencyNotMapped',
    });
    expect(w.calls).toEqual([]);
  });

  it('lets a transient ERP failure propagate, and links and publishes nothing', async () => {
    const w = world();
    const event = created();
    w.invoicePosted(event);
    w.failWith(new TransientError('throttled', { code: 'HTTP429', retryAfterSeconds: 2 }));
    await expect(postCreditMemo(event, w.deps)).rejects.toThrow(TransientError);
    w.failWith(new PermanentError('refused', { code: 'USER_ERROR', status: 400 }));
    await expect(postCreditMemo(event, w.deps)).rejects.toMatchObject({ code: 'USER_ERROR' });
    expect(w.links.has('creditNote#stripe#cn_1Pgc75B7WZ01zgkWJMPt5riP->netsuite')).toBe(false);
    expect(w.published).toEqual([]);
  });
});

describe('a voided billing credit note', () => {
  it('voids the linked memo, never deleting it, and emits erp.credit_memo.voided', async () => {
    const w = world();
    const create = created();
    w.invoicePosted(create);
    await postCreditMemo(create, w.deps);
    const event = voided();
    const result = await postCreditMemo(event, w.deps);
    expect(result).toMatchObject({ outcome: 'voided', alreadyVoided: false });
    expect(w.calls.slice(1)).toEqual([
      { op: 'get', type: 'creditMemo', id: 'cn_1Pgc75B7WZ01zgkWJMPt5riP' },
      { op: 'void', type: 'creditMemo', id: '900' },
    ]);
    expect(w.memos.get('cn_1Pgc75B7WZ01zgkWJMPt5riP')).toMatchObject({ voided: true });
    expect(w.published.at(-1)).toMatchObject({
      type: 'erp.credit_memo.voided',
      causationId: event.id,
      data: { erpCreditMemoId: '900', erpInvoiceId: '501', applied: 0 },
    });
  });

  it('does not void again a memo that is already voided (a retry after a lost answer or a failed publish)', async () => {
    const w = world();
    const create = created();
    w.invoicePosted(create);
    await postCreditMemo(create, w.deps);
    await postCreditMemo(voided(), w.deps);
    const again = await postCreditMemo(voided(), w.deps);
    expect(again).toMatchObject({ outcome: 'voided', alreadyVoided: true });
    expect(w.calls.filter((call) => call.op === 'void')).toHaveLength(1);
  });

  it('waits with CreditMemoNotPostedYet, writing nothing, when it arrives before the memo is created', async () => {
    const w = world();
    w.invoicePosted(created());
    const error = await rejection(postCreditMemo(voided(), w.deps));
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'CreditMemoNotPostedYet' });
    expect(w.calls).toEqual([]);
    expect(w.published).toEqual([]);
  });

  it('fails for good when the linked memo is gone from the ERP', async () => {
    const w = world();
    w.links.set('creditNote#stripe#cn_1Pgc75B7WZ01zgkWJMPt5riP->netsuite', '900');
    await expect(postCreditMemo(voided(), w.deps)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'CreditMemoMissing',
    });
  });
});

describe('the wait of a credit note or a void for what it depends on', () => {
  it('starts at 3 s and doubles per receive for both waiting codes, other transient errors at the base', () => {
    const policy = retryPolicyAwaiting(15, ['InvoiceNotPostedYet', 'CreditMemoNotPostedYet']);
    for (const code of ['InvoiceNotPostedYet', 'CreditMemoNotPostedYet']) {
      const early = new TransientError('not yet', { code });
      expect([1, 2, 3, 10].map((receive) => retryDelaySeconds(early, receive, policy))).toEqual([
        3, 6, 12, 900,
      ]);
    }
    expect(retryDelaySeconds(new TransientError('down', { code: 'HTTP503' }), 1, policy)).toBe(15);
  });
});
