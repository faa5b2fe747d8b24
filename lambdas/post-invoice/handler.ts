import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { erpFlowDeps } from '../adapters/erp-flow-deps';
import { netSuiteErpLedger } from '../adapters/netsuite/erp-ledger';
import { parseEnv } from '../shared/env';
import { eventConsumer } from '../shared/event-consumer';
import { FLOW, postInvoice } from './logic';
import { envSchema } from './schema';

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const { netsuite, ...shared } = erpFlowDeps(env);
const deps = { ...shared, erp: netSuiteErpLedger(netsuite, env.NETSUITE_MAPPING) };

export const handler = eventConsumer({
  type: 'billing.invoice.finalized',
  flow: FLOW,
  exceptions: deps,
  logger,
  metrics,
  idempotencyTableName: env.IDEMPOTENCY_TABLE_NAME,
  queueUrl: env.QUEUE_URL,
  // A throttled or failing ERP: 30 s doubling per receive, never sooner than its Retry-After.
  retryPolicy: { baseSeconds: 30 },
  // A batch's records share one NetSuite lease (up to 5 requests) while the account has room:
  // 2 lease writes per 5 posts instead of per post (NetSuiteClient.sharingLease).
  aroundBatch: (work) => netsuite.sharingLease(work),
  handle: async (event) => {
    const result = await postInvoice(event, deps);
    metrics.addMetric('InvoicesPosted', MetricUnit.Count, 1);
    metrics.addMetric('SyncLatency', MetricUnit.Milliseconds, Date.now() - Date.parse(event.occurredAt));
    return result;
  },
  onException: () => metrics.addMetric('InvoicePostingFailed', MetricUnit.Count, 1),
  describe: (result, event) => ({ outcome: result.outcome, invoiceId: event.data.id }),
});
