import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { safeMessage } from './errors';
import { json } from './http';
import type { Failed, Rejected } from './signed-webhook';

/**
 * The answer to a webhook that was not accepted, counted and logged the same way for every vendor:
 * a rejection (4xx, `WebhooksRejected`, the rejected-webhooks alarm) or a failure (503,
 * `WebhooksFailed`: the vendor retries). The reason is safe to show the sender.
 */
export const answerNotAccepted = (
  outcome: Rejected | Failed,
  logger: Logger,
  metrics: Metrics,
): APIGatewayProxyResult => {
  if (outcome.kind === 'rejected') {
    metrics.addMetric('WebhooksRejected', MetricUnit.Count, 1);
    logger.warn('webhook rejected', { status: outcome.status, reason: outcome.reason });
  } else {
    metrics.addMetric('WebhooksFailed', MetricUnit.Count, 1);
    logger.error('webhook not accepted, sender will retry', {
      reason: outcome.reason,
      error: safeMessage(outcome.error),
    });
  }
  return json(outcome.status, { error: outcome.reason });
};
