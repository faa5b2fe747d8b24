import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { eventBridgePublisher } from '../adapters/aws/event-publisher';
import { parseEnv } from '../shared/env';
import { header, json, rawBody } from '../shared/http';
import { loadSecret } from '../shared/secrets';
import { answerNotAccepted } from '../shared/webhook-answer';
import { ingestStripeWebhook } from './logic';
import { envSchema, webhookSecretSchema } from './schema';

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const publisher = eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME);

const ingest = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const outcome = await ingestStripeWebhook(
    { rawBody: rawBody(event), signature: header(event, 'stripe-signature') },
    {
      webhookSecrets: () => loadSecret(env.STRIPE_WEBHOOK_SECRET_ID, webhookSecretSchema),
      publisher,
      account: env.STRIPE_ACCOUNT_ID,
      maxBodyBytes: env.MAX_BODY_BYTES,
    },
  );
  switch (outcome.kind) {
    case 'published':
      metrics.addMetric('WebhooksAccepted', MetricUnit.Count, 1);
      // One log line per webhook, not two: what was published rides on the metric's EMF line (its
      // metadata keys are fields in Logs Insights like a log line's), so CloudWatch ingests it once.
      metrics.addMetadata('message', 'webhook published');
      metrics.addMetadata('eventId', outcome.eventId);
      metrics.addMetadata('vendorEventId', outcome.vendorEventId);
      metrics.addMetadata('type', outcome.type);
      return json(200, { received: true, id: outcome.eventId });
    case 'ignored':
      metrics.addMetric('WebhooksIgnored', MetricUnit.Count, 1);
      logger.info('webhook type not handled', {
        vendorEventId: outcome.vendorEventId,
        type: outcome.vendorType,
      });
      return json(200, { received: true, ignored: outcome.vendorType });
    default:
      return answerNotAccepted(outcome, logger, metrics);
  }
};

export const handler = middy(ingest).use(injectLambdaContext(logger)).use(logMetrics(metrics));
