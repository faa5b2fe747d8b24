import type { CrmClient, Deal } from '../domain/deal';
import type { CanonicalEvent } from '../domain/events';
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
  | { outcome: 'ignored'; reason: 'not-found' | 'not-won' };

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
  const name = executionName({ crm, dealId }, version);
  const input = JSON.stringify({ event, deal });
  if (deal.amends) {
    const outcome = await deps.startAmendment(name, input);
    return { outcome, executionName: name, saga: 'amend-contract' };
  }
  const outcome = await deps.startExecution(name, input);
  return { outcome, executionName: name };
};
