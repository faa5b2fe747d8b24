import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { documentClient } from '../adapters/aws/documents';
import { dynamoDunningRepository } from '../adapters/aws/dunning-repository';
import { eventBridgePublisher } from '../adapters/aws/event-publisher';
import { dynamoExceptionsRepository } from '../adapters/aws/exceptions-repository';
import { dynamoLinksRepository } from '../adapters/aws/links-repository';
import { crmClientsOf } from '../adapters/crm-clients';
import { parseEnv } from '../shared/env';
import { eventConsumer } from '../shared/event-consumer';
import { EVENT_TYPES, FLOW, type FlagDunningDeps, flagDunning } from './logic';
import { envSchema } from './schema';

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const documents = documentClient();
const deps: FlagDunningDeps = {
  dunning: dynamoDunningRepository(documents, env.LINKS_TABLE_NAME),
  links: dynamoLinksRepository(documents, env.LINKS_TABLE_NAME),
  crm: crmClientsOf(env),
  exceptions: dynamoExceptionsRepository(documents, env.EXCEPTIONS_TABLE_NAME),
  publisher: eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME),
  mapping: env.DUNNING_MAPPING,
};

export const handler = eventConsumer({
  type: EVENT_TYPES,
  flow: FLOW,
  exceptions: deps,
  logger,
  metrics,
  idempotencyTableName: env.IDEMPOTENCY_TABLE_NAME,
  queueUrl: env.QUEUE_URL,
  // A throttled CRM: 10 s doubling per receive, never sooner than its Retry-After.
  retryPolicy: { baseSeconds: 10 },
  handle: async (event) => {
    const result = await flagDunning(event, deps);
    if (result.outcome === 'flagged' && result.repeated) {
      metrics.addMetric('DunningFlagsRewritten', MetricUnit.Count, 1);
    } else if (result.outcome === 'flagged') {
      metrics.addMetric('PaymentsFailed', MetricUnit.Count, 1);
      // Counted once per invoice, on its first failure: later attempts put no new money at risk.
      // Minor units of the invoice's currency (EMF metrics carry no currency).
      if (result.firstFailure) metrics.addMetric('AmountAtRisk', MetricUnit.NoUnit, result.amountDue);
    } else if (result.outcome === 'cleared') {
      metrics.addMetric('PaymentsRecovered', MetricUnit.Count, 1);
      metrics.addMetric('AmountRecovered', MetricUnit.NoUnit, result.amountRecovered);
    } else {
      metrics.addMetric('DunningEventsIgnored', MetricUnit.Count, 1);
    }
    return result;
  },
  describe: (result, event) => ({ ...result, type: event.type, version: event.version }),
});
