import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { documentClient } from '../adapters/aws/documents';
import { eventBridgePublisher } from '../adapters/aws/event-publisher';
import { dynamoExceptionsRepository } from '../adapters/aws/exceptions-repository';
import { stepFunctionsStarter } from '../adapters/aws/execution-starter';
import { crmClientsFromEnv } from '../adapters/crm-clients';
import { parseEnv } from '../shared/env';
import { eventConsumer } from '../shared/event-consumer';
import { FLOW, type StartDealSagaDeps, startDealSaga } from './logic';
import { envSchema } from './schema';

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const documents = documentClient();
const sfn = new SFNClient({});
const deps: StartDealSagaDeps = {
  crm: crmClientsFromEnv(env),
  startExecution: stepFunctionsStarter(sfn, env.STATE_MACHINE_ARN),
  startAmendment: stepFunctionsStarter(sfn, env.AMENDMENT_STATE_MACHINE_ARN),
};
const exceptions = {
  exceptions: dynamoExceptionsRepository(documents, env.EXCEPTIONS_TABLE_NAME),
  publisher: eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME),
};

export const handler = eventConsumer({
  type: 'crm.deal.won',
  flow: FLOW,
  exceptions,
  logger,
  metrics,
  idempotencyTableName: env.IDEMPOTENCY_TABLE_NAME,
  queueUrl: env.QUEUE_URL,
  // A throttled CRM: 10 s doubling per receive, never sooner than its Retry-After (a deal waits,
  // nobody pays yet).
  retryPolicy: { baseSeconds: 10 },
  handle: async (event) => {
    const result = await startDealSaga(event, deps);
    if (result.outcome === 'started' && 'saga' in result) {
      metrics.addMetric('AmendmentSagasStarted', MetricUnit.Count, 1);
      return result;
    }
    metrics.addMetric(
      result.outcome === 'started'
        ? 'DealSagasStarted'
        : result.outcome === 'already-started'
          ? 'DealSagasAlreadyStarted'
          : 'DealEventsIgnored',
      MetricUnit.Count,
      1,
    );
    return result;
  },
  describe: (result, event) => ({ ...result, crm: event.data.crm, dealId: event.data.dealId }),
});
