import type { EventPublisher } from '../../lambdas/adapters/aws/event-publisher';
import type { ExceptionsRepository } from '../../lambdas/adapters/aws/exceptions-repository';
import type { LinksRepository, System } from '../../lambdas/adapters/aws/links-repository';
import { netSuiteErpLedger } from '../../lambdas/adapters/netsuite/erp-ledger';
import type { CanonicalEvent } from '../../lambdas/domain/events';
import { postInvoice } from '../../lambdas/post-invoice/logic';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';
import { invoiceFinalizedEvent as finalized } from '../support/canonical-events';

const mapping = {
  subsidiaryId: '1',
  currencyIds: { USD: '1' },
  productItemIds: {},
  defaultItemId: '100',
  taxItemId: '200',
  adjustmentItemId: '300',
};

const world = () => {
  const links = new Map<string, string>();
  const upserts: {
    type: string;
    externalId: string;
    body: Record<string, unknown>;
    options?: { replace?: readonly string[] } | undefined;
  }[] = [];
  const published: CanonicalEvent[] = [];
  const exceptions: { code: string; eventId: string }[] = [];
  let failNext: Error | undefined;
  const linksRepo: LinksRepository = {
    async find(queries) {
      return queries.map(({ key, target }) => links.get(`${key.entity}#${key.system}#${key.id}->${target}`));
    },
    async record(key, target: System, targetId) {
      links.set(`${key.entity}#${key.system}#${key.id}->${target}`, targetId);
    },
  };
  const exceptionsRepo: ExceptionsRepository = {
    async open(flow, code, message, event) {
      exceptions.push({ code, eventId: event.id });
      return { exceptionId: `exc_${exceptions.length}`, flow, code, message, event };
    },
  };
  const publisher: EventPublisher = {
    async publish(events) {
      published.push(...events);
    },
  };
  const netsuite = {
    async upsert(
      type: string,
      externalId: string,
      body: Record<string, unknown>,
      options?: { replace?: readonly string[] },
    ) {
      if (failNext) {
        const error = failNext;
        failNext = undefined;
        throw error;
      }
      upserts.push({ type, externalId, body, options });
      return `${type}-${upserts.length}`;
    },
  };
  return {
    links,
    upserts,
    published,
    exceptions,
    failWith: (error: Error) => {
      failNext = error;
    },
    deps: {
      erp: netSuiteErpLedger(netsuite, mapping),
      links: linksRepo,
      exceptions: exceptionsRepo,
      publisher,
    },
  };
};

describe('posting a finalized invoice to the ERP', () => {
  it('creates the ERP customer when unknown, upserts the invoice by external id and emits erp.invoice.posted', async () => {
    const w = world();
    const event = finalized();
    const result = await postInvoice(event, w.deps);
    expect(result).toMatchObject({ outcome: 'posted', alreadyPosted: false });
    expect(w.upserts.map((u) => [u.type, u.externalId])).toEqual([
      ['customer', event.data.customer.billingId],
      ['invoice', event.data.id],
    ]);
    expect(w.upserts[1]?.body).toMatchObject({ externalId: event.data.id, entity: { id: 'customer-1' } });
    // A second upsert (a re-drive after reconciliation) replaces the lines instead of appending to them.
    expect(w.upserts[1]?.options).toEqual({ replace: ['item'] });
    expect(w.published).toHaveLength(1);
    expect(w.published[0]).toMatchObject({ type: 'erp.invoice.posted', causationId: event.id });
  });

  it('reuses a linked ERP customer instead of creating it again', async () => {
    const w = world();
    const event = finalized();
    w.links.set(`customer#stripe#${event.data.customer.billingId}->netsuite`, '4242');
    await postInvoice(event, w.deps);
    expect(w.upserts.map((u) => u.type)).toEqual(['invoice']);
    expect(w.upserts[0]?.body).toMatchObject({ entity: { id: '4242' } });
  });

  it('books the invoice to the subsidiary the saga routed the customer to, not the default one', async () => {
    const w = world();
    const event = finalized();
    const customer = event.data.customer.billingId;
    w.links.set(`customer#stripe#${customer}->netsuite`, '4242');
    w.links.set(`customerSubsidiary#stripe#${customer}->netsuite`, '3');
    await postInvoice(event, w.deps);
    expect(w.upserts[0]?.body).toMatchObject({ entity: { id: '4242' }, subsidiary: { id: '3' } });
  });

  it('books an invoice of a customer it creates itself to the default subsidiary', async () => {
    const w = world();
    await postInvoice(finalized(), w.deps);
    expect(w.upserts.map((u) => u.body.subsidiary)).toEqual([{ id: '1' }, { id: '1' }]);
  });

  it('does not write an already linked invoice again when a retry only has to publish', async () => {
    const w = world();
    const event = finalized();
    await postInvoice(event, w.deps);
    const result = await postInvoice(event, w.deps);
    expect(result).toMatchObject({ outcome: 'posted', alreadyPosted: true });
    expect(w.upserts.filter((u) => u.type === 'invoice')).toHaveLength(1);
  });

  it('lets a transient failure propagate so the queue retries, opening no exception', async () => {
    const w = world();
    w.failWith(new TransientError('throttled', { code: 'HTTP429', retryAfterSeconds: 3 }));
    await expect(postInvoice(finalized(), w.deps)).rejects.toThrow(TransientError);
    expect(w.exceptions).toHaveLength(0);
  });

  // The consumer opens the exception for a permanent failure (test/unit/event-consumer.test.ts).
  it('throws a permanent failure for the consumer to report, publishing nothing', async () => {
    const w = world();
    const event = finalized();
    w.failWith(new PermanentError('bad subsidiary', { code: 'INVALID_VALUE', status: 400 }));
    await expect(postInvoice(event, w.deps)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'INVALID_VALUE',
    });
    expect(w.exceptions).toEqual([]);
    expect(w.published).toEqual([]);
  });

  it('fails for good on a currency with no ERP mapping, before any ERP write', async () => {
    const w = world();
    const event = finalized();
    const euro = { ...event, data: { ...event.data, currency: 'EUR' } };
    await expect(postInvoice(euro, w.deps)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'CurrencyNotMapped',
    });
    expect(w.upserts).toHaveLength(0);
  });
});
