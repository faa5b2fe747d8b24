import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { erpFlowDeps } from '../adapters/erp-flow-deps';
import { netSuitePaymentLedger } from '../adapters/netsuite/erp-ledger';
import { retryPolicyAwaiting } from '../shared/awaited-link';
import { parseEnv } from '../shared/env';
import { eventConsumer } from '../shared/event-consumer';
import { applyPayment, FLOW, INVOICE_NOT_POSTED } from './logic';
import { envSchema } from './schema';

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const { netsuite, ...shared } = erpFlowDeps(env);
const deps = { ...shared, erp: netSuitePaymentLedger(netsuite, env.NETSUITE_MAPPING) };

export const handler = eventConsumer({
  type: 'billing.invoice.paid',
  flow: FLOW,
  exceptions: deps,
  logger,
  metrics,
  idempotencyTableName: env.IDEMPOTENCY_TABLE_NAME,
  queueUrl: env.QUEUE_URL,
  // A throttled or failing ERP: 15 s doubling per receive, never sooner than its Retry-After. An
  // invoice not posted yet is a race expected to settle in seconds: 3 s doubling (see INVOICE_NOT_POSTED).
  retryPolicy: retryPolicyAwaiting(15, [INVOICE_NOT_POSTED]),
  // A batch's records share one NetSuite lease while the account has room (NetSuiteClient.sharingLease).
  aroundBatch: (work) => netsuite.sharingLease(work),
  handle: async (event) => {
    const result = await applyPayment(event, deps);
    if (result.outcome === 'applied') {
      metrics.addMetric('PaymentsApplied', MetricUnit.Count, 1);
      metrics.addMetric('SyncLatency', MetricUnit.Milliseconds, Date.now() - Date.parse(event.occurredAt));
    }
    return result;
  },
  onException: () => metrics.addMetric('PaymentApplicationFailed', MetricUnit.Count, 1),
  describe: (result, event) => ({ outcome: result.outcome, invoiceId: event.data.invoiceId }),
});
