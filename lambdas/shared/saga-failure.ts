import type { Deal } from '../domain/deal';
import type { CanonicalEvent } from '../domain/events';
import { type ExceptionReporterDeps, reportException } from '../domain/exception-reporting';
import type { CrmClient, EventPublisher, ExceptionsRepository, PriceCatalog } from '../domain/ports';
import type { QuoteToCashMapping } from './contracts/mappings';
import { PermanentError } from './errors';

/**
 * What every saga on a won deal works with, whatever its own steps: the deal's CRM, billing's price
 * catalog, the exceptions and the bus of its failure path, and the stage's quote-to-cash mapping
 * (catalog and subsidiaries). A saga's deps are these plus the ports of its own steps.
 */
export interface SagaDeps {
  readonly crm: (crm: Deal['crm']) => CrmClient;
  readonly prices: PriceCatalog;
  readonly exceptions: ExceptionsRepository;
  readonly publisher: EventPublisher;
  readonly mapping: QuoteToCashMapping;
  readonly now?: () => Date;
}

/**
 * Why a saga failed, in words safe to show the CRM owner: the step and the error code, never the
 * vendor's message (it can quote what was sent). Validation failures are the exception: their message
 * is the list of problems, which the saga's own code wrote and which names fields, not values.
 */

/** A Catch's `ResultPath` value: the error name and, for a function error, its JSON cause. */
export interface Caught {
  readonly Error: string;
  readonly Cause?: string | null | undefined;
}

export const describeSagaFailure = (
  failure: Readonly<Record<string, Caught>> | undefined,
  /** The saga's forward state names → what each does, in words. */
  forwardStates: Readonly<Record<string, string>>,
  /** The reason shown for a validation failure without a message. */
  invalid: string,
): { code: string; reason: string } => {
  const [state, caught] = Object.entries(failure ?? {})[0] ?? [];
  if (!state || !caught) return { code: 'Unknown', reason: 'the saga failed for an unknown reason' };
  const step = forwardStates[state] ?? state;
  const { code, message } = readCause(caught);
  if (code === 'ValidationFailed') return { code, reason: message || invalid };
  switch (caught.Error) {
    case 'PermanentError':
      return { code, reason: `${step} was rejected (${code})` };
    case 'TransientError':
      return { code, reason: `${step} kept failing (${code}); gave up after retrying` };
    case 'States.Timeout':
      return { code: 'Timeout', reason: `${step} timed out` };
    default:
      return { code: caught.Error, reason: `${step} failed (${caught.Error})` };
  }
};

/**
 * A function's error reaches the Catch as `Cause` = the Lambda runtime's JSON (`errorMessage`); the
 * step handler writes its messages as `[code] text`, so the code survives that trip.
 */
const readCause = (caught: Caught): { code: string; message: string } => {
  let text = caught.Cause ?? '';
  try {
    const parsed = JSON.parse(text) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') text = parsed.errorMessage;
  } catch {
    // A service error's Cause is plain text.
  }
  const match = /^\[([^\]]+)\]\s*(.*)$/s.exec(text);
  return match
    ? { code: match[1] ?? caught.Error, message: match[2] ?? '' }
    : { code: caught.Error, message: '' };
};

/** Salesforce text fields hold 255 characters; HubSpot's hold more, so this is the common limit. */
const MAX_STATUS_LENGTH = 255;

type Failures = Readonly<Record<string, Caught>> | undefined;

/** What the failure path of a saga reads from the execution's state. */
export interface FailedSaga {
  readonly event: CanonicalEvent;
  readonly failure?: Failures;
  readonly compensationFailures?: Failures;
}

/** The failure path's steps of one saga: its exception and the status the CRM owner reads. */
export const sagaFailurePath = (
  flow: string,
  forwardStates: Readonly<Record<string, string>>,
  invalid: string,
) => {
  const describe = (saga: { readonly failure?: Failures }) =>
    describeSagaFailure(saga.failure, forwardStates, invalid);
  const crmStatus = (saga: { readonly failure?: Failures }) =>
    `Failed: ${describe(saga).reason}`.slice(0, MAX_STATUS_LENGTH);
  return {
    describe,
    /** The exception a person works from: why, where, and which undo (if any) is left to do by hand. */
    openException: async (saga: FailedSaga, deps: ExceptionReporterDeps) => {
      const failure = describe(saga);
      const leftOver = Object.keys(saga.compensationFailures ?? {});
      const message =
        leftOver.length === 0
          ? failure.reason
          : `${failure.reason}. Undo incomplete, finish by hand: ${leftOver.join(', ')}`;
      const record = await reportException(deps, flow, failure.code, message, saga.event);
      return { exceptionId: record.exceptionId, reason: failure.reason };
    },
    /** `Failed: <reason>`, within what a CRM text field holds. */
    crmStatus,
    /** The failure path's last step: the CRM owner reads on the deal why it failed. */
    notifyCrmOwner: async (
      saga: { readonly failure?: Failures; readonly deal: Pick<Deal, 'crm' | 'dealId'> },
      deps: Pick<SagaDeps, 'crm'>,
    ) => {
      const status = crmStatus(saga);
      await deps.crm(saga.deal.crm).writeBack(saga.deal.dealId, { status });
      return { status };
    },
  };
};

/** A step ran without what an earlier step returns: the definition is wrong, a retry cannot help. */
export const need = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) {
    throw new PermanentError(`the saga state has no ${what}`, { code: 'SagaStateIncomplete' });
  }
  return value;
};
