import { once } from 'node:events';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import type { CheckpointStore } from '../lambdas/adapters/aws/checkpoint-store';
import { NetSuiteClient } from '../lambdas/adapters/netsuite/client';
import { NetSuiteErpReader } from '../lambdas/adapters/netsuite/erp-reader';
import { StripeBillingReader } from '../lambdas/adapters/stripe/billing-reader';
import { type ReconciliationCheckpoint, runReconciliation } from '../lambdas/reconcile/logic';

/**
 * `npm run bench -- reconcile`: one reconciliation window of 100,000 invoices, through the real
 * adapters (the `stripe` SDK paging 100 at a time, the NetSuite client with token-based auth reading
 * each ERP invoice and listing 1000 ids a page) against vendor-shaped servers in a worker thread that
 * generate the pages on the fly (seeding 100,000 invoices into the twins through their APIs would take
 * longer than the run). Every 1000th invoice of three is missing, altered or unapplied in the ERP, and
 * 50 ERP invoices have no billing counterpart. Links and checkpoints are in memory here.
 *
 * Figures: invoices compared per second against a floor measured in the same run (the same requests
 * made with bare `fetch`: no SDK, no signing, no comparison), and the main thread's peak live heap for
 * the 100,000 window against a 10,000 window (bounded memory means the ratio stays near 1).
 */

export const RECONCILE_BUDGETS = {
  /** Reconciliation's rate as a share of the bare-fetch floor. */
  rateToFloor: 0.25,
  /** Peak live heap (after full collections) of the 100k window over the 10k window's. */
  heapGrowth: 1.5,
} as const;

const SERVERS = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { count, orphans } = workerData;
const pad = (n) => String(n).padStart(7, '0');
const kindOf = (i) => (i % 1000 === 7 ? 'missing' : i % 1000 === 8 ? 'altered' : i % 1000 === 9 ? 'unapplied' : 'clean');
const paid = (i) => i % 2 === 1;
const total = (i) => 1000 + (i % 500) * 10;
const stripeInvoice = (i) => ({
  id: 'in_bench_' + pad(i), object: 'invoice', status: paid(i) ? 'paid' : 'open', currency: 'usd',
  total: total(i), amount_paid: paid(i) ? total(i) : 0, created: 1764547200 + i, customer: 'cus_bench',
  lines: { object: 'list', data: [], has_more: false },
});
const json = (res, status, body) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};
const stripe = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== '/v1/invoices') return json(res, 404, { error: { type: 'invalid_request_error' } });
  // Newest first, like Stripe: index count-1 down to 0.
  const after = url.searchParams.get('starting_after');
  const start = after ? Number(after.slice(9)) - 1 : count - 1;
  const limit = Number(url.searchParams.get('limit') ?? 10);
  const data = [];
  for (let i = start; i >= 0 && data.length < limit; i -= 1) data.push(stripeInvoice(i));
  json(res, 200, { object: 'list', data, has_more: start - data.length >= 0, url: '/v1/invoices' });
});
const erpRecord = (i) => {
  const kind = kindOf(i);
  const amount = (kind === 'altered' ? total(i) + 100 : total(i)) / 100;
  return { id: String(500000 + i), externalId: 'in_bench_' + pad(i), currency: { id: '1' }, total: amount,
    amountPaid: paid(i) && kind !== 'unapplied' ? amount : 0 };
};
const erpRows = (function* () { for (let i = 0; i < count; i += 1) if (kindOf(i) !== 'missing') yield { links: [], id: String(500000 + i), externalid: 'in_bench_' + pad(i) }; for (let k = 0; k < orphans; k += 1) yield { links: [], id: String(900000 + k) }; });
const listed = count - Math.floor(count / 1000) + orphans;
const netsuite = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/services/rest/query/v1/suiteql') {
    // The query's body is not read: every page is of the one query reconciliation sends.
    req.resume();
    const offset = Number(url.searchParams.get('offset'));
    const limit = Number(url.searchParams.get('limit'));
    const items = [];
    let n = 0;
    for (const row of erpRows()) { if (n >= offset + limit) break; if (n >= offset) items.push(row); n += 1; }
    return json(res, 200, { links: [], count: items.length, hasMore: offset + items.length < listed, items, offset, totalResults: listed });
  }
  const path = decodeURIComponent(url.pathname.replace('/services/rest/record/v1/invoice', ''));
  const key = path.slice(1);
  if (key.startsWith('eid:in_bench_')) {
    const i = Number(key.slice(13));
    if (kindOf(i) === 'missing') return json(res, 404, { title: 'Not Found', 'o:errorDetails': [{ 'o:errorCode': 'NONEXISTENT_ID' }] });
    return json(res, 200, erpRecord(i));
  }
  const id = Number(key);
  if (id >= 900000) return json(res, 200, { id: key, currency: { id: '1' }, total: 12.5, amountPaid: 0 });
  return json(res, 200, erpRecord(id - 500000));
});
for (const server of [stripe, netsuite]) server.keepAliveTimeout = 60000;
stripe.listen(0, '127.0.0.1', () => netsuite.listen(0, '127.0.0.1', () =>
  parentPort.postMessage({ stripe: stripe.address().port, netsuite: netsuite.address().port })));
`;

const CONCURRENCY = 4;
const ORPHANS = 50;

interface Servers {
  readonly stripe: string;
  readonly netsuite: string;
  close(): Promise<void>;
}

const startServers = async (count: number): Promise<Servers> => {
  const worker = new Worker(SERVERS, { eval: true, workerData: { count, orphans: ORPHANS } });
  const [ports] = (await once(worker, 'message')) as [{ stripe: number; netsuite: number }];
  return {
    stripe: `http://127.0.0.1:${ports.stripe}`,
    netsuite: `http://127.0.0.1:${ports.netsuite}`,
    close: async () => {
      await worker.terminate();
    },
  };
};

// A full collection on demand, for the live heap below (what the run holds, not garbage V8 has yet
// to collect: the plain peak moves with when V8 chooses to collect, which a longer run defers).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Samples the main thread's heap while `run` runs; returns its result, seconds taken, peak heap (MB,
 * garbage included) and peak live heap (MB, after a full collection every 250 ms).
 */
const measured = async <T>(run: () => Promise<T>) => {
  collectGarbage();
  const base = getHeapStatistics().used_heap_size;
  let peak = base;
  let live = base;
  const sampler = setInterval(() => {
    peak = Math.max(peak, getHeapStatistics().used_heap_size);
  }, 5);
  const collector = setInterval(() => {
    collectGarbage();
    live = Math.max(live, getHeapStatistics().used_heap_size);
  }, 250);
  const started = performance.now();
  try {
    const result = await run();
    const seconds = (performance.now() - started) / 1000;
    return { result, seconds, peakMb: peak / 2 ** 20, liveMb: live / 2 ** 20 };
  } finally {
    clearInterval(sampler);
    clearInterval(collector);
  }
};

const reconcileWindow = async (count: number) => {
  const servers = await startServers(count);
  try {
    const saved = new Map<string, string>();
    const checkpoints: CheckpointStore<ReconciliationCheckpoint> = {
      load: async (runId) => (saved.has(runId) ? JSON.parse(saved.get(runId) as string) : null),
      save: async (runId, state) => {
        saved.set(runId, JSON.stringify(state));
      },
    };
    let reported = 0;
    const deps = {
      billing: new StripeBillingReader({ apiKey: async () => 'sk_test_bench', baseUrl: servers.stripe }),
      erp: new NetSuiteErpReader(
        new NetSuiteClient({
          baseUrl: servers.netsuite,
          credentials: async () => ({
            accountId: 'BENCH',
            consumerKey: 'ck',
            consumerSecret: 'cs',
            tokenId: 'tk',
            tokenSecret: 'ts',
          }),
        }),
        { USD: '1' },
      ),
      // Every billing invoice revbridge posted is linked to its ERP invoice; the orphans (900000+)
      // have no external id, so no link is asked for them.
      links: {
        find: async (queries: readonly { key: { id: string } }[]) =>
          queries.map((query) => String(500_000 + Number(query.key.id.slice('in_bench_'.length)))),
      },
      report: async () => {
        reported += 1;
      },
      checkpoints,
      erpConcurrency: CONCURRENCY,
      creditMemos: false,
    };
    const window = { from: '2026-12-01T00:00:00.000Z', to: '2026-12-03T00:00:00.000Z' };
    const run = await measured(() => runReconciliation(deps, window));
    return { ...run, reported };
  } finally {
    await servers.close();
  }
};

/** The same requests with bare fetch: the pages and one ERP read per invoice, nothing compared. */
const floorWindow = async (count: number) => {
  const servers = await startServers(count);
  try {
    return await measured(async () => {
      let after: string | null = null;
      let read = 0;
      for (;;) {
        const page = (await (
          await fetch(`${servers.stripe}/v1/invoices?limit=100${after ? `&starting_after=${after}` : ''}`)
        ).json()) as { data: { id: string }[]; has_more: boolean };
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < page.data.length) {
              const invoice = page.data[next++] as { id: string };
              await (
                await fetch(`${servers.netsuite}/services/rest/record/v1/invoice/eid:${invoice.id}`)
              ).arrayBuffer();
              read += 1;
            }
          }),
        );
        if (!page.has_more) break;
        after = page.data.at(-1)?.id ?? null;
      }
      return read;
    });
  } finally {
    await servers.close();
  }
};

type Record = (
  name: string,
  value: number,
  unit: string,
  budget: number,
  lowerIsBetter: boolean,
  note?: string,
) => void;

export const benchReconcile = async (record: Record, count = 100_000): Promise<void> => {
  const floor = await floorWindow(count);
  const small = await reconcileWindow(count / 10);
  const full = await reconcileWindow(count);
  const expected = 3 * Math.floor(count / 1000) + ORPHANS;
  if (
    full.result.status !== 'complete' ||
    full.result.compared.invoices !== count ||
    full.reported !== expected
  ) {
    throw new Error(
      `reconciliation of ${count} invoices did not find what was seeded: ${JSON.stringify(full.result)}, ${full.reported} reported, ${expected} expected`,
    );
  }
  const rate = count / full.seconds;
  const floorRate = floor.result / floor.seconds;
  record(
    `reconcile ${count.toLocaleString('en')} invoices: rate / floor`,
    rate / floorRate,
    'ratio',
    RECONCILE_BUDGETS.rateToFloor,
    false,
    `${Math.round(rate)} invoices compared/s (${full.seconds.toFixed(1)} s, ${full.reported} differences); bare-fetch floor ${Math.round(floorRate)}/s`,
  );
  record(
    `reconcile live heap: ${count / 1000}k / ${count / 10_000}k window`,
    full.liveMb / small.liveMb,
    'ratio',
    RECONCILE_BUDGETS.heapGrowth,
    true,
    `peak live ${full.liveMb.toFixed(0)} MB for ${count.toLocaleString('en')}, ${small.liveMb.toFixed(0)} MB for ${(count / 10).toLocaleString('en')} (after a full collection every 250 ms); garbage included ${full.peakMb.toFixed(0)} MB and ${small.peakMb.toFixed(0)} MB; floor run ${floor.liveMb.toFixed(0)} MB live`,
  );
};
