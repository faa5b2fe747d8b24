import type { CheckpointStore } from '../../lambdas/adapters/aws/checkpoint-store';
import type { ErpReader } from '../../lambdas/adapters/netsuite/erp-reader';
import type { BillingReader } from '../../lambdas/adapters/stripe/billing-reader';
import {
  type BillingInvoice,
  compareCreditNote,
  compareErpInvoice,
  compareInvoice,
  type Difference,
  differenceCode,
  type ErpInvoice,
} from '../../lambdas/domain/reconciliation';
import { type ReconciliationCheckpoint, runReconciliation } from '../../lambdas/reconcile/logic';
import { TransientError } from '../../lambdas/shared/errors';

const window = { from: '2026-12-01T00:00:00.000Z', to: '2026-12-03T00:00:00.000Z' };
const billing = (overrides: Partial<BillingInvoice> = {}): BillingInvoice => ({
  id: 'in_1',
  status: 'open',
  currency: 'USD',
  total: 2500,
  amountPaid: 0,
  ...overrides,
});
const erp = (overrides: Partial<ErpInvoice> = {}): ErpInvoice => ({
  id: '1001',
  externalId: 'in_1',
  currency: 'USD',
  total: 2500,
  amountPaid: 0,
  ...overrides,
});

describe('comparing one billing invoice with its ERP invoice', () => {
  it('finds nothing when total, currency and payment agree', () => {
    expect(compareInvoice(billing(), erp(), window)).toEqual([]);
    expect(
      compareInvoice(billing({ status: 'paid', amountPaid: 2500 }), erp({ amountPaid: 2500 }), window),
    ).toEqual([]);
  });

  it('reports an invoice missing in the ERP, naming both sides', () => {
    const [difference] = compareInvoice(billing(), null, window);
    expect(difference).toMatchObject({
      kind: 'invoice-missing-in-erp',
      billing: { system: 'stripe', entity: 'invoice', id: 'in_1' },
      erp: { system: 'netsuite', recordType: 'invoice', id: null, externalId: 'in_1' },
    });
    expect(difference?.detail).toContain('in_1');
  });

  it('reports a total that differs with both amounts', () => {
    const [difference] = compareInvoice(billing(), erp({ total: 2400 }), window);
    expect(difference?.kind).toBe('invoice-total-differs');
    expect(difference?.detail).toBe('total 2500 USD in billing invoice in_1, 2400 USD in ERP invoice 1001');
  });

  it('reports a currency that differs instead of comparing amounts across currencies', () => {
    const differences = compareInvoice(billing(), erp({ currency: 'EUR', total: 1 }), window);
    expect(differences.map((d) => d.kind)).toEqual(['invoice-currency-differs']);
  });

  it('reports a paid invoice whose payment is not applied in the ERP', () => {
    const differences = compareInvoice(billing({ status: 'paid', amountPaid: 2500 }), erp(), window);
    expect(differences.map((d) => d.kind)).toEqual(['payment-not-applied']);
  });

  it('ignores drafts and void invoices', () => {
    expect(compareInvoice(billing({ status: 'draft' }), null, window)).toEqual([]);
    expect(compareInvoice(billing({ status: 'void' }), null, window)).toEqual([]);
  });

  it('gives the same difference the same id every time, and different records different ids', () => {
    const [a] = compareInvoice(billing(), null, window);
    const [b] = compareInvoice(billing(), null, window);
    const [c] = compareInvoice(billing({ id: 'in_2' }), null, window);
    expect(a?.differenceId).toBe(b?.differenceId);
    expect(a?.differenceId).not.toBe(c?.differenceId);
  });
});

describe('comparing credit notes and ERP records', () => {
  it('reports an issued credit note with no credit memo, and a memo whose total differs', () => {
    const note = { id: 'cn_1', status: 'issued', currency: 'USD', total: 500 };
    expect(compareCreditNote(note, null, window).map((d) => d.kind)).toEqual(['credit-note-missing-memo']);
    expect(
      compareCreditNote(note, { id: '7', currency: 'USD', total: 400 }, window).map((d) => d.kind),
    ).toEqual(['credit-memo-total-differs']);
    expect(compareCreditNote({ ...note, status: 'void' }, null, window)).toEqual([]);
  });

  it('reports an ERP invoice with no billing counterpart, and not one billing knows', () => {
    expect(compareErpInvoice(erp({ externalId: null }), null, window)[0]).toMatchObject({
      kind: 'erp-invoice-without-billing',
      billing: null,
      erp: { id: '1001' },
    });
    expect(compareErpInvoice(erp({ externalId: 'manual_1' }), false, window)).toHaveLength(1);
    expect(compareErpInvoice(erp(), true, window)).toEqual([]);
  });

  it('names a kind as an exception code', () => {
    expect(differenceCode('invoice-total-differs')).toBe('InvoiceTotalDiffers');
  });
});

/** Billing with `count` open invoices `in_<n>`, paged like Stripe (newest first does not matter here). */
const fakeBilling = (count: number, pageSize = 100): BillingReader => ({
  async listInvoices(_window, after) {
    const start = after === null ? 0 : Number(after.slice(3)) + 1;
    const items = Array.from({ length: Math.max(0, Math.min(pageSize, count - start)) }, (_, i) =>
      billing({ id: `in_${start + i}` }),
    );
    return { items, next: start + pageSize < count ? `in_${start + pageSize - 1}` : null };
  },
  async listCreditNotes() {
    return { items: [{ id: 'cn_1', status: 'issued', currency: 'USD', total: 100 }], next: null };
  },
  async invoiceExists(id) {
    return id.startsWith('in_');
  },
  async retrieve() {
    return null;
  },
});

const memoryCheckpoints = () => {
  const items = new Map<string, { state: string; status: string }>();
  const store: CheckpointStore<ReconciliationCheckpoint> = {
    async load(runId) {
      const item = items.get(runId);
      return item ? JSON.parse(item.state) : null;
    },
    async save(runId, state, status) {
      items.set(runId, { state: JSON.stringify(state), status });
    },
  };
  return { store, items };
};

const fakeErp = (invoices: Map<string, ErpInvoice>, orphans: ErpInvoice[] = []): ErpReader => ({
  async getInvoice(externalId) {
    return invoices.get(externalId) ?? null;
  },
  async getInvoiceById(id) {
    return orphans.find((o) => o.id === id) ?? null;
  },
  async getCreditMemo() {
    return null;
  },
  async listInvoices(_window, offset) {
    const refs = [...invoices.values(), ...orphans].map((i) => ({ id: i.id, externalId: i.externalId }));
    const page = refs.slice(offset, offset + 1000);
    return { invoices: page, nextOffset: offset + 1000 < refs.length ? offset + 1000 : null };
  },
});

const depsFor = (count: number, erpInvoices: Map<string, ErpInvoice>, orphans: ErpInvoice[] = []) => {
  const reported: Difference[] = [];
  const checkpoints = memoryCheckpoints();
  // Posting links each billing invoice forward to its ERP invoice (billing id → ERP id).
  const linked = new Map([...erpInvoices.entries()].map(([billingId, invoice]) => [billingId, invoice.id]));
  return {
    reported,
    checkpoints,
    deps: {
      billing: fakeBilling(count),
      erp: fakeErp(erpInvoices, orphans),
      links: {
        async find(queries: readonly { key: { id: string } }[]) {
          if (queries.length > 100) throw new Error('BatchGetItem takes at most 100 keys');
          return queries.map((q) => linked.get(q.key.id));
        },
      },
      report: async (difference: Difference) => {
        reported.push(difference);
      },
      checkpoints: checkpoints.store,
      erpConcurrency: 3,
      creditMemos: false,
      sleep: async () => {},
    },
  };
};

const posted = (count: number) =>
  new Map(
    Array.from({ length: count }, (_, n) => [
      `in_${n}`,
      erp({ id: String(5000 + n), externalId: `in_${n}` }),
    ]),
  );

describe('a reconciliation run', () => {
  it('pages through every invoice and reports each kind of difference once', async () => {
    const erpInvoices = posted(250);
    erpInvoices.delete('in_7');
    erpInvoices.set('in_8', erp({ id: '5008', externalId: 'in_8', total: 1 }));
    const orphan = erp({ id: '9999', externalId: null });
    const { deps, reported } = depsFor(250, erpInvoices, [orphan]);

    const result = await runReconciliation(deps, window);

    expect(result).toMatchObject({
      status: 'complete',
      compared: { invoices: 250, creditNotes: 0, erpInvoices: 250 },
      open: 3,
    });
    expect(reported.map((d) => `${d.kind} ${d.billing?.id ?? d.erp.id}`).sort()).toEqual([
      'erp-invoice-without-billing 9999',
      'invoice-missing-in-erp in_7',
      'invoice-total-differs in_8',
    ]);
  });

  it('stops between pages when told to and continues from its checkpoint on the next call', async () => {
    const { deps, reported, checkpoints } = depsFor(350, posted(349));
    let pages = 0;
    const first = await runReconciliation(deps, window, { shouldStop: () => pages++ >= 2 });
    expect(first.status).toBe('partial');
    expect(first.compared.invoices).toBe(200);
    expect(checkpoints.items.get(first.runId)?.status).toBe('RUNNING');

    const second = await runReconciliation(deps, window);
    expect(second).toMatchObject({ status: 'complete', compared: { invoices: 350 } });
    expect(reported.map((d) => d.billing?.id)).toEqual(['in_349']);
    expect(checkpoints.items.get(first.runId)?.status).toBe('COMPLETE');
  });

  it('continues an unfinished scheduled run over its own window, whatever window the next call asks', async () => {
    const { deps } = depsFor(300, posted(300));
    let pages = 0;
    await runReconciliation(deps, window, { runId: 'scheduled', shouldStop: () => pages++ >= 1 });
    const later = { from: '2026-12-02T00:00:00.000Z', to: '2026-12-04T00:00:00.000Z' };
    const resumed = await runReconciliation(deps, later, { runId: 'scheduled' });
    expect(resumed).toMatchObject({ status: 'complete', window, compared: { invoices: 300 } });
    const fresh = await runReconciliation(deps, later, { runId: 'scheduled' });
    expect(fresh.window).toEqual(later);
  });

  it('checks credit notes only when the ERP has credit memos configured', async () => {
    const off = depsFor(1, posted(1));
    expect((await runReconciliation(off.deps, window)).compared.creditNotes).toBe(0);
    const on = depsFor(1, posted(1));
    const result = await runReconciliation({ ...on.deps, creditMemos: true }, window);
    expect(result.compared.creditNotes).toBe(1);
    expect(on.reported.map((d) => d.kind)).toEqual(['credit-note-missing-memo']);
  });

  it('retries a throttled ERP read and then compares as usual', async () => {
    const { deps, reported } = depsFor(1, posted(1));
    let calls = 0;
    const erpReader = deps.erp;
    const throttled: ErpReader = {
      ...erpReader,
      getInvoice: async (id) => {
        calls += 1;
        if (calls < 3) throw new TransientError('busy', { code: 'CONCURRENCY_LIMIT_EXCEEDED', status: 429 });
        return erpReader.getInvoice(id);
      },
    };
    const result = await runReconciliation({ ...deps, erp: throttled }, window);
    expect(result.status).toBe('complete');
    expect(calls).toBe(3);
    expect(reported).toEqual([]);
  });
});

describe('a reconciliation run sharing the NetSuite account', () => {
  it('holds at most erpConcurrency of the account leases at once and gives every one back', async () => {
    const { deps } = depsFor(250, posted(250));
    let held = 0;
    let most = 0;
    let taken = 0;
    const erpLeases = {
      acquire: async () => {
        held += 1;
        taken += 1;
        most = Math.max(most, held);
        return async () => {
          held -= 1;
        };
      },
    };
    const result = await runReconciliation({ ...deps, erpConcurrency: 2, erpLeases }, window);
    expect(result.status).toBe('complete');
    expect(most).toBe(2);
    expect(taken).toBeGreaterThan(0);
    expect(held).toBe(0);
  });
});
