import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';
import {
  MAX_RETRY_AFTER_WAIT_MS,
  retryAfterWaitMs,
  sagaStepHandler,
} from '../../lambdas/shared/saga-step-handler';
import { dealWonEvent } from '../support/canonical-events';

const context = {
  functionName: 'steps',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

const input = z.object({
  step: z.enum(['change', 'undo']),
  saga: z.object({ event: z.unknown(), amount: z.int() }),
});

const handlerRunning = (run: (step: 'change' | 'undo') => Promise<unknown>) => {
  const seen: { step: string; eventId: string; amount: number }[] = [];
  const handler = sagaStepHandler({
    input,
    eventType: 'crm.deal.won',
    run: async (step, saga) => {
      seen.push({ step, eventId: saga.event.id, amount: saga.amount });
      return run(step);
    },
    logger: new Logger({ serviceName: 'steps-test', logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'RevBridge', serviceName: 'steps-test' }),
    describe: () => ({}),
  });
  return { handler, seen };
};

const failureOf = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the step did not fail');
};

describe('the saga step handler', () => {
  it('runs the named step on the saga with its start event parsed, and returns its result', async () => {
    const { handler, seen } = handlerRunning(async () => ({ id: 'sub_1' }));
    const result = await handler({ step: 'change', saga: { event: dealWonEvent(), amount: 3 } }, context);
    expect(result).toEqual({ id: 'sub_1' });
    expect(seen).toEqual([{ step: 'change', eventId: 'evt_won_1', amount: 3 }]);
  });

  it('fails a malformed payload as a PermanentError naming the field, without running a step', async () => {
    const { handler, seen } = handlerRunning(async () => ({}));
    const error = await failureOf(handler({ step: 'change', saga: { event: dealWonEvent() } }, context));
    expect(error.name).toBe('PermanentError');
    expect(error.message).toMatch(/^\[InvalidStepInput\] step input: .*amount/);
    const unknownStep = await failureOf(handler({ step: 'delete', saga: { event: {}, amount: 1 } }, context));
    expect(unknownStep.message).toMatch(/^\[InvalidStepInput\]/);
    expect(seen).toEqual([]);
  });

  it('fails a saga whose start event is not the expected type as InvalidStepInput', async () => {
    const { handler } = handlerRunning(async () => ({}));
    const error = await failureOf(
      handler({ step: 'change', saga: { event: { id: 'x' }, amount: 1 } }, context),
    );
    expect(error.name).toBe('PermanentError');
    expect(error.message).toMatch(/^\[InvalidStepInput\] saga event: /);
  });

  it('names errors for the Catch: permanent and transient keep their class, with the code leading the message', async () => {
    const saga = { event: dealWonEvent(), amount: 1 };
    const permanent = await failureOf(
      handlerRunning(async () => {
        throw new PermanentError('price missing', { code: 'ValidationFailed' });
      }).handler({ step: 'change', saga }, context),
    );
    expect([permanent.name, permanent.message]).toEqual([
      'PermanentError',
      '[ValidationFailed] price missing',
    ]);
    const transient = await failureOf(
      handlerRunning(async () => {
        throw new TransientError('503 from Stripe', { code: 'StripeUnavailable' });
      }).handler({ step: 'change', saga }, context),
    );
    expect([transient.name, transient.message]).toEqual([
      'TransientError',
      '[StripeUnavailable] 503 from Stripe',
    ]);
  });

  it('counts an unclassified error as transient, code Unexpected, naming its class but not its text', async () => {
    const error = await failureOf(
      handlerRunning(async () => {
        throw new TypeError('undefined is not a function');
      }).handler({ step: 'undo', saga: { event: dealWonEvent(), amount: 1 } }, context),
    );
    expect([error.name, error.message]).toEqual(['TransientError', '[Unexpected] TypeError']);
  });

  it("waits out a vendor's Retry-After, bounded by its cap and the time the function has left", () => {
    const throttled = (seconds: number) =>
      new TransientError('429', { code: 'RateLimited', retryAfterSeconds: seconds });
    expect(retryAfterWaitMs(throttled(3), 60_000)).toBe(3_000);
    expect(retryAfterWaitMs(throttled(120), 60_000)).toBe(MAX_RETRY_AFTER_WAIT_MS);
    expect(retryAfterWaitMs(throttled(8), 9_000)).toBe(4_000);
    expect(retryAfterWaitMs(throttled(8), 2_000)).toBe(0);
    expect(retryAfterWaitMs(new TransientError('503', { code: 'Unavailable' }), 60_000)).toBe(0);
    expect(retryAfterWaitMs(new PermanentError('400', { code: 'Rejected' }), 60_000)).toBe(0);
  });
});
