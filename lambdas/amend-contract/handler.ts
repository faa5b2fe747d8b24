import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { NetSuiteSalesOrders } from '../adapters/netsuite/sales-order-lines';
import { sagaDepsFromEnv } from '../adapters/saga-deps';
import { StripeBillingClient } from '../adapters/stripe/billing-client';
import { parseEnv } from '../shared/env';
import { sagaStepHandler } from '../shared/saga-step-handler';
import { type AmendContractDeps, runStep } from './logic';
import { envSchema, type Step, stepInputSchema } from './schema';

/** Every step of the amendment state machine, dispatched on `step` (one function, as quote-to-cash). */

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const saga = sagaDepsFromEnv(env);
const deps: AmendContractDeps = {
  ...saga.deps,
  billing: new StripeBillingClient(saga.stripe),
  salesOrders: new NetSuiteSalesOrders({ client: saga.netsuite }),
  prorationBehavior: env.AMENDMENT_PRORATION_BEHAVIOR,
};

const METRICS_OF_STEP: Partial<Record<Step, readonly string[]>> = {
  writeBack: ['ContractsAmended'],
  restoreSalesOrder: ['CompensationsRun'],
  revertSubscription: ['CompensationsRun'],
  openException: ['ExceptionsOpened', 'ContractAmendmentFailed'],
};

export const handler = sagaStepHandler({
  input: stepInputSchema,
  eventType: 'crm.deal.won',
  run: (step, saga) => runStep(step, saga, deps),
  logger,
  metrics,
  metricsOfStep: METRICS_OF_STEP,
  describe: (saga) => ({ crm: saga.deal.crm, dealId: saga.deal.dealId }),
});
