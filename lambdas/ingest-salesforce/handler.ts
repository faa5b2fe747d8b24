import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { eventBridgePublisher } from '../adapters/aws/event-publisher';
import { parseEnv } from '../shared/env';
import { safeMessage } from '../shared/errors';
import { rawBody, xml } from '../shared/http';
import { loadSecret } from '../shared/secrets';
import { type IngestDeps, ingestSalesforceMessage } from './logic';
import { envSchema, pathTokenSecretSchema } from './schema';

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const publisher = eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME);
const tokenSecretId = env.SALESFORCE_PATH_TOKEN_SECRET_ID;
const deps: IngestDeps = {
  publisher,
  organizationId: env.SALESFORCE_ORG_ID,
  wonStages: env.SALESFORCE_WON_STAGES,
  maxBodyBytes: env.MAX_BODY_BYTES,
  ...(tokenSecretId ? { pathTokens: () => loadSecret(tokenSecretId, pathTokenSecretSchema) } : {}),
};

const ingest = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const outcome = await ingestSalesforceMessage(
    {
      rawBody: rawBody(event),
      pathToken: event.pathParameters?.token ?? event.queryStringParameters?.token ?? undefined,
    },
    deps,
  );
  switch (outcome.kind) {
    case 'acknowledged':
      metrics.addMetric(
        outcome.published.length > 0 ? 'WebhooksAccepted' : 'WebhooksIgnored',
        MetricUnit.Count,
        1,
      );
      logger.info('outbound message acknowledged', {
        notifications: outcome.notifications,
        ignored: outcome.ignored,
        published: outcome.published,
      });
      return xml(200, outcome.body);
    case 'rejected':
      metrics.addMetric('WebhooksRejected', MetricUnit.Count, 1);
      logger.warn('outbound message rejected', { status: outcome.status, reason: outcome.reason });
      return xml(outcome.status, outcome.body);
    case 'failed':
      metrics.addMetric('WebhooksFailed', MetricUnit.Count, 1);
      logger.error('outbound message not acknowledged, Salesforce will retry', {
        reason: outcome.reason,
        error: safeMessage(outcome.error),
      });
      return xml(outcome.status, outcome.body);
  }
};

export const handler = middy(ingest).use(injectLambdaContext(logger)).use(logMetrics(metrics));
