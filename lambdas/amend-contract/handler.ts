import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { crmClientsFromEnv } from '../adapters/crm-clients';
import { erpFlowDeps } from '../adapters/erp-flow-deps';
import { NetSuiteSalesOrders } from '../adapters/netsuite/sales-order-lines';
import { StripeBillingClient } from '../adapters/stripe/billing-client';
import { StripePriceCatalog } from '../adapters/stripe/price-catalog';
import { stripeApiKeyFrom } from '../adapters/stripe/sdk';
import { parseEnv } from '../shared/env';
import { sagaStepHandler } from '../shared/saga-step-handler';
import { type AmendContractDeps, runStep } from './logic';
import { envSchema, type Step, stepInputSchema } from './schema';

/** Every step of the amendment state machine, dispatched on `step` (one function, as quote-to-cash). */

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const { netsuite, exceptions, publisher } = erpFlowDeps(env);
const stripe = {
  apiKey: stripeApiKeyFrom(env.STRIPE_API_KEY_SECRET_ID),
  baseUrl: env.STRIPE_API_BASE_URL,
  timeoutMs: env.STRIPE_TIMEOUT_MS,
};
const deps: AmendContractDeps = {
  crm: crmClientsFromEnv(env),
  billing: new StripeBillingClient(stripe),
  prices: new StripePriceCatalog(stripe),
  salesOrders: new NetSuiteSalesOrders({ client: netsuite }),
  exceptions,
  publisher,
  mapping: env.QUOTE_TO_CASH_MAPPING,
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
