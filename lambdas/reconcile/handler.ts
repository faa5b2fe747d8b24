import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { dynamoCheckpointStore } from '../adapters/aws/checkpoint-store';
import { dynamoConcurrencyLeases } from '../adapters/aws/concurrency-leases';
import { documentClient } from '../adapters/aws/documents';
import { eventBridgePublisher } from '../adapters/aws/event-publisher';
import { dynamoExceptionsRepository, exceptionId } from '../adapters/aws/exceptions-repository';
import { dynamoLinksRepository } from '../adapters/aws/links-repository';
import {
  dynamoOpenDifferences,
  RESOLVED_BY_RECONCILIATION,
  reconciliationExceptionStates,
} from '../adapters/aws/open-differences';
import { crmClientsOf } from '../adapters/crm-clients';
import { NetSuiteClient } from '../adapters/netsuite/client';
import { netSuiteCredentialsFrom } from '../adapters/netsuite/credentials';
import { NetSuiteErpReader } from '../adapters/netsuite/erp-reader';
import { StripeBillingReader } from '../adapters/stripe/billing-reader';
import { stripeApiKeyFrom } from '../adapters/stripe/sdk';
import type { CanonicalEvent } from '../domain/events';
import { reportException } from '../domain/exception-reporting';
import {
  type Difference,
  defaultWindow,
  differenceCode,
  type ReconciliationWindow,
  type WonDeal,
} from '../domain/reconciliation';
import { parseEnv } from '../shared/env';
import {
  FLOW,
  type ReconciliationCheckpoint,
  type ReconciliationResult,
  runReconciliation,
  SCHEDULED_RUN_ID,
} from './logic';
import { envSchema, parseInput } from './schema';

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const documents = documentClient();
const exceptionsRepository = dynamoExceptionsRepository(documents, env.EXCEPTIONS_TABLE_NAME);
const exceptions = {
  exceptions: exceptionsRepository,
  publisher: eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME),
};
const exceptionStates = reconciliationExceptionStates(documents, env.EXCEPTIONS_TABLE_NAME);
const billing = new StripeBillingReader({
  apiKey: stripeApiKeyFrom(env.STRIPE_API_KEY_SECRET_ID),
  baseUrl: env.STRIPE_API_BASE_URL,
  timeoutMs: env.STRIPE_TIMEOUT_MS,
});
const crm = crmClientsOf(env);
const wonStages = env.HUBSPOT_WON_STAGES.split(',').map((stage) => stage.trim());
const erpReader = new NetSuiteErpReader(
  new NetSuiteClient({
    baseUrl: env.NETSUITE_BASE_URL,
    timeoutMs: env.NETSUITE_TIMEOUT_MS,
    credentials: netSuiteCredentialsFrom(env.NETSUITE_SECRET_ID),
  }),
  env.NETSUITE_MAPPING.currencyIds,
);
const exceptionOf = (event: CanonicalEvent) => exceptionId(FLOW, event.id);
const deps = {
  billing,
  erp: erpReader,
  deals: {
    crms: ['salesforce', 'hubspot'] as const,
    list: (system: WonDeal['crm'], window: ReconciliationWindow, cursor: string | null) =>
      system === 'salesforce'
        ? crm.salesforce.listWonDeals(window, cursor)
        : crm.hubspot.listWonDeals(window, cursor, wonStages),
    get: async (system: WonDeal['crm'], dealId: string): Promise<WonDeal | null> => {
      const deal = await (system === 'salesforce' ? crm.salesforce : crm.hubspot).getDeal(dealId);
      return deal?.isWon ? { crm: system, dealId, amends: deal.amends ?? null } : null;
    },
    subscriptionExists: (id: string) => billing.subscriptionExists(id),
    salesOrderId: (externalId: string) => erpReader.getSalesOrderId(externalId),
  },
  open: {
    store: dynamoOpenDifferences(documents, env.OPEN_DIFFERENCES_TABLE_NAME),
    billing,
    acknowledged: async (event: CanonicalEvent) =>
      (await exceptionStates.state(exceptionOf(event))) === 'resolved-by-person',
    close: async (_difference: Difference, event: CanonicalEvent) => {
      await exceptionsRepository.resolve(exceptionOf(event), RESOLVED_BY_RECONCILIATION);
      metrics.addMetric('ReconciliationDifferencesClosed', MetricUnit.Count, 1);
    },
  },
  links: dynamoLinksRepository(documents, env.LINKS_TABLE_NAME),
  checkpoints: dynamoCheckpointStore<ReconciliationCheckpoint>(documents, env.CHECKPOINT_TABLE_NAME),
  erpConcurrency: env.RECONCILIATION_CONFIG.erpConcurrency,
  // Shared with every function that calls the account: together they stay within its limit.
  erpLeases: dynamoConcurrencyLeases(documents, env.CONCURRENCY_LEASES_TABLE_NAME, {
    resource: 'netsuite',
    limit: env.NETSUITE_CONCURRENCY_LIMIT,
    // A lease is held for one page of comparisons; an environment killed mid-page frees it after this.
    leaseMs: 120_000,
  }),
  creditMemos: env.RECONCILIATION_CONFIG.creditMemos,
  // One exception per difference (its id derives from the difference), announced on the bus.
  report: async (
    difference: Parameters<Parameters<typeof runReconciliation>[0]['report']>[0],
    event: Parameters<Parameters<typeof runReconciliation>[0]['report']>[1],
  ) => {
    const code = differenceCode(difference.kind);
    await reportException(exceptions, FLOW, code, difference.detail, event);
    // Found again after reconciliation closed it: the same exception opens again.
    await exceptionStates.reopen(exceptionOf(event));
    metrics
      .singleMetric()
      .addDimension('kind', code)
      .addMetric('ReconciliationDifferences', MetricUnit.Count, 1);
  },
};

/** Stops between pages with this much time left, so the checkpoint is saved before Lambda's timeout. */
const STOP_MARGIN_MS = 60_000;

const reconcile = async (input: unknown, context: Context): Promise<ReconciliationResult> => {
  const asked = parseInput(input);
  const onDemand = asked !== null;
  const window = asked
    ? asked
    : defaultWindow(
        new Date(),
        env.RECONCILIATION_CONFIG.windowDays,
        env.RECONCILIATION_CONFIG.settleMinutes * 60,
      );
  const result = await runReconciliation(deps, window, {
    ...(onDemand ? {} : { runId: SCHEDULED_RUN_ID }),
    shouldStop: () => context.getRemainingTimeInMillis() < STOP_MARGIN_MS,
  });
  logger.info('reconciliation run', {
    runId: result.runId,
    status: result.status,
    window: result.window,
    compared: result.compared,
    differences: result.differences,
  });
  // Only a finished run knows its window's totals (a partial one's counters continue next time).
  if (result.status === 'complete') {
    metrics.addMetric('ReconciliationInvoicesCompared', MetricUnit.Count, result.compared.invoices);
    // The alarm's metric: the differences the window still has.
    metrics.addMetric('ReconciliationOpenDifferences', MetricUnit.Count, result.open);
  }
  return result;
};

export const handler = middy(reconcile).use(injectLambdaContext(logger)).use(logMetrics(metrics));
