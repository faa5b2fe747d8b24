import type { CrmClient, Deal } from '../domain/deal';
import { type CanonicalEvent, replayAttemptOf } from '../domain/events';
import { executionName } from '../quote-to-cash/identity';

export const FLOW = 'start-deal-saga';

/** Starts an execution; `already-started` when one with this name exists (running or finished). */
export type StartExecution = (name: string, input: string) => Promise<'started' | 'already-started'>;

export interface StartDealSagaDeps {
  readonly crm: (crm: Deal['crm']) => CrmClient;
  /** Starts the quote-to-cash saga (a new contract). */
  readonly startExecution: StartExecution;
  /** Starts the amendment saga (a deal that amends an activated one). */
  readonly startAmendment: StartExecution;
}

export type StartDealSagaResult =
  | { outcome: 'started' | 'already-started'; executionName: string; saga?: 'amend-contract' }
  | { outcome: 'ignored'; reason: 'not-found' | 'not-won' | 'already-activated' };

/**
 * Re-fetches a won deal from its CRM (the webhook may be stale or partial) and starts its saga: the
 * amendment saga when the deal names the deal it amends (the CRM field the stage configures,
 * `Deal.amends`), quote-to-cash otherwise. This is the one place that decides. Either is named after the deal and the event's version: the same deal version can start one
 * execution only, so a duplicate event, or the same change reported twice, never starts a second saga.
 *
 * Errors propagate: the event consumer retries a transient one and opens an exception for a
 * permanent one (the CRM refuses the read).
 */
export const startDealSaga = async (
  event: CanonicalEvent<'crm.deal.won'>,
  deps: StartDealSagaDeps,
): Promise<StartDealSagaResult> => {
  const { crm, dealId, version } = event.data;
  const deal = await deps.crm(crm).getDeal(dealId);
  if (!deal) return { outcome: 'ignored', reason: 'not-found' };
  // The CRM's current word wins over the webhook's: a deal reopened since is not activated.
  if (!deal.isWon) return { outcome: 'ignored', reason: 'not-won' };
  if (deal.amends) {
    const name = executionName({ crm, dealId }, version);
    const outcome = await deps.startAmendment(name, JSON.stringify({ event, deal }));
    return { outcome, executionName: name, saga: 'amend-contract' };
  }
  // An operator's replay of the exception a failed saga opened (`exceptions replay`, once the data is
  // fixed): the failed run's name is taken, so the replay runs under a version of its own (a new
  // execution, new Stripe idempotency keys: a subscription the failed run canceled is not handed back).
  // Once the deal is activated (the ids a saga writes back last are there), a replay has nothing to do.
  const replay = replayAttemptOf(event.id);
  if (replay !== null && deal.existing.subscriptionId !== null && deal.existing.salesOrderId !== null) {
    return { outcome: 'ignored', reason: 'already-activated' };
  }
  const run =
    replay === null ? event : { ...event, data: { ...event.data, version: `${version}~replay-${replay}` } };
  const name = executionName({ crm, dealId }, run.data.version);
  const outcome = await deps.startExecution(name, JSON.stringify({ event: run, deal }));
  return { outcome, executionName: name };
};
