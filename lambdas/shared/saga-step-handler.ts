import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { type CanonicalEvent, describeIssues, type EventType, parseEvent } from '../domain/events';
import { isPermanent, isTransient, PermanentError, safeMessage, TransientError } from './errors';

/**
 * The Lambda function behind every Task of a saga (statemachines/*.asl.json): it parses the Task's
 * `{ step, saga }` payload, runs that one step, and hands the state machine an error its Retry and
 * Catch can match (lib/constructs/workflow-definition.ts writes those from one policy):
 * - `PermanentError` is never retried, `TransientError` is, and anything unclassified counts as
 *   transient (a retry is cheap, and it still ends in the Catch when it keeps failing);
 * - the error's code leads its message (`[code] ...`) because the Lambda runtime passes on only the
 *   name and the message, and the failure path reads the code from the Catch's `Cause`;
 * - a vendor's `Retry-After` is honoured by waiting here, up to `MAX_RETRY_AFTER_WAIT_MS`, before
 *   failing the attempt: a Retry policy's intervals are fixed in the definition and cannot read it.
 * A saga is then its steps: `run` (logic that takes its dependencies as arguments) and its schema.
 */

/** The longest a step waits for a vendor's Retry-After before failing the attempt. */
export const MAX_RETRY_AFTER_WAIT_MS = 10_000;
/** Time left to the function after a Retry-After wait, to fail cleanly before its own timeout. */
const TIMEOUT_MARGIN_MS = 5_000;

/** The saga state as a step runs on it: its start event parsed. */
export type WithEvent<S extends { event: unknown }, T extends EventType> = Omit<S, 'event'> & {
  readonly event: CanonicalEvent<T>;
};

export interface SagaStepHandlerOptions<
  Step extends string,
  State extends { event: unknown },
  T extends EventType,
  Result,
> {
  /** `{ step, saga }`, the Task's payload: the step name and the execution's state. */
  readonly input: z.ZodMiniType<{ step: Step; saga: State }>;
  /** The type of the canonical event that started the execution (`saga.event`). */
  readonly eventType: T;
  readonly run: (step: Step, saga: WithEvent<State, T>) => Promise<Result>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Count metrics added once each time the step succeeds. @default none */
  readonly metricsOfStep?: Partial<Record<Step, readonly string[]>>;
  /** What the `step done` log line says about the saga (ids only: no payloads, no personal data). */
  readonly describe: (saga: WithEvent<State, T>) => Record<string, string>;
}

/** The error the state machine sees: its `name` is what Retry and Catch match. */
export const asStepError = (error: unknown): Error => {
  if (isPermanent(error))
    return new PermanentError(`[${error.code}] ${error.message}`, { code: error.code }, { cause: error });
  if (isTransient(error))
    return new TransientError(`[${error.code}] ${error.message}`, { code: error.code }, { cause: error });
  return new TransientError(`[Unexpected] ${safeMessage(error)}`, { code: 'Unexpected' }, { cause: error });
};

/** How long to wait before failing the attempt: the vendor's Retry-After, bounded by both limits. */
export const retryAfterWaitMs = (error: unknown, remainingMs: number): number => {
  if (!isTransient(error) || error.retryAfterSeconds === undefined) return 0;
  return Math.max(
    0,
    Math.min(error.retryAfterSeconds * 1000, MAX_RETRY_AFTER_WAIT_MS, remainingMs - TIMEOUT_MARGIN_MS),
  );
};

export const sagaStepHandler = <
  Step extends string,
  State extends { event: unknown },
  T extends EventType,
  Result,
>(
  options: SagaStepHandlerOptions<Step, State, T, Result>,
) => {
  const { logger, metrics } = options;

  const parseInput = (input: unknown): { step: Step; saga: WithEvent<State, T> } => {
    const parsed = options.input.safeParse(input);
    if (!parsed.success) {
      throw asStepError(
        new PermanentError(`step input: ${describeIssues(parsed.error.issues)}`, {
          code: 'InvalidStepInput',
        }),
      );
    }
    try {
      const event = parseEvent(parsed.data.saga.event, options.eventType);
      return { step: parsed.data.step, saga: { ...parsed.data.saga, event } };
    } catch (error) {
      throw asStepError(
        new PermanentError(`saga event: ${safeMessage(error)}`, { code: 'InvalidStepInput' }),
      );
    }
  };

  const runOne = async (input: unknown, context: Context): Promise<Result> => {
    const { step, saga } = parseInput(input);
    logger.appendKeys({ correlationId: saga.event.correlationId, eventId: saga.event.id, step });
    try {
      const result = await options.run(step, saga);
      for (const metric of options.metricsOfStep?.[step] ?? [])
        metrics.addMetric(metric, MetricUnit.Count, 1);
      logger.info('step done', options.describe(saga));
      return result;
    } catch (error) {
      logger.warn('step failed', { error: safeMessage(error) });
      const waitMs = retryAfterWaitMs(error, context.getRemainingTimeInMillis());
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      throw asStepError(error);
    } finally {
      logger.removeKeys(['correlationId', 'eventId', 'step']);
    }
  };

  return middy(runOne).use(injectLambdaContext(logger)).use(logMetrics(metrics));
};
