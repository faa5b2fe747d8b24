import type { BillingReader } from '../adapters/stripe/billing-reader';
import { mapStripeEvent, parseStripeEvent } from '../adapters/stripe/map';
import { paymentExternalId } from '../apply-payment/logic';
import type { Deal } from '../domain/deal';
import { type CanonicalEvent, canonicalEventId, replayAttemptOf } from '../domain/events';
import type { CrmClient, EventPublisher, LinkKey, LinksEraser } from '../domain/ports';
import { type Difference, REDRIVABLE } from '../domain/reconciliation';
import { shortHash } from '../reconcile/logic';

export const FLOW = 'redrive-difference';

export interface RedriveDeps {
  readonly billing: Pick<BillingReader, 'retrieve'>;
  /** The CRM a won deal is re-read from (the won-deal kinds). */
  readonly crm: (crm: Deal['crm']) => Pick<CrmClient, 'getDeal'>;
  /** The CRM accounts re-driven deal events name as their source, as the ingest functions do. */
  readonly crmAccounts: Readonly<Record<Deal['crm'], string>>;
  readonly links: LinksEraser;
  readonly publisher: EventPublisher;
  /** The Stripe account (`acct_...`) the canonical events name, as ingest-stripe does. */
  readonly account: string;
  readonly now?: () => Date;
}

export type RedriveResult =
  | { outcome: 'redriven'; eventId: string; eventType: string; forgot: string }
  | { outcome: 'nothing-to-redrive'; reason: string };

/** The Stripe event a difference is repaired by, and the billing states in which it applies. */
const STRIPE_EVENT: Record<
  Exclude<
    Difference['kind'],
    'erp-invoice-without-billing' | 'deal-without-subscription' | 'deal-without-sales-order'
  >,
  { type: string; entity: 'invoice' | 'creditNote'; statuses: ReadonlySet<string> }
> = {
  'invoice-missing-in-erp': {
    type: 'invoice.finalized',
    entity: 'invoice',
    statuses: new Set(['open', 'paid', 'uncollectible']),
  },
  'invoice-total-differs': {
    type: 'invoice.finalized',
    entity: 'invoice',
    statuses: new Set(['open', 'paid', 'uncollectible']),
  },
  'invoice-currency-differs': {
    type: 'invoice.finalized',
    entity: 'invoice',
    statuses: new Set(['open', 'paid', 'uncollectible']),
  },
  'payment-not-applied': { type: 'invoice.paid', entity: 'invoice', statuses: new Set(['paid']) },
  'credit-note-missing-memo': {
    type: 'credit_note.created',
    entity: 'creditNote',
    statuses: new Set(['issued']),
  },
  'credit-memo-total-differs': {
    type: 'credit_note.created',
    entity: 'creditNote',
    statuses: new Set(['issued']),
  },
};

/** The link the normal flow would trust and skip on: forgotten so it posts by external id again. */
const linkOf = (event: CanonicalEvent): LinkKey => {
  switch (event.type) {
    case 'billing.invoice.paid':
      return { entity: 'payment', system: 'stripe', id: paymentExternalId(event) };
    case 'billing.credit_note.created':
      return { entity: 'creditNote', system: 'stripe', id: event.data.id };
    default:
      return { entity: 'invoice', system: 'stripe', id: (event.data as { id: string }).id };
  }
};

/**
 * Re-drives one reconciliation difference (its exception's event, replayed onto the bus): re-fetches
 * the billing record as it is now, forgets the link the normal flow would otherwise trust, and puts a
 * fresh canonical event on the bus, the same shape ingest-stripe publishes. The flow then posts by
 * external id, so the ERP ends up with one record whatever number of re-drives ran. The event id
 * derives from the replayed event's id: a redelivered replay publishes the same event (deduplicated by
 * the consumers), a new replay a new one.
 */
export const redriveDifference = async (
  replayed: CanonicalEvent<'ops.reconciliation.difference'>,
  deps: RedriveDeps,
): Promise<RedriveResult> => {
  const difference = replayed.data;
  if (
    difference.kind === 'erp-invoice-without-billing' ||
    !REDRIVABLE[difference.kind] ||
    !difference.billing
  ) {
    return {
      outcome: 'nothing-to-redrive',
      reason: 'the ERP record has no billing counterpart: void or credit it in the ERP',
    };
  }
  if (difference.kind === 'deal-without-subscription' || difference.kind === 'deal-without-sales-order') {
    return redriveDeal(replayed, deps);
  }
  const spec = STRIPE_EVENT[difference.kind];
  const object = await deps.billing.retrieve(spec.entity, difference.billing.id);
  if (!object)
    return { outcome: 'nothing-to-redrive', reason: `billing no longer has ${difference.billing.id}` };
  const status = String(object.status ?? '');
  if (!spec.statuses.has(status)) {
    return { outcome: 'nothing-to-redrive', reason: `${difference.billing.id} is ${status} in billing now` };
  }
  const now = deps.now?.() ?? new Date();
  const event = mapStripeEvent(
    parseStripeEvent({
      id: `evt_redrive_${shortHash(replayed.id)}`,
      object: 'event',
      type: spec.type,
      created: Math.floor(now.getTime() / 1000),
      livemode: false,
      data: { object },
    }),
    deps.account,
  );
  if (!event) return { outcome: 'nothing-to-redrive', reason: `${spec.type} maps to no canonical event` };
  const link = linkOf(event);
  // The difference's event occurred when reconciliation found it: a link recorded since is the
  // flow's re-post (an earlier re-drive of this difference), which a second one must not repeat.
  const forgotten = await deps.links.forget(link, 'netsuite', { recordedBefore: replayed.occurredAt });
  if (forgotten === 'kept') {
    return {
      outcome: 'nothing-to-redrive',
      reason: `${link.entity} ${link.id} was posted to the ERP again after the difference was found (${replayed.occurredAt})`,
    };
  }
  await deps.publisher.publish([event]);
  return {
    outcome: 'redriven',
    eventId: event.id,
    eventType: event.type,
    forgot: `${link.entity} ${link.id}`,
  };
};

/**
 * A won deal without its subscription or sales order: re-read from the CRM as it is now and put on the
 * bus as a fresh `crm.deal.won`, so the quote-to-cash saga runs again. The saga is idempotent per deal
 * (customers found again, a live subscription the CRM points at reused, the sales order upserted under
 * the deal's external id), so it makes only what is missing. The version carries the replay's attempt,
 * so the saga's execution name is new (the first run's name is taken), and both differences of one deal
 * replayed together start one saga, not two.
 */
const redriveDeal = async (
  replayed: CanonicalEvent<'ops.reconciliation.difference'>,
  deps: RedriveDeps,
): Promise<RedriveResult> => {
  const ref = replayed.data.crm;
  if (!ref) return { outcome: 'nothing-to-redrive', reason: 'the difference names no CRM deal' };
  const deal = await deps.crm(ref.system).getDeal(ref.id);
  if (!deal) return { outcome: 'nothing-to-redrive', reason: `${ref.system} no longer has deal ${ref.id}` };
  if (!deal.isWon) return { outcome: 'nothing-to-redrive', reason: `deal ${ref.id} is not won any more` };
  const attempt = replayAttemptOf(replayed.id) ?? shortHash(replayed.id);
  const version = `${deal.version}~redrive-${attempt}`;
  const eventId = `redrive-${ref.system}-${ref.id}-${attempt}`;
  const account = deps.crmAccounts[ref.system];
  const type = 'crm.deal.won' as const;
  const event: CanonicalEvent<'crm.deal.won'> = {
    id: canonicalEventId(ref.system, account, eventId, type),
    type,
    version: 1,
    occurredAt: (deps.now?.() ?? new Date()).toISOString(),
    source: { vendor: ref.system, account, eventId },
    correlationId: ref.id,
    causationId: replayed.id,
    data: {
      crm: ref.system,
      dealId: ref.id,
      version,
      stage: deal.stage,
      name: deal.name,
      accountId: deal.account.id,
    },
  };
  await deps.publisher.publish([event]);
  return { outcome: 'redriven', eventId: event.id, eventType: event.type, forgot: 'nothing' };
};
