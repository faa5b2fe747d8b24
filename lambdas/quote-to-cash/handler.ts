import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { dynamoLinksRepository } from '../adapters/aws/links-repository';
import { NetSuiteErpClient } from '../adapters/netsuite/erp-client';
import { sagaDepsFromEnv } from '../adapters/saga-deps';
import { StripeBillingClient } from '../adapters/stripe/billing-client';
import { parseEnv } from '../shared/env';
import { sagaStepHandler } from '../shared/saga-step-handler';
import { type QuoteToCashDeps, runStep, type Saga } from './logic';
import { envSchema, type Step, stepInputSchema } from './schema';

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
const saga = sagaDepsFromEnv(env);
const deps: QuoteToCashDeps = {
  ...saga.deps,
  billing: new StripeBillingClient(saga.stripe),
  erp: new NetSuiteErpClient({ client: saga.netsuite, mapping: env.NETSUITE_MAPPING }),
  links: dynamoLinksRepository(saga.documents, env.LINKS_TABLE_NAME),
};

const METRICS_OF_STEP: Partial<Record<Step, readonly string[]>> = {
  writeBack: ['DealsActivated'],
  closeSalesOrder: ['CompensationsRun'],
  cancelSubscription: ['CompensationsRun'],
  deactivateErpCustomer: ['CompensationsRun'],
  openException: ['ExceptionsOpened', 'DealActivationFailed'],
};

export const handler = sagaStepHandler({
  input: stepInputSchema,
  eventType: 'crm.deal.won',
  run: (step, saga: Saga) => runStep(step, saga, deps),
  logger,
  metrics,
  metricsOfStep: METRICS_OF_STEP,
  describe: (saga) => ({ crm: saga.deal.crm, dealId: saga.deal.dealId }),
});
