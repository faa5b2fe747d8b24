import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { erpFlowDeps } from '../adapters/erp-flow-deps';
import { netSuiteCreditMemoLedger } from '../adapters/netsuite/erp-ledger';
import { invoiceLineProducts } from '../adapters/stripe/invoice-lines';
import { stripeApiKeyFrom, stripeSdk } from '../adapters/stripe/sdk';
import { retryPolicyAwaiting } from '../shared/awaited-link';
import { parseEnv } from '../shared/env';
import { eventConsumer } from '../shared/event-consumer';
import { CREDIT_MEMO_NOT_POSTED, FLOW, INVOICE_NOT_POSTED, postCreditMemo } from './logic';
import { envSchema } from './schema';

const env = parseEnv(envSchema);
const logger = new Logger();
const metrics = new Metrics();
const sdk = stripeSdk({
  apiKey: stripeApiKeyFrom(env.STRIPE_API_KEY_SECRET_ID),
  baseUrl: env.STRIPE_API_BASE_URL,
  timeoutMs: env.STRIPE_TIMEOUT_MS,
});
const { netsuite, ...shared } = erpFlowDeps(env);
const deps = {
  ...shared,
  erp: netSuiteCreditMemoLedger(netsuite, env.NETSUITE_MAPPING),
  invoiceLineProducts: invoiceLineProducts(sdk),
};

export const handler = eventConsumer({
  type: ['billing.credit_note.created', 'billing.credit_note.voided'],
  flow: FLOW,
  exceptions: deps,
  logger,
  metrics,
  idempotencyTableName: env.IDEMPOTENCY_TABLE_NAME,
  queueUrl: env.QUEUE_URL,
  // A throttled or failing vendor: 15 s doubling per receive, never sooner than its Retry-After. A
  // credit note whose invoice, or a void whose memo, is not posted yet waits from 3 s.
  retryPolicy: retryPolicyAwaiting(15, [INVOICE_NOT_POSTED, CREDIT_MEMO_NOT_POSTED]),
  // A batch's records share one NetSuite lease while the account has room (NetSuiteClient.sharingLease).
  aroundBatch: (work) => netsuite.sharingLease(work),
  handle: async (event) => {
    const result = await postCreditMemo(event, deps);
    metrics.addMetric(
      result.outcome === 'posted' ? 'CreditMemosPosted' : 'CreditMemosVoided',
      MetricUnit.Count,
      1,
    );
    return result;
  },
  onException: () => metrics.addMetric('CreditMemoPostingFailed', MetricUnit.Count, 1),
  describe: (result, event) => ({
    outcome: result.outcome,
    creditNoteId: event.data.id,
    invoiceId: event.data.invoiceId,
  }),
});
