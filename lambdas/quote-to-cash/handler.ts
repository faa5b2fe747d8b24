import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { eventBridgePublisher } from '../adapters/aws/event-publisher';
import { dynamoExceptionsRepository } from '../adapters/aws/exceptions-repository';
import { dynamoLinksRepository } from '../adapters/aws/links-repository';
import { crmClientsFromEnv } from '../adapters/crm-clients';
import { NetSuiteClient } from '../adapters/netsuite/client';
import { netSuiteCredentialsFrom } from '../adapters/netsuite/credentials';
import { NetSuiteErpClient } from '../adapters/netsuite/erp-client';
import { StripeBillingClient } from '../adapters/stripe/billing-client';
import { StripePriceCatalog } from '../adapters/stripe/price-catalog';
import { describeIssues, parseEvent } from '../domain/events';
import { parseEnv } from '../shared/env';
import { isPermanent, isTransient, PermanentError, safeMessage, TransientError } from '../shared/errors';
import { loadSecret } from '../shared/secrets';
import { type QuoteToCashDeps, runStep, type Saga, type StepResult } from './logic';
import { envSchema, type Step, stepInputSchema, stripeKeySchema } from './schema';

/**
 * Every step of the quote-to-cash state machine, dispatched on `step`: one function, not one per step.
 *
 * Measured (esbuild, minified ESM, node22, as `cdk synth` bundles it; `npm run bench`): this function
 * is 723 KB and loads cold in ~83 ms. Split by step, the bundles would be 385-615 KB each (validate
 * 606 KB: it needs Stripe for the prices; ERP steps 409 KB; billing steps 615 KB; CRM steps 385 KB),
 * each still paying most of that load, because Powertools, middy and the AWS SDK are the bulk. Deals
 * are won a few times an hour, so nearly every function a saga touches is cold: one function per step
 * pays up to seven cold starts in a row, one function pays one and runs every later step warm. The
 * price is a role holding the four vendor secrets, which are exactly the saga's secrets.
 */

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const stripeKey = () => loadSecret(env.STRIPE_API_KEY_SECRET_ID, stripeKeySchema);
const deps: QuoteToCashDeps = {
  crm: crmClientsFromEnv(env),
  billing: new StripeBillingClient({
    apiKey: stripeKey,
    baseUrl: env.STRIPE_API_BASE_URL,
    timeoutMs: env.STRIPE_TIMEOUT_MS,
  }),
  prices: new StripePriceCatalog({
    apiKey: stripeKey,
    baseUrl: env.STRIPE_API_BASE_URL,
    timeoutMs: env.STRIPE_TIMEOUT_MS,
  }),
  erp: new NetSuiteErpClient({
    client: new NetSuiteClient({
      baseUrl: env.NETSUITE_BASE_URL,
      timeoutMs: env.NETSUITE_TIMEOUT_MS,
      credentials: netSuiteCredentialsFrom(env.NETSUITE_SECRET_ID),
    }),
    mapping: env.NETSUITE_MAPPING,
  }),
  links: dynamoLinksRepository(documents, env.LINKS_TABLE_NAME),
  exceptions: dynamoExceptionsRepository(documents, env.EXCEPTIONS_TABLE_NAME),
  publisher: eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME),
  mapping: env.QUOTE_TO_CASH_MAPPING,
};

/**
 * A vendor's Retry-After is honoured by waiting here, up to this long, before failing the attempt: a
 * Retry policy's intervals are fixed in the definition and cannot read the header.
 */
const MAX_RETRY_AFTER_WAIT_MS = 10_000;

const METRIC_OF_STEP: Partial<Record<Step, string>> = {
  writeBack: 'DealsActivated',
  closeSalesOrder: 'CompensationsRun',
  cancelSubscription: 'CompensationsRun',
  deactivateErpCustomer: 'CompensationsRun',
  openException: 'ExceptionsOpened',
};

const runOne = async (input: unknown, context: Context): Promise<StepResult> => {
  const { step, saga } = parseInput(input);
  logger.appendKeys({ correlationId: saga.event.correlationId, eventId: saga.event.id, step });
  try {
    const result = await runStep(step, saga, deps);
    const metric = METRIC_OF_STEP[step];
    if (metric) metrics.addMetric(metric, MetricUnit.Count, 1);
    if (step === 'openException') metrics.addMetric('DealActivationFailed', MetricUnit.Count, 1);
    logger.info('step done', { crm: saga.deal.crm, dealId: saga.deal.dealId });
    return result;
  } catch (error) {
    logger.warn('step failed', { error: safeMessage(error) });
    if (isTransient(error) && error.retryAfterSeconds !== undefined) {
      const waitMs = Math.min(
        error.retryAfterSeconds * 1000,
        MAX_RETRY_AFTER_WAIT_MS,
        context.getRemainingTimeInMillis() - 5_000,
      );
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    throw asStepError(error);
  } finally {
    logger.removeKeys(['correlationId', 'eventId', 'step']);
  }
};

const parseInput = (input: unknown): { step: Step; saga: Saga } => {
  const parsed = stepInputSchema.safeParse(input);
  if (!parsed.success) {
    throw asStepError(
      new PermanentError(`step input: ${describeIssues(parsed.error.issues)}`, { code: 'InvalidStepInput' }),
    );
  }
  try {
    const event = parseEvent(parsed.data.saga.event, 'crm.deal.won');
    return { step: parsed.data.step, saga: { ...parsed.data.saga, event } };
  } catch (error) {
    throw asStepError(new PermanentError(`saga event: ${safeMessage(error)}`, { code: 'InvalidStepInput' }));
  }
};

/**
 * The error the state machine sees: its `name` is what Retry and Catch match, and the code leads the
 * message (`[code] ...`) because the Lambda runtime passes on only the name and the message. Anything
 * unclassified counts as transient, as everywhere in revbridge: a retry is cheap, and it still ends in
 * the Catch when it keeps failing.
 */
const asStepError = (error: unknown): Error => {
  if (isPermanent(error))
    return new PermanentError(`[${error.code}] ${error.message}`, { code: error.code }, { cause: error });
  if (isTransient(error))
    return new TransientError(`[${error.code}] ${error.message}`, { code: error.code }, { cause: error });
  return new TransientError(`[Unexpected] ${safeMessage(error)}`, { code: 'Unexpected' }, { cause: error });
};

export const handler = middy(runOne).use(injectLambdaContext(logger)).use(logMetrics(metrics));
