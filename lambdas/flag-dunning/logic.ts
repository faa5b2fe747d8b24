import type { DunningRepository, DunningState, InvoiceDunning } from '../adapters/aws/dunning-repository';
import type { CanonicalEvent } from '../domain/events';
import type { ExceptionReporterDeps } from '../domain/exception-reporting';
import { exceptionId, reportException } from '../domain/exception-reporting';
import { toMajorUnits } from '../domain/money';
import type { ExceptionResolver, LinksRepository } from '../domain/ports';
import { TransientError } from '../shared/errors';
import type { DunningMapping } from './schema';

export const FLOW = 'flag-dunning';
export const EVENT_TYPES = ['billing.payment.failed', 'billing.invoice.paid'] as const;
export type DunningEvent = CanonicalEvent<(typeof EVENT_TYPES)[number]>;

/**
 * A paid invoice is remembered this long, so a failure of it delivered later (a vendor retry, a message
 * redriven from a DLQ after its 14 days) cannot flag it again; older ones are dropped from the item.
 */
const PAID_MEMORY_MS = 30 * 24 * 60 * 60 * 1000;
/** Writers of one customer's item racing each other: re-read and decide again, this many times. */
const CONFLICT_ATTEMPTS = 5;

export type Crm = 'salesforce' | 'hubspot';
type FieldValues = Readonly<Record<string, string | number | null>>;

/** The CRM writes the flow makes: a Salesforce Account's fields, a HubSpot company's properties. */
export interface CrmAccounts {
  readonly salesforce: { updateAccount(accountId: string, fields: FieldValues): Promise<void> };
  readonly hubspot: { updateCompany(companyId: string, values: FieldValues): Promise<void> };
}

export interface FlagDunningDeps {
  readonly dunning: DunningRepository;
  readonly links: Pick<LinksRepository, 'find'>;
  readonly crm: CrmAccounts;
  readonly exceptions: ExceptionReporterDeps['exceptions'] & ExceptionResolver;
  readonly publisher: ExceptionReporterDeps['publisher'];
  readonly mapping: DunningMapping;
  readonly now?: () => Date;
}

/** What the account shows: the customer's failing invoices together, or nothing once all are paid. */
export interface AccountFlag {
  readonly amountDue: number;
  readonly currency: string;
  readonly attemptCount: number;
  readonly nextPaymentAttemptAt: string | null;
  readonly invoiceId: string;
}

export type DunningResult =
  | {
      readonly outcome: 'flagged';
      readonly invoiceId: string;
      readonly attemptCount: number;
      readonly amountDue: number;
      readonly currency: string;
      /** The invoice's first failure: it is newly at risk, and its exception was opened by this event. */
      readonly firstFailure: boolean;
      /** An attempt already applied under another event id: the CRM was written again, nothing counted. */
      readonly repeated: boolean;
      readonly exceptionId: string;
      readonly accounts: readonly Crm[];
    }
  | {
      readonly outcome: 'cleared';
      readonly invoiceId: string;
      readonly amountRecovered: number;
      readonly currency: string;
      readonly exceptionResolved: boolean;
      readonly accounts: readonly Crm[];
    }
  | {
      readonly outcome: 'ignored';
      readonly invoiceId: string;
      /** `stale`: an older attempt than the one applied; `paid`: the invoice is paid already. */
      readonly reason: 'stale' | 'paid' | 'never-failed';
    };

/** One exception per invoice, whichever attempt's event opens it. */
export const dunningExceptionId = (invoiceId: string): string => exceptionId(FLOW, invoiceKey(invoiceId));
const invoiceKey = (invoiceId: string) => `invoice#${invoiceId}`;

/** Is the failure `event` newer than what was applied? Attempts order by count, then by event time. */
const isNewer = (event: CanonicalEvent<'billing.payment.failed'>, applied: InvoiceDunning): boolean =>
  event.version > applied.attemptCount ||
  (event.version === applied.attemptCount && event.occurredAt > applied.occurredAt);

type Decision =
  | { readonly kind: 'apply'; readonly entry: InvoiceDunning }
  /** The same event again (a retry after a later step failed): redo the steps, write nothing. */
  | { readonly kind: 'again'; readonly entry: InvoiceDunning }
  /**
   * The applied attempt under another event id (an exception replayed once the CRM is fixed): redo the
   * CRM write, which is what the replay is for; nothing new is counted or opened.
   */
  | { readonly kind: 'repeat'; readonly entry: InvoiceDunning }
  | { readonly kind: 'ignore'; readonly reason: 'stale' | 'paid' | 'never-failed' };

/** What one event does to an invoice's dunning state: a pure function of the state and the event. */
export const decide = (applied: InvoiceDunning | undefined, event: DunningEvent): Decision => {
  if (applied?.eventId === event.id) return { kind: 'again', entry: applied };
  if (event.type === 'billing.payment.failed') {
    if (applied?.status === 'paid') return { kind: 'ignore', reason: 'paid' };
    if (applied && event.version === applied.attemptCount && event.occurredAt === applied.occurredAt)
      return { kind: 'repeat', entry: applied };
    if (applied && !isNewer(event, applied)) return { kind: 'ignore', reason: 'stale' };
    const data = event.data;
    return {
      kind: 'apply',
      entry: {
        status: 'failing',
        attemptCount: event.version,
        occurredAt: event.occurredAt,
        eventId: event.id,
        openedBy: applied?.openedBy ?? event.id,
        amountDue: data.amountDue,
        currency: data.currency,
        nextPaymentAttemptAt: data.nextPaymentAttemptAt,
        invoiceNumber: data.invoiceNumber,
      },
    };
  }
  if (applied?.status === 'paid') return { kind: 'ignore', reason: 'paid' };
  // Remembered even when it never failed: a failure delivered after the payment must not flag it.
  return {
    kind: 'apply',
    entry: {
      status: 'paid',
      attemptCount: applied?.attemptCount ?? 0,
      occurredAt: event.occurredAt,
      eventId: event.id,
      openedBy: applied?.openedBy ?? null,
      amountDue: applied?.amountDue ?? 0,
      currency: event.data.currency,
      nextPaymentAttemptAt: null,
      invoiceNumber: applied?.invoiceNumber ?? null,
    },
  };
};

/**
 * The account's flag from the customer's failing invoices: what is owed on all of them (in the latest
 * failure's currency: a Stripe customer bills in one), the latest failure's attempts and invoice, and
 * the earliest retry to come. `null` when nothing is failing.
 */
export const accountFlag = (invoices: DunningState['invoices']): AccountFlag | null => {
  const failing = Object.entries(invoices)
    .filter(([, entry]) => entry.status === 'failing')
    .sort(([, a], [, b]) => a.occurredAt.localeCompare(b.occurredAt));
  const latest = failing.at(-1);
  if (!latest) return null;
  const [invoiceId, last] = latest;
  const sameCurrency = failing.filter(([, entry]) => entry.currency === last.currency);
  const retries = failing
    .map(([, entry]) => entry.nextPaymentAttemptAt)
    .filter((at): at is string => at !== null)
    .sort();
  return {
    amountDue: sameCurrency.reduce((sum, [, entry]) => sum + entry.amountDue, 0),
    currency: last.currency,
    attemptCount: last.attemptCount,
    nextPaymentAttemptAt: retries[0] ?? null,
    invoiceId,
  };
};

/** The flag as the CRM's fields: amounts in major units, the retry as a date; all `null` clears it. */
export const flagFields = (
  fields: DunningMapping['salesforce'] | DunningMapping['hubspot'],
  flag: AccountFlag | null,
): FieldValues => ({
  [fields.amountDue]: flag ? toMajorUnits(flag.amountDue, flag.currency) : null,
  [fields.attemptCount]: flag ? flag.attemptCount : null,
  [fields.nextRetryDate]: flag?.nextPaymentAttemptAt ? flag.nextPaymentAttemptAt.slice(0, 10) : null,
  ...(fields.invoiceId ? { [fields.invoiceId]: flag ? flag.invoiceId : null } : {}),
});

/** Drops paid invoices older than the memory window (failing ones stay until paid). */
const prune = (invoices: DunningState['invoices'], now: Date): Record<string, InvoiceDunning> =>
  Object.fromEntries(
    Object.entries(invoices).filter(
      ([, entry]) =>
        entry.status === 'failing' || now.getTime() - Date.parse(entry.occurredAt) < PAID_MEMORY_MS,
    ),
  );

const invoiceIdOf = (event: DunningEvent): string => event.data.invoiceId;
const customerOf = (event: DunningEvent): string => event.data.customerBillingId;

/** Applies the event to the customer's dunning state, re-reading on a concurrent write. */
const applyToState = async (
  event: DunningEvent,
  deps: FlagDunningDeps,
): Promise<{ decision: Decision; invoices: DunningState['invoices'] }> => {
  const invoiceId = invoiceIdOf(event);
  for (let attempt = 0; attempt < CONFLICT_ATTEMPTS; attempt += 1) {
    const state = await deps.dunning.get(customerOf(event));
    const decision = decide(state.invoices[invoiceId], event);
    if (decision.kind !== 'apply') return { decision, invoices: state.invoices };
    const next = { ...prune(state.invoices, deps.now?.() ?? new Date()), [invoiceId]: decision.entry };
    if (await deps.dunning.put(customerOf(event), state, next)) return { decision, invoices: next };
  }
  throw new TransientError(`dunning state of customer ${customerOf(event)} keeps changing`, {
    code: 'DunningStateConflict',
  });
};

/** The CRM accounts the saga linked to the billing customer (both directions are in the links table). */
const linkedAccounts = async (
  event: DunningEvent,
  deps: FlagDunningDeps,
): Promise<{ crm: Crm; id: string }[]> => {
  const key = { entity: 'customer', system: 'stripe', id: customerOf(event) } as const;
  const [salesforce, hubspot] = await deps.links.find([
    { key, target: 'salesforce' },
    { key, target: 'hubspot' },
  ]);
  return [
    ...(salesforce ? [{ crm: 'salesforce' as const, id: salesforce }] : []),
    ...(hubspot ? [{ crm: 'hubspot' as const, id: hubspot }] : []),
  ];
};

const sameFlag = (a: AccountFlag | null, b: AccountFlag | null): boolean =>
  JSON.stringify(a) === JSON.stringify(b);

/**
 * Writes the account flag of `invoices`, then reads the customer's state again and, while it shows a
 * different flag (another event of the customer was applied and may have written the CRM before this
 * write landed), writes the latest one: whichever write lands last shows the latest state. Returns the
 * CRMs written and the state last read.
 */
const writeFlag = async (
  event: DunningEvent,
  accounts: readonly { crm: Crm; id: string }[],
  invoices: DunningState['invoices'],
  deps: FlagDunningDeps,
): Promise<{ crms: Crm[]; latest: DunningState['invoices'] }> => {
  let shown = invoices;
  for (let attempt = 0; attempt < CONFLICT_ATTEMPTS; attempt += 1) {
    const flag = accountFlag(shown);
    for (const account of accounts) {
      if (account.crm === 'salesforce')
        await deps.crm.salesforce.updateAccount(account.id, flagFields(deps.mapping.salesforce, flag));
      else await deps.crm.hubspot.updateCompany(account.id, flagFields(deps.mapping.hubspot, flag));
    }
    const latest = (await deps.dunning.get(customerOf(event))).invoices;
    if (accounts.length === 0 || sameFlag(accountFlag(latest), flag)) {
      return { crms: accounts.map((account) => account.crm), latest };
    }
    shown = latest;
  }
  throw new TransientError(`dunning state of customer ${customerOf(event)} keeps changing`, {
    code: 'DunningStateConflict',
  });
};

const describeFailure = (entry: InvoiceDunning, invoiceId: string, accounts: readonly Crm[]): string =>
  [
    `payment of invoice ${entry.invoiceNumber ?? invoiceId} failed (attempt ${entry.attemptCount}):`,
    `${toMajorUnits(entry.amountDue, entry.currency)} ${entry.currency} due,`,
    entry.nextPaymentAttemptAt
      ? `next retry ${entry.nextPaymentAttemptAt.slice(0, 10)}`
      : 'no retry scheduled',
    accounts.length > 0 ? `(flagging ${accounts.join(' and ')})` : '(no CRM account is linked)',
  ].join(' ');

/**
 * Flow 4, payment failed → dunning signal. A failure flags the customer's CRM accounts with what is owed,
 * the attempts and the next retry, and opens one exception per invoice; the invoice paid later clears
 * the flag (when nothing else is failing) and resolves the exception. The customer's dunning state
 * guards every step: an older attempt that arrives late, or a failure after the payment, changes
 * nothing. Re-running the same event redoes the CRM write and the exception (both idempotent), so a
 * retry after a transient failure completes what the first run started.
 */
export const flagDunning = async (event: DunningEvent, deps: FlagDunningDeps): Promise<DunningResult> => {
  const invoiceId = invoiceIdOf(event);
  const { decision, invoices } = await applyToState(event, deps);
  if (decision.kind === 'ignore') return { outcome: 'ignored', invoiceId, reason: decision.reason };
  const { entry } = decision;

  // Paid, but it never failed: no flag and no exception to clear, and no CRM call.
  if (entry.status === 'paid' && entry.openedBy === null)
    return { outcome: 'ignored', invoiceId, reason: 'never-failed' };
  const linked = await linkedAccounts(event, deps);
  if (entry.status === 'failing') {
    const firstFailure = entry.openedBy === event.id;
    // Opened before the CRM is written: finance sees the failure even if the CRM refuses the flag.
    if (firstFailure) {
      await reportException(
        deps,
        FLOW,
        'PaymentFailed',
        describeFailure(
          entry,
          invoiceId,
          linked.map((account) => account.crm),
        ),
        event,
        invoiceKey(invoiceId),
      );
    }
    const { crms: accounts, latest } = await writeFlag(event, linked, invoices, deps);
    // Paid while this failure was being applied: the payment's event may have looked for the exception
    // before this one opened it, so this one resolves it.
    const now = latest[invoiceId];
    if (firstFailure && now?.status === 'paid')
      await deps.exceptions.resolve(dunningExceptionId(invoiceId), now.eventId);
    return {
      outcome: 'flagged',
      invoiceId,
      attemptCount: entry.attemptCount,
      amountDue: entry.amountDue,
      currency: entry.currency,
      firstFailure,
      repeated: decision.kind === 'repeat',
      exceptionId: dunningExceptionId(invoiceId),
      accounts,
    };
  }

  const { crms: accounts } = await writeFlag(event, linked, invoices, deps);
  const exceptionResolved = await deps.exceptions.resolve(dunningExceptionId(invoiceId), event.id);
  return {
    outcome: 'cleared',
    invoiceId,
    amountRecovered: entry.amountDue,
    currency: entry.currency,
    exceptionResolved,
    accounts,
  };
};
