import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { eventBridgePublisher } from '../adapters/aws/event-publisher';
import { hubspotRequestUri } from '../adapters/hubspot/verify';
import { parseEnv } from '../shared/env';
import { header, json, rawBody } from '../shared/http';
import { loadSecret } from '../shared/secrets';
import { answerNotAccepted } from '../shared/webhook-answer';
import { ingestHubSpotWebhook } from './logic';
import { clientSecretSchema, envSchema } from './schema';

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const publisher = eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME);

const ingest = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const outcome = await ingestHubSpotWebhook(
    {
      method: event.httpMethod,
      uri: hubspotRequestUri(env.HUBSPOT_WEBHOOK_BASE_URL, event.path, event.multiValueQueryStringParameters),
      rawBody: rawBody(event),
      signature: header(event, 'x-hubspot-signature-v3'),
      timestamp: header(event, 'x-hubspot-request-timestamp'),
    },
    {
      clientSecrets: () => loadSecret(env.HUBSPOT_CLIENT_SECRET_ID, clientSecretSchema),
      publisher,
      wonStages: env.HUBSPOT_WON_STAGES,
      maxBodyBytes: env.MAX_BODY_BYTES,
    },
  );
  switch (outcome.kind) {
    case 'accepted':
      metrics.addMetric(
        outcome.published.length > 0 ? 'WebhooksAccepted' : 'WebhooksIgnored',
        MetricUnit.Count,
        1,
      );
      logger.info('webhook batch accepted', {
        events: outcome.events,
        ignored: outcome.ignored,
        published: outcome.published,
      });
      return json(200, { received: true, published: outcome.published.length, ignored: outcome.ignored });
    default:
      return answerNotAccepted(outcome, logger, metrics);
  }
};

export const handler = middy(ingest).use(injectLambdaContext(logger)).use(logMetrics(metrics));
