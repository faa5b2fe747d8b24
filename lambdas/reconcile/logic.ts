import { createHash } from 'node:crypto';
import type { CheckpointStore } from '../adapters/aws/checkpoint-store';
import type { ConcurrencyLeases } from '../adapters/aws/concurrency-leases';
import type { OpenDifferencesStore } from '../adapters/aws/open-differences';
import type { ErpInvoiceRef, ErpReader } from '../adapters/netsuite/erp-reader';
import type { BillingReader, StripeBillingReader } from '../adapters/stripe/billing-reader';
import { type CanonicalEvent, canonicalEventId } from '../domain/events';
import type { LinkQuery, LinksRepository } from '../domain/ports';
import {
  compareCreditNote,
  compareErpInvoice,
  compareInvoice,
  compareWonDeal,
  type Difference,
  type DifferenceKind,
  type ReconciliationWindow,
  type WonDeal,
  type WonDealPage,
} from '../domain/reconciliation';
import { salesOrderExternalId } from '../quote-to-cash/identity';
import { isTransient } from '../shared/errors';

export const FLOW = 'reconcile';

export type Phase =
  | 'invoices'
  | 'creditNotes'
  | 'erpInvoices'
  | 'salesforceDeals'
  | 'hubspotDeals'
  | 'openDifferences'
  | 'done';

/** Where a run is: small and bounded whatever the window's size (a cursor and counters). */
export interface ReconciliationCheckpoint {
  readonly runId: string;
  readonly window: ReconciliationWindow;
  phase: Phase;
  /** Billing phases: the `starting_after` id; ERP phase: the offset. */
  cursor: string | null;
  compared: { invoices: number; creditNotes: number; erpInvoices: number; deals?: number };
  differences: Partial<Record<DifferenceKind, number>>;
  /** The re-check of open differences: how many stay open, and how many this run closed. */
  open?: number;
  closed?: number;
  readonly startedAt: string;
  invocations: number;
}

export interface ReconciliationDeps {
  readonly billing: Pick<BillingReader, 'listInvoices' | 'listCreditNotes' | 'invoiceExists'>;
  readonly erp: ErpReader;
  readonly links: Pick<LinksRepository, 'find'>;
  /** Opens the difference's exception and counts its metric; must be idempotent per difference id. */
  readonly report: (
    difference: Difference,
    event: CanonicalEvent<'ops.reconciliation.difference'>,
  ) => Promise<void>;
  readonly checkpoints: CheckpointStore<ReconciliationCheckpoint>;
  /** ERP requests in flight at once, each under a lease of the account's limit when `erpLeases` is given. */
  readonly erpConcurrency: number;
  /** The NetSuite account's leases, shared with every flow that calls it. @default none (no limit to share) */
  readonly erpLeases?: ConcurrencyLeases;
  /** False when the ERP has no credit memo support configured: credit notes are then skipped. */
  readonly creditMemos: boolean;
  /** The won-deal check (CRM deals against subscriptions and sales orders). @default none: skipped */
  readonly deals?: DealSources;
  /** Open differences kept between runs, re-checked and closed once gone. @default none: not tracked */
  readonly open?: OpenDifferenceTracking;
  readonly now?: () => Date;
  /** Waits between retries of a transient failure. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Where won deals are read, and what the saga should have made for each. */
export interface DealSources {
  readonly crms: readonly WonDeal['crm'][];
  /** One page of the CRM's deals won in the window, after `cursor`. */
  readonly list: (
    crm: WonDeal['crm'],
    window: ReconciliationWindow,
    cursor: string | null,
  ) => Promise<WonDealPage>;
  /** The deal as the CRM has it now (re-check): null when it is not won any more, or gone. */
  readonly get: (crm: WonDeal['crm'], dealId: string) => Promise<WonDeal | null>;
  readonly subscriptionExists: (subscriptionId: string) => Promise<boolean>;
  /** The ERP's internal id of the sales order under this external id, null when none. */
  readonly salesOrderId: (externalId: string) => Promise<string | null>;
}

/** Open differences between runs: the store, single-record reads for the re-check, and their exceptions. */
export interface OpenDifferenceTracking {
  readonly store: OpenDifferencesStore;
  readonly billing: Pick<StripeBillingReader, 'getInvoice' | 'getCreditNote'>;
  /** Whether a person resolved the difference's exception (theirs then: neither counted nor re-opened). */
  readonly acknowledged: (event: CanonicalEvent<'ops.reconciliation.difference'>) => Promise<boolean>;
  /** Closes the exception of a difference that is gone. */
  readonly close: (
    difference: Difference,
    event: CanonicalEvent<'ops.reconciliation.difference'>,
  ) => Promise<void>;
}

export interface RunOptions {
  /**
   * A fixed run id (the scheduled run's): an unfinished run under it is continued over its own window
   * before a new one starts. @default derived from the window: the same window resumes its unfinished run
   */
  readonly runId?: string;
  /** Checked between pages: true saves the checkpoint and returns `partial` (the Lambda is running out of time). */
  readonly shouldStop?: () => boolean;
}

export interface ReconciliationResult {
  readonly runId: string;
  readonly status: 'complete' | 'partial';
  readonly window: ReconciliationWindow;
  readonly compared: ReconciliationCheckpoint['compared'];
  readonly differences: Partial<Record<DifferenceKind, number>>;
  /**
   * The open-differences metric: with tracking, the differences still open after the run (from any
   * window, re-checked one by one); without, the differences this run found.
   */
  readonly open: number;
  /** Differences of earlier runs found gone, their exceptions closed. */
  readonly closed: number;
}

export const runIdOf = (window: ReconciliationWindow): string => `window#${window.from}#${window.to}`;

/** The event kept with a difference's exception: replaying it re-drives the difference (lambdas/redrive-difference). */
export const differenceEvent = (
  difference: Difference,
  now: Date,
): CanonicalEvent<'ops.reconciliation.difference'> => ({
  id: canonicalEventId('revbridge', FLOW, difference.differenceId, 'ops.reconciliation.difference'),
  type: 'ops.reconciliation.difference',
  version: 1,
  occurredAt: now.toISOString(),
  source: { vendor: 'revbridge', account: FLOW, eventId: difference.differenceId },
  // A won deal's difference correlates with the deal (its saga's events do too), so `trail <deal id>`
  // finds it even when the deal has no subscription or sales order at all.
  correlationId: difference.crm?.id ?? difference.billing?.id ?? difference.erp.id ?? difference.differenceId,
  causationId: null,
  data: difference,
});

const TRANSIENT_ATTEMPTS = 5;

/** A vendor call retried on transient failures (throttling: its Retry-After, capped), then rethrown. */
const retrying = async <T>(deps: ReconciliationDeps, run: () => Promise<T>): Promise<T> => {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      if (!isTransient(error) || attempt >= TRANSIENT_ATTEMPTS) throw error;
      const asked = error.retryAfterSeconds === undefined ? undefined : error.retryAfterSeconds * 1000;
      await sleep(Math.min(asked ?? 100 * 2 ** attempt, 5000));
    }
  }
};

/** How long a worker waits for an ERP lease before the page fails (and the run continues later). */
const LEASE_WAIT_MS = 60_000;

/** One NetSuite call (or a few in a row) under one of the account's leases. */
const withLease = async <T>(deps: ReconciliationDeps, work: () => Promise<T>): Promise<T> => {
  const release = await deps.erpLeases?.acquire(Date.now() + LEASE_WAIT_MS);
  try {
    return await work();
  } finally {
    await release?.();
  }
};

/**
 * Runs `work` over `items` with at most `deps.erpConcurrency` at once, keeping their order; each
 * worker holds one of the account's leases while it works, so reconciliation never pushes the
 * account past its limit, whatever the flows are doing.
 */
const mapBounded = async <T, R>(
  deps: ReconciliationDeps,
  items: readonly T[],
  work: (item: T) => Promise<R>,
) => {
  const limit = deps.erpConcurrency;
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    if (next >= items.length) return;
    const release = await deps.erpLeases?.acquire(Date.now() + LEASE_WAIT_MS);
    try {
      while (next < items.length) {
        const index = next;
        next += 1;
        results[index] = await work(items[index] as T);
      }
    } finally {
      await release?.();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
};

/** BatchGetItem reads at most 100 keys a call. */
const LINKS_PER_READ = 100;

/**
 * Reconciles billing against the ERP for one window, page by page: billing invoices (missing in the
 * ERP, totals, currency, payments applied), billing credit notes (credit memos), then ERP invoices no
 * link points at (records with no billing counterpart). Memory holds one page; the checkpoint is saved
 * after each page, so a run stopped by `shouldStop` (or killed) continues from there on the next call.
 * A difference found again (a retried page, a later run) reports under the same id.
 */
export const runReconciliation = async (
  deps: ReconciliationDeps,
  requested: ReconciliationWindow,
  options: RunOptions = {},
): Promise<ReconciliationResult> => {
  const now = deps.now ?? (() => new Date());
  const runId = options.runId ?? runIdOf(requested);
  const saved = await deps.checkpoints.load(runId);
  const checkpoint: ReconciliationCheckpoint =
    saved &&
    saved.phase !== 'done' &&
    (options.runId !== undefined ||
      (saved.window.from === requested.from && saved.window.to === requested.to))
      ? saved
      : {
          runId,
          window: requested,
          phase: 'invoices',
          cursor: null,
          compared: { invoices: 0, creditNotes: 0, erpInvoices: 0, deals: 0 },
          differences: {},
          startedAt: now().toISOString(),
          invocations: 0,
        };
  checkpoint.invocations += 1;
  // An unfinished run under a fixed id (the scheduled one) continues over its own window.
  const { window } = checkpoint;

  // Differences this run saw are marked with it: the re-check at the end skips them.
  const seenBy = `${runId}@${checkpoint.startedAt}`;
  const found = async (differences: readonly Difference[]) => {
    for (const difference of differences) {
      await deps.report(difference, differenceEvent(difference, now()));
      await deps.open?.store.mark(difference, seenBy);
      checkpoint.differences[difference.kind] = (checkpoint.differences[difference.kind] ?? 0) + 1;
    }
  };

  /** Won deals against their subscription (through the links, then billing) and sales order (the ERP). */
  const checkDeals = async (
    sources: DealSources,
    deals: readonly WonDeal[],
    within: ReconciliationWindow,
  ): Promise<Difference[]> => {
    const contracts = deals.filter((deal) => !deal.amends);
    const subscriptions: (string | undefined)[] = [];
    for (let start = 0; start < contracts.length; start += LINKS_PER_READ) {
      const queries: LinkQuery[] = contracts.slice(start, start + LINKS_PER_READ).map((deal) => ({
        key: { entity: 'subscription', system: deal.crm, id: deal.dealId },
        target: 'stripe',
      }));
      subscriptions.push(...(await retrying(deps, () => deps.links.find(queries))));
    }
    const compared = await mapBounded(deps, contracts, async (deal) => {
      const index = contracts.indexOf(deal);
      const subscriptionId = subscriptions[index];
      const externalId = salesOrderExternalId(deal);
      const [exists, salesOrderId] = await Promise.all([
        subscriptionId ? retrying(deps, () => sources.subscriptionExists(subscriptionId)) : false,
        retrying(deps, () => sources.salesOrderId(externalId)),
      ]);
      return compareWonDeal(
        deal,
        {
          subscription: subscriptionId ? { id: subscriptionId, exists } : null,
          salesOrder: { externalId, id: salesOrderId },
        },
        within,
      );
    });
    return compared.flat();
  };

  /**
   * Which of these ERP invoices revbridge posted: those whose billing invoice (the external id) is
   * linked to this very ERP invoice. Only the forward link is written (billing → ERP), so one read of
   * up to LINKS_PER_READ links answers a page's worth; an invoice with no external id, or one whose
   * billing invoice is linked to another ERP invoice (a duplicate keyed in by hand), is not.
   */
  const postedByRevbridge = async (refs: readonly ErpInvoiceRef[]): Promise<boolean[]> => {
    const keyed = refs.filter(
      (ref): ref is ErpInvoiceRef & { externalId: string } => ref.externalId !== null,
    );
    const queries: LinkQuery[] = keyed.map((ref) => ({
      key: { entity: 'invoice', system: 'stripe', id: ref.externalId },
      target: 'netsuite',
    }));
    const links = queries.length === 0 ? [] : await retrying(deps, () => deps.links.find(queries));
    const linked = new Map(keyed.map((ref, index) => [ref.id, links[index] === ref.id]));
    return refs.map((ref) => linked.get(ref.id) === true);
  };

  /** The difference's records as they are now: the differences they still make (none: it is gone). */
  const recheck = async (tracking: OpenDifferenceTracking, difference: Difference): Promise<Difference[]> => {
    const within = difference.window;
    switch (difference.kind) {
      case 'invoice-missing-in-erp':
      case 'invoice-total-differs':
      case 'invoice-currency-differs':
      case 'payment-not-applied': {
        const id = difference.billing?.id;
        const invoice = id ? await retrying(deps, () => tracking.billing.getInvoice(id)) : null;
        if (!invoice) return [];
        return compareInvoice(invoice, await retrying(deps, () => deps.erp.getInvoice(invoice.id)), within);
      }
      case 'credit-note-missing-memo':
      case 'credit-memo-total-differs': {
        const id = difference.billing?.id;
        const note = id ? await retrying(deps, () => tracking.billing.getCreditNote(id)) : null;
        if (!note) return [];
        return compareCreditNote(note, await retrying(deps, () => deps.erp.getCreditMemo(note.id)), within);
      }
      case 'erp-invoice-without-billing': {
        const id = difference.erp.id;
        if (!id) return [];
        const erp = await retrying(deps, () => deps.erp.getInvoiceById(id));
        if (!erp) return [];
        const [posted] = await postedByRevbridge([erp]);
        if (posted) return [];
        const externalId = erp.externalId;
        const billingExists = externalId
          ? await retrying(deps, () => deps.billing.invoiceExists(externalId))
          : null;
        return compareErpInvoice(erp, billingExists, within);
      }
      case 'deal-without-subscription':
      case 'deal-without-sales-order': {
        const sources = deps.deals;
        const crm = difference.crm;
        // Without the CRMs configured the deal cannot be read again: it stays open.
        if (!sources || !crm) return [difference];
        const deal = await retrying(deps, () => sources.get(crm.system, crm.id));
        return deal ? checkDeals(sources, [deal], within) : [];
      }
    }
  };

  /** One page of a billing list, each record compared with the ERP; returns how many were compared. */
  const comparePage = async <T>(
    list: () => Promise<{ items: readonly T[]; next: string | null }>,
    compare: (item: T) => Promise<Difference[]>,
    then: Phase,
  ): Promise<number> => {
    const page = await retrying(deps, list);
    await found((await mapBounded(deps, page.items, compare)).flat());
    advance(checkpoint, page.next, then);
    return page.items.length;
  };

  const afterDeals: Phase = deps.open ? 'openDifferences' : 'done';
  const afterSalesforce: Phase = 'hubspotDeals';
  const afterErp: Phase = deps.deals ? 'salesforceDeals' : afterDeals;

  while (checkpoint.phase !== 'done') {
    if (options.shouldStop?.()) {
      await deps.checkpoints.save(runId, checkpoint, 'RUNNING');
      return result(checkpoint, 'partial');
    }
    switch (checkpoint.phase) {
      case 'invoices':
        checkpoint.compared.invoices += await comparePage(
          () => deps.billing.listInvoices(window, checkpoint.cursor),
          async (invoice) =>
            compareInvoice(invoice, await retrying(deps, () => deps.erp.getInvoice(invoice.id)), window),
          deps.creditMemos ? 'creditNotes' : 'erpInvoices',
        );
        break;
      case 'creditNotes':
        checkpoint.compared.creditNotes += await comparePage(
          () => deps.billing.listCreditNotes(window, checkpoint.cursor),
          async (note) =>
            compareCreditNote(note, await retrying(deps, () => deps.erp.getCreditMemo(note.id)), window),
          'erpInvoices',
        );
        break;
      case 'erpInvoices': {
        const offset = Number(checkpoint.cursor ?? 0);
        const page = await withLease(deps, () => retrying(deps, () => deps.erp.listInvoices(window, offset)));
        const unlinked: string[] = [];
        for (let start = 0; start < page.invoices.length; start += LINKS_PER_READ) {
          const refs = page.invoices.slice(start, start + LINKS_PER_READ);
          const posted = await postedByRevbridge(refs);
          refs.forEach((ref, index) => {
            if (!posted[index]) unlinked.push(ref.id);
          });
        }
        const compared = await mapBounded(deps, unlinked, async (id) => {
          const erp = await retrying(deps, () => deps.erp.getInvoiceById(id));
          if (!erp) return [];
          const externalId = erp.externalId;
          const billingExists = externalId
            ? await retrying(deps, () => deps.billing.invoiceExists(externalId))
            : null;
          return compareErpInvoice(erp, billingExists, window);
        });
        await found(compared.flat());
        checkpoint.compared.erpInvoices += page.invoices.length;
        advance(checkpoint, page.nextOffset === null ? null : String(page.nextOffset), afterErp);
        break;
      }
      case 'salesforceDeals':
      case 'hubspotDeals': {
        const crm = checkpoint.phase === 'salesforceDeals' ? 'salesforce' : 'hubspot';
        const then: Phase = checkpoint.phase === 'salesforceDeals' ? afterSalesforce : afterDeals;
        const sources = deps.deals;
        if (!sources?.crms.includes(crm)) {
          advance(checkpoint, null, then);
          break;
        }
        const page = await retrying(deps, () => sources.list(crm, window, checkpoint.cursor));
        await found(await checkDeals(sources, page.items, window));
        checkpoint.compared.deals = (checkpoint.compared.deals ?? 0) + page.items.length;
        advance(checkpoint, page.next, then);
        break;
      }
      case 'openDifferences': {
        const tracking = deps.open;
        if (!tracking) {
          advance(checkpoint, null, 'done');
          break;
        }
        const page = await retrying(deps, () => tracking.store.page(checkpoint.cursor));
        for (const item of page.items) {
          const { difference } = item;
          const event = differenceEvent(difference, now());
          if (await tracking.acknowledged(event)) {
            await tracking.store.forget(difference.differenceId);
            continue;
          }
          const still =
            item.seenBy === seenBy ||
            (await recheck(tracking, difference)).some((d) => d.differenceId === difference.differenceId);
          if (still) {
            checkpoint.open = (checkpoint.open ?? 0) + 1;
          } else {
            await tracking.close(difference, event);
            await tracking.store.forget(difference.differenceId);
            checkpoint.closed = (checkpoint.closed ?? 0) + 1;
          }
        }
        advance(checkpoint, page.next, 'done');
        break;
      }
    }
    if ((checkpoint.phase as Phase) !== 'done') await deps.checkpoints.save(runId, checkpoint, 'RUNNING');
  }
  await deps.checkpoints.save(runId, checkpoint, 'COMPLETE');
  return result(checkpoint, 'complete');
};

const advance = (checkpoint: ReconciliationCheckpoint, next: string | null, then: Phase) => {
  if (next === null) {
    checkpoint.phase = then;
    checkpoint.cursor = null;
  } else {
    checkpoint.cursor = next;
  }
};

const result = (
  checkpoint: ReconciliationCheckpoint,
  status: 'complete' | 'partial',
): ReconciliationResult => ({
  runId: checkpoint.runId,
  status,
  window: checkpoint.window,
  compared: checkpoint.compared,
  differences: checkpoint.differences,
  open:
    checkpoint.open ?? Object.values(checkpoint.differences).reduce((sum, count) => sum + (count ?? 0), 0),
  closed: checkpoint.closed ?? 0,
});

/** The run id of scheduled runs: one at a time, so an unfinished one is continued by the next schedule. */
export const SCHEDULED_RUN_ID = 'scheduled';

/** A short stable hash, for ids derived from another id. */
export const shortHash = (value: string): string =>
  createHash('sha256').update(value).digest('hex').slice(0, 24);
