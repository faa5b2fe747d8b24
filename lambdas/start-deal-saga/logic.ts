import type { EventPublisher } from '../adapters/aws/event-publisher';
import { reportException } from '../adapters/aws/exception-reporter';
import type { ExceptionsRepository } from '../adapters/aws/exceptions-repository';
import type { CrmClient, Deal } from '../domain/deal';
import type { CanonicalEvent } from '../domain/events';
import { executionName } from '../quote-to-cash/identity';
import { isPermanent } from '../shared/errors';

export const FLOW = 'start-deal-saga';

/** Starts an execution; `already-started` when one with this name exists (running or finished). */
export type StartExecution = (name: string, input: string) => Promise<'started' | 'already-started'>;

export interface StartDealSagaDeps {
  readonly crm: (crm: Deal['crm']) => CrmClient;
  readonly startExecution: StartExecution;
  readonly exceptions: ExceptionsRepository;
  readonly publisher: EventPublisher;
}

export type StartDealSagaResult =
  | { outcome: 'started' | 'already-started'; executionName: string }
  | { outcome: 'ignored'; reason: 'not-found' | 'not-won' }
  | { outcome: 'exception'; exceptionId: string; code: string };

/**
 * Re-fetches a won deal from its CRM (the webhook may be stale or partial) and starts the quote-to-cash
 * saga for it, named after the deal and the event's version: the same deal version can start one
 * execution only, so a duplicate event, or the same change reported twice, never starts a second saga.
 *
 * Transient errors propagate (the queue retries); a permanent one (the CRM refuses the read) opens an
 * exception and returns.
 */
export const startDealSaga = async (
  event: CanonicalEvent<'crm.deal.won'>,
  deps: StartDealSagaDeps,
): Promise<StartDealSagaResult> => {
  const { crm, dealId, version } = event.data;
  try {
    const deal = await deps.crm(crm).getDeal(dealId);
    if (!deal) return { outcome: 'ignored', reason: 'not-found' };
    // The CRM's current word wins over the webhook's: a deal reopened since is not activated.
    if (!deal.isWon) return { outcome: 'ignored', reason: 'not-won' };
    const name = executionName({ crm, dealId }, version);
    const outcome = await deps.startExecution(name, JSON.stringify({ event, deal }));
    return { outcome, executionName: name };
  } catch (error) {
    if (!isPermanent(error)) throw error;
    const record = await reportException(deps, FLOW, error.code, error.message, event);
    return { outcome: 'exception', exceptionId: record.exceptionId, code: error.code };
  }
};
