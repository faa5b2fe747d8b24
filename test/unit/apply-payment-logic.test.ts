import type { EventPublisher } from '../../lambdas/adapters/aws/event-publisher';
import type { ExceptionsRepository } from '../../lambdas/adapters/aws/exceptions-repository';
import type { LinksRepository, System } from '../../lambdas/adapters/aws/links-repository';
import type { WriteOptions } from '../../lambdas/adapters/netsuite/client';
import { netSuitePaymentLedger } from '../../lambdas/adapters/netsuite/erp-ledger';
import { applyPayment } from '../../lambdas/apply-payment/logic';
import type { CanonicalEvent } from '../../lambdas/domain/events';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';
import { retryDelaySeconds } from '../../lambdas/shared/sqs-retry';
import { invoicePaidEvent as paid } from '../support/canonical-events';

const mapping = { subsidiaryId: '1', currencyIds: { USD: '1' } };

const world = () => {
  const links = new Map<string, string>();
  const upserts: {
    type: string;
    externalId: string;
    body: Record<string, unknown>;
    options: WriteOptions | undefined;
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
    async upsert(type: string, externalId: string, body: Record<string, unknown>, options?: WriteOptions) {
      if (failNext) {
        const error = failNext;
        failNext = undefined;
        throw error;
      }
      upserts.push({ type, externalId, body, options });
      return `${type}-${upserts.length}`;
    },
  };
  /** What flow 2 leaves behind once it posted the invoice. */
  const posted = (event: CanonicalEvent<'billing.invoice.paid'>) => {
    links.set(`customer#stripe#${event.data.customerBillingId}->netsuite`, '77');
    links.set(`invoice#stripe#${event.data.invoiceId}->netsuite`, '501');
  };
  return {
    links,
    upserts,
    published,
    exceptions,
    posted,
    failWith: (error: Error) => {
      failNext = error;
    },
    deps: {
      erp: netSuitePaymentLedger(netsuite, mapping),
      links: linksRepo,
      exceptions: exceptionsRepo,
      publisher,
    },
  };
};

describe('applying a paid invoice as an ERP customer payment', () => {
  it('upserts one customer payment applied to the posted ERP invoice, links it and emits erp.payment.applied', async () => {
    const w = world();
    const event = paid();
    w.posted(event);
    const result = await applyPayment(event, w.deps);
    expect(result).toMatchObject({ outcome: 'applied', alreadyApplied: false });
    expect(w.upserts).toEqual([
      {
        type: 'customerPayment',
        externalId: 'pi_test_1',
        body: {
          externalId: 'pi_test_1',
          customer: { id: '77' },
          subsidiary: { id: '1' },
          currency: { id: '1' },
          tranDate: '2024-07-26',
          payment: 12.34,
          memo: `Billing payment for invoice ${event.data.invoiceId}`,
          apply: { items: [{ doc: { id: '501' }, apply: true, amount: 12.34 }] },
        },
        options: { replace: ['apply'] },
      },
    ]);
    expect(w.links.get('payment#stripe#pi_test_1->netsuite')).toBe('customerPayment-1');
    expect(w.published).toHaveLength(1);
    expect(w.published[0]).toMatchObject({
      type: 'erp.payment.applied',
      causationId: event.id,
      correlationId: event.data.invoiceId,
      data: { erpPaymentId: 'customerPayment-1', erpInvoiceId: '501', amount: 1234, currency: 'USD' },
    });
  });

  it('does not write the payment again when a retry only has to publish', async () => {
    const w = world();
    const event = paid();
    w.posted(event);
    await applyPayment(event, w.deps);
    const again = await applyPayment(event, w.deps);
    expect(again).toMatchObject({ outcome: 'applied', alreadyApplied: true });
    expect(w.upserts).toHaveLength(1);
  });

  it('keys a payment without a billing payment id by its invoice', async () => {
    const w = world();
    const event = paid({ payment_intent: null, charge: null });
    w.posted(event);
    await applyPayment(event, w.deps);
    expect(w.upserts[0]?.externalId).toBe(`${event.data.invoiceId}-payment`);
  });

  it('throws InvoiceNotPostedYet with a short retry when the ERP invoice is not posted yet, writing nothing', async () => {
    const w = world();
    const error = await applyPayment(paid(), w.deps).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'InvoiceNotPostedYet', retryAfterSeconds: undefined });
    expect(w.upserts).toHaveLength(0);
    expect(w.exceptions).toHaveLength(0);
    expect(w.published).toHaveLength(0);
  });

  it('lets a transient ERP failure propagate so the queue retries, opening no exception', async () => {
    const w = world();
    const event = paid();
    w.posted(event);
    w.failWith(new TransientError('throttled', { code: 'HTTP429', retryAfterSeconds: 3 }));
    await expect(applyPayment(event, w.deps)).rejects.toThrow(TransientError);
    expect(w.exceptions).toHaveLength(0);
  });

  // The consumer opens the exception for a permanent failure (test/unit/event-consumer.test.ts).
  it('throws a permanent failure for the consumer to report, linking and publishing nothing', async () => {
    const w = world();
    const event = paid();
    w.posted(event);
    w.failWith(new PermanentError('more than due', { code: 'INVALID_VALUE', status: 400 }));
    await expect(applyPayment(event, w.deps)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'INVALID_VALUE',
    });
    expect(w.exceptions).toEqual([]);
    expect(w.published).toEqual([]);
    expect(w.links.has('payment#stripe#pi_test_1->netsuite')).toBe(false);
  });

  it('fails for good on a currency the ERP has no mapping for, calling nothing', async () => {
    const w = world();
    const event = paid({ currency: 'eur' });
    w.posted(event);
    await expect(applyPayment(event, w.deps)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'CurrencyNotMapped',
    });
    expect(w.upserts).toHaveLength(0);
  });

  it('applies nothing for a payment of zero', async () => {
    const w = world();
    const result = await applyPayment(paid({ amount_paid: 0 }), w.deps);
    expect(result).toEqual({ outcome: 'nothing-to-apply' });
    expect(w.upserts).toHaveLength(0);
    expect(w.published).toHaveLength(0);
  });
});

describe('the wait for an invoice that is not posted yet', () => {
  it('starts at 3 s and doubles per receive, while other transient errors start at 15 s', () => {
    const policy = { baseSeconds: 15, baseSecondsByCode: { InvoiceNotPostedYet: 3 } };
    const early = new TransientError('not yet', { code: 'InvoiceNotPostedYet' });
    expect([1, 2, 3, 10].map((receive) => retryDelaySeconds(early, receive, policy))).toEqual([
      3, 6, 12, 900,
    ]);
    expect(retryDelaySeconds(new TransientError('down', { code: 'HTTP503' }), 1, policy)).toBe(15);
  });
});
