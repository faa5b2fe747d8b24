import type { LocalRuntime } from '../runtime/runtime';
import type { DeliveryAttempt } from '../twins/common';
import { ERP_RECORD_TYPES, type ErpRecordType, type Expectation } from './flows';

/** One ERP record the run expected, and what the NetSuite twin holds for it. */
interface Finding {
  readonly flow: string;
  readonly type: Expectation['type'];
  readonly externalId: string;
  readonly problem: string;
}

export interface ErpCount {
  /** ERP records in the NetSuite twin, by record type (all of them, not only the expected ones). */
  readonly records: Record<string, number>;
  /** Creates and replaces of the expected records (a record written once counts 1). */
  readonly expectedWrites: number;
  readonly expected: number;
  readonly found: number;
  readonly duplicates: Finding[];
  readonly missing: Finding[];
  readonly amountMismatches: Finding[];
  /** Expected records checked against billing's amount, to the cent. */
  readonly amountsChecked: number;
  /** Expected changes (credit memo voided or not, order lines added or closed, dunning flags) not shown. */
  readonly wrongState: Finding[];
  /** Per kind of expectation: how many the run expected and how many hold. */
  readonly byKind: Record<string, { expected: number; holding: number }>;
  /**
   * Invoices the Stripe twin itself finalized (a saga's subscription bills its first period) that the
   * ERP does not hold: not sent by the workload, found by comparing billing with the ERP.
   */
  readonly billingInvoicesNotInErp: Finding[];
}

const REUPSERTABLE: ReadonlySet<string> = new Set(['customer', 'salesOrder', 'customerPayment']);

/**
 * What a payment's apply list puts against invoices, in minor units: a payment upserted again
 * (its consumer killed, or its idempotency record throttled, after the ERP write) replaces the list,
 * so it must still apply its amount once.
 */
const appliedMinor = (record: Record<string, unknown>): number => {
  const items = (record.apply as { items?: { amount?: unknown }[] } | undefined)?.items ?? [];
  return items.reduce((sum, item) => sum + (toMinor(item.amount) ?? 0), 0);
};

/** Whole ERP amounts (a NetSuite total of 12.34) in minor units, without float drift. */
const toMinor = (value: unknown): number | undefined =>
  typeof value === 'number' ? Math.round(value * 100) : undefined;

const erpAmount = (type: ErpRecordType, record: Record<string, unknown>): number | undefined =>
  type === 'customerPayment' ? toMinor(record.payment) : toMinor(record.total);

/**
 * Counts straight from the NetSuite twin (the reconciliation flow is not on main yet): every expected
 * record present, one record per external id, invoices written exactly once, payments applied once, and its
 * amount equal to billing's to the cent.
 */
export const countErp = (
  runtime: LocalRuntime,
  expectations: readonly (Expectation & { flow: string })[],
): ErpCount => {
  const netsuite = runtime.netsuite;
  if (!netsuite) throw new Error('the NetSuite twin is not running');
  const records: Record<string, number> = {};
  const perExternalId = new Map<string, number>();
  for (const type of ERP_RECORD_TYPES) {
    const all = netsuite.records(type);
    records[type] = all.length;
    for (const record of all) {
      if (typeof record.externalId !== 'string') continue;
      const key = `${type}:${record.externalId}`;
      perExternalId.set(key, (perExternalId.get(key) ?? 0) + 1);
    }
  }
  const duplicates: Finding[] = [];
  const missing: Finding[] = [];
  const amountMismatches: Finding[] = [];
  const wrongState: Finding[] = [];
  const byKind: Record<string, { expected: number; holding: number }> = {};
  let found = 0;
  let writes = 0;
  let amountsChecked = 0;
  for (const expected of expectations) {
    const finding = (problem: string): Finding => ({
      flow: expected.flow,
      type: expected.type,
      externalId: expected.externalId,
      problem,
    });
    byKind[expected.type] ??= { expected: 0, holding: 0 };
    const kind = byKind[expected.type] as { expected: number; holding: number };
    kind.expected += 1;
    const before = duplicates.length + missing.length + amountMismatches.length + wrongState.length;
    const counted = () => {
      if (duplicates.length + missing.length + amountMismatches.length + wrongState.length === before)
        kind.holding += 1;
    };
    if (expected.type === 'salesOrderChange' || expected.type === 'dunningFlag') {
      // A change of a record another expectation counts (the order, the CRM account), not a record.
      const problem = expected.verify?.();
      if (problem) wrongState.push(finding(problem));
      else found += 1;
      counted();
      continue;
    }
    const record = netsuite.getByExternalId(expected.type, expected.externalId);
    const written = netsuite.writeCount(expected.type, expected.externalId);
    writes += written;
    if (!record) {
      missing.push(finding(`no ${expected.type} with external id ${expected.externalId}`));
      counted();
      continue;
    }
    found += 1;
    const copies = perExternalId.get(`${expected.type}:${expected.externalId}`) ?? 0;
    if (copies > 1) duplicates.push(finding(`${copies} records carry this external id`));
    // An invoice is written once; a customer, a sales order or a payment may be upserted again by
    // external id (a retry after the write but before its link or idempotency record, a saga's undo
    // then replay): still one record, counted as re-upserted in the report. A payment upserted again
    // must still apply its amount once.
    else if (written > 1 && !REUPSERTABLE.has(expected.type))
      duplicates.push(finding(`written ${written} times, must be once`));
    else if (
      written > 1 &&
      expected.type === 'customerPayment' &&
      expected.amountMinor !== undefined &&
      appliedMinor(record) !== expected.amountMinor
    )
      duplicates.push(
        finding(`upserted ${written} times and applies ${appliedMinor(record)}, not ${expected.amountMinor}`),
      );
    if (expected.amountMinor !== undefined) {
      amountsChecked += 1;
      const amount = erpAmount(expected.type, record);
      if (amount !== expected.amountMinor)
        amountMismatches.push(
          finding(`ERP amount ${String(amount)} ≠ billing ${expected.amountMinor} (minor units)`),
        );
    }
    const problem = expected.verify?.();
    if (problem) wrongState.push(finding(problem));
    counted();
  }
  const billingInvoicesNotInErp: Finding[] = [];
  for (const invoice of runtime.stripe?.list('invoice') ?? []) {
    const id = String(invoice.id);
    if (invoice.status !== 'open' && invoice.status !== 'paid') continue;
    if (netsuite.getByExternalId('invoice', id)) continue;
    billingInvoicesNotInErp.push({
      flow: 'stripe twin (subscription invoice)',
      type: 'invoice',
      externalId: id,
      problem: `billing invoice ${String(invoice.status)} but not in the ERP`,
    });
  }
  return {
    billingInvoicesNotInErp,
    records,
    expectedWrites: writes,
    expected: expectations.length,
    found,
    duplicates,
    missing,
    amountMismatches,
    amountsChecked,
    wrongState,
    byKind,
  };
};

/** Webhook attempts that were not accepted, by `<vendor> <status or error>`. */
export const refusedDeliveries = (
  logs: Readonly<Record<string, readonly DeliveryAttempt[]>>,
): { refused: Record<string, number>; gaveUp: number; duplicatesSent: number } => {
  const refused: Record<string, number> = {};
  let gaveUp = 0;
  let duplicatesSent = 0;
  for (const [vendor, log] of Object.entries(logs)) {
    for (const attempt of log) {
      if (attempt.copy === 2 && attempt.attempt === 1) duplicatesSent += 1;
      if (attempt.gaveUp) gaveUp += 1;
      if (attempt.accepted) continue;
      const key = `${vendor} webhook ${attempt.status ?? (attempt.error ?? 'error').slice(0, 40)}`;
      refused[key] = (refused[key] ?? 0) + 1;
    }
  }
  return { refused, gaveUp, duplicatesSent };
};
