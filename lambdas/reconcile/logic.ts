import { createHash } from 'node:crypto';
import type { CheckpointStore } from '../adapters/aws/checkpoint-store';
import type { ConcurrencyLeases } from '../adapters/aws/concurrency-leases';
import type { LinkQuery, LinksRepository } from '../adapters/aws/links-repository';
import type { ErpReader } from '../adapters/netsuite/erp-reader';
import type { BillingReader } from '../adapters/stripe/billing-reader';
import { type CanonicalEvent, canonicalEventId } from '../domain/events';
import {
  compareCreditNote,
  compareErpInvoice,
  compareInvoice,
  type Difference,
  type DifferenceKind,
  type ReconciliationWindow,
} from '../domain/reconciliation';
import { isTransient } from '../shared/errors';

export const FLOW = 'reconcile';

export type Phase = 'invoices' | 'creditNotes' | 'erpInvoices' | 'done';

/** Where a run is: small and bounded whatever the window's size (a cursor and counters). */
export interface ReconciliationCheckpoint {
  readonly runId: string;
  readonly window: ReconciliationWindow;
  phase: Phase;
  /** Billing phases: the `starting_after` id; ERP phase: the offset. */
  cursor: string | null;
  compared: { invoices: number; creditNotes: number; erpInvoices: number };
  differences: Partial<Record<DifferenceKind, number>>;
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
  readonly now?: () => Date;
  /** Waits between retries of a transient failure. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
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
  /** Differences this run found (all of them once complete): the open-differences metric. */
  readonly open: number;
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
  correlationId: difference.billing?.id ?? difference.erp.id ?? difference.differenceId,
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
          compared: { invoices: 0, creditNotes: 0, erpInvoices: 0 },
          differences: {},
          startedAt: now().toISOString(),
          invocations: 0,
        };
  checkpoint.invocations += 1;
  // An unfinished run under a fixed id (the scheduled one) continues over its own window.
  const { window } = checkpoint;

  const found = async (differences: readonly Difference[]) => {
    for (const difference of differences) {
      await deps.report(difference, differenceEvent(difference, now()));
      checkpoint.differences[difference.kind] = (checkpoint.differences[difference.kind] ?? 0) + 1;
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
        const page = await withLease(deps, () =>
          retrying(deps, () => deps.erp.listInvoiceIds(window, offset)),
        );
        const unlinked: string[] = [];
        for (let start = 0; start < page.ids.length; start += LINKS_PER_READ) {
          const ids = page.ids.slice(start, start + LINKS_PER_READ);
          const queries: LinkQuery[] = ids.map((id) => ({
            key: { entity: 'invoice', system: 'netsuite', id },
            target: 'stripe',
          }));
          const links = await retrying(deps, () => deps.links.find(queries));
          ids.forEach((id, index) => {
            if (links[index] === undefined) unlinked.push(id);
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
        checkpoint.compared.erpInvoices += page.ids.length;
        advance(checkpoint, page.nextOffset === null ? null : String(page.nextOffset), 'done');
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
  open: Object.values(checkpoint.differences).reduce((sum, count) => sum + (count ?? 0), 0),
});

/** The run id of scheduled runs: one at a time, so an unfinished one is continued by the next schedule. */
export const SCHEDULED_RUN_ID = 'scheduled';

/** A short stable hash, for ids derived from another id. */
export const shortHash = (value: string): string =>
  createHash('sha256').update(value).digest('hex').slice(0, 24);
