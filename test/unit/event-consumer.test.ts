import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { EventPublisher } from '../../lambdas/adapters/aws/event-publisher';
import type { ExceptionsRepository } from '../../lambdas/adapters/aws/exceptions-repository';
import { netSuiteErpLedger, netSuitePaymentLedger } from '../../lambdas/adapters/netsuite/erp-ledger';
import { mapStripeEvent, parseStripeEvent } from '../../lambdas/adapters/stripe/map';
import { FLOW as APPLY_PAYMENT, applyPayment } from '../../lambdas/apply-payment/logic';
import type { CrmClient } from '../../lambdas/domain/deal';
import { busSource, type CanonicalEvent, type EventType, parseEvent } from '../../lambdas/domain/events';
import { FLOW as POST_INVOICE, postInvoice } from '../../lambdas/post-invoice/logic';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';
import { type EventConsumerOptions, eventConsumer } from '../../lambdas/shared/event-consumer';
import { FLOW as START_DEAL_SAGA, startDealSaga } from '../../lambdas/start-deal-saga/logic';
import {
  creditNoteEvent,
  dealWonEvent,
  invoiceFinalizedEvent,
  invoicePaidEvent,
} from '../support/canonical-events';
import { stripeEventFor, vendorJson } from '../support/fixtures';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_REGION ??= 'us-east-1';

// The idempotency records (Powertools' DynamoDB persistence layer) and the redelivery delay (SQS).
const dynamo = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);
beforeEach(() => {
  dynamo.reset();
  dynamo.onAnyCommand().resolves({});
  sqs.reset();
  sqs.onAnyCommand().resolves({});
});

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/consumer';

const context = {
  functionName: 'consumer',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

/** An SQS record as EventBridge puts a canonical event on a consumer's queue. */
const recordOf = (event: CanonicalEvent, receiveCount = 1, messageId = 'msg-1') => ({
  messageId,
  receiptHandle: `rh-${messageId}`,
  body: JSON.stringify({
    version: '0',
    id: 'bus-1',
    'detail-type': event.type,
    source: busSource(event.source.vendor),
    detail: event,
  }),
  attributes: {
    ApproximateReceiveCount: String(receiveCount),
    SentTimestamp: '0',
    SenderId: 'events',
    ApproximateFirstReceiveTimestamp: '0',
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:consumer',
  awsRegion: 'us-east-1',
});

const batchOf = (...records: ReturnType<typeof recordOf>[]): SQSEvent => ({ Records: records });

/** A consumer with fakes for everything but its own code; records what it did. */
const consumerWorld = <T extends EventType, R>(
  type: T | readonly T[],
  handle: (event: CanonicalEvent<T>) => Promise<R>,
  overrides: Partial<EventConsumerOptions<T, R>> = {},
) => {
  const opened: { flow: string; code: string; eventId: string }[] = [];
  const published: CanonicalEvent[] = [];
  const described: Record<string, unknown>[] = [];
  const exceptions: ExceptionsRepository = {
    async open(flow, code, message, event) {
      opened.push({ flow, code, eventId: event.id });
      return { exceptionId: `exc_${opened.length}`, flow, code, message, event };
    },
  };
  const publisher: EventPublisher = {
    async publish(events) {
      published.push(...events);
    },
  };
  const metrics = new Metrics({ namespace: 'RevBridge', serviceName: 'consumer-test' });
  jest.spyOn(metrics, 'publishStoredMetrics').mockReturnThis();
  const addMetric = jest.spyOn(metrics, 'addMetric');
  const exceptionCodes: string[] = [];
  const handler = eventConsumer<T, R>({
    type,
    flow: 'test-flow',
    handle,
    describe: (result) => {
      described.push(result as Record<string, unknown>);
      return {};
    },
    exceptions: { exceptions, publisher },
    onException: (code) => exceptionCodes.push(code),
    logger: new Logger({ serviceName: 'consumer-test', logLevel: 'SILENT' }),
    metrics,
    idempotencyTableName: 'idempotency',
    queueUrl: QUEUE_URL,
    retryPolicy: { baseSeconds: 30 },
    ...overrides,
  });
  const run = async (event: SQSEvent): Promise<SQSBatchResponse> =>
    (await handler(event, context)) as SQSBatchResponse;
  const metricNames = () => addMetric.mock.calls.map(([name]) => name);
  const visibilityChanges = () =>
    sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input);
  return { run, opened, published, described, exceptionCodes, metricNames, visibilityChanges };
};

describe('the event consumer', () => {
  it('runs the work once for a well-formed record and reports no failure', async () => {
    const seen: string[] = [];
    const w = consumerWorld('billing.invoice.finalized', async (event) => {
      seen.push(event.id);
      return { outcome: 'posted' as const };
    });
    const event = invoiceFinalizedEvent();
    expect(await w.run(batchOf(recordOf(event)))).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([event.id]);
    expect(w.described).toEqual([{ outcome: 'posted' }]);
    expect(w.visibilityChanges()).toEqual([]);
  });

  it("keeps the handled event's ids and outcome in its idempotency record for the operator's trail, never its data", async () => {
    const w = consumerWorld('billing.invoice.finalized', async () => ({ outcome: 'posted' as const }), {
      describe: () => ({ outcome: 'posted', skipped: undefined }),
    });
    const event = invoiceFinalizedEvent();
    await w.run(batchOf(recordOf(event)));
    const saved = dynamo
      .commandCalls(UpdateItemCommand)
      .map((call) => call.args[0].input.ExpressionAttributeValues);
    const data = unmarshall(saved.find((values) => values?.[':response_data'])?.[':response_data']?.M ?? {});
    expect(data.result).toEqual({ outcome: 'posted' });
    expect(data.handled).toEqual({
      flow: 'test-flow',
      eventId: event.id,
      type: 'billing.invoice.finalized',
      correlationId: event.correlationId,
      causationId: event.causationId,
      occurredAt: event.occurredAt,
      ids: {
        id: event.data.id,
        'customer.billingId': event.data.customer.billingId,
        subscriptionId: String(event.data.subscriptionId),
      },
      handledAt: expect.any(String),
      outcome: { outcome: 'posted' },
    });
    expect(JSON.stringify(data.handled)).not.toContain(String(event.data.total));
  });

  it('completes a redelivered event whose idempotency record was saved before the trail was kept', async () => {
    const seen: string[] = [];
    const w = consumerWorld('billing.invoice.finalized', async (event) => {
      seen.push(event.id);
      return { outcome: 'posted' as const };
    });
    dynamo.on(PutItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'exists',
        $metadata: {},
        Item: marshall({
          id: 'consumer#hash',
          status: 'COMPLETED',
          expiration: Math.floor(Date.now() / 1000) + 3600,
          data: { outcome: 'posted' },
        }),
      }),
    );
    expect(await w.run(batchOf(recordOf(invoiceFinalizedEvent())))).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([]);
    expect(w.described).toEqual([{ outcome: 'posted' }]);
  });

  it('opens an exception for a permanent failure and completes the record without retry', async () => {
    const w = consumerWorld('billing.invoice.finalized', async () => {
      throw new PermanentError('bad subsidiary', { code: 'INVALID_VALUE', status: 400 });
    });
    const event = invoiceFinalizedEvent();
    expect(await w.run(batchOf(recordOf(event)))).toEqual({ batchItemFailures: [] });
    expect(w.described).toEqual([{ outcome: 'exception', exceptionId: 'exc_1', code: 'INVALID_VALUE' }]);
    expect(w.opened).toEqual([{ flow: 'test-flow', code: 'INVALID_VALUE', eventId: event.id }]);
    expect(w.published.map((e) => e.type)).toEqual(['ops.exception.opened']);
    expect(w.published[0]).toMatchObject({
      causationId: event.id,
      correlationId: event.correlationId,
      data: { flow: 'test-flow', code: 'INVALID_VALUE', exceptionId: 'exc_1', eventId: event.id },
    });
    expect(w.metricNames()).toEqual(['ExceptionsOpened']);
    expect(w.exceptionCodes).toEqual(['INVALID_VALUE']);
    // Neither backoff nor the DLQ: the message is deleted as handled.
    expect(w.visibilityChanges()).toEqual([]);
  });

  it('retries the record when the exception cannot be opened (the exceptions table is down)', async () => {
    const w = consumerWorld(
      'billing.invoice.finalized',
      async () => {
        throw new PermanentError('bad subsidiary', { code: 'INVALID_VALUE' });
      },
      {
        exceptions: {
          exceptions: {
            async open() {
              throw new TransientError('exceptions table write failed', { code: 'ExceptionsUnavailable' });
            },
          },
          publisher: { publish: async () => undefined },
        },
      },
    );
    expect(await w.run(batchOf(recordOf(invoiceFinalizedEvent())))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-1' }],
    });
    expect(w.metricNames()).toEqual([]);
    expect(w.visibilityChanges()).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-msg-1', VisibilityTimeout: 30 },
    ]);
  });

  it('fails only the record a transient error hit, delaying its redelivery by the doubling backoff', async () => {
    const w = consumerWorld('billing.invoice.finalized', async (event) => {
      if (event.source.eventId === 'evt_fails') throw new TransientError('down', { code: 'HTTP503' });
      return { outcome: 'posted' as const };
    });
    const failing = parseEvent(
      mapStripeEvent(
        parseStripeEvent(
          stripeEventFor('invoice.finalized', vendorJson('stripe/resources/invoice.json'), 'evt_fails'),
        ),
        'acct_test',
      ),
      'billing.invoice.finalized',
    );
    const response = await w.run(
      batchOf(recordOf(invoiceFinalizedEvent(), 1, 'ok'), recordOf(failing, 3, 'bad')),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    // Third receive: 30 s × 2².
    expect(w.visibilityChanges()).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-bad', VisibilityTimeout: 120 },
    ]);
    expect(w.opened).toEqual([]);
  });

  it("never comes back sooner than a vendor's Retry-After, nor sooner than the backoff", async () => {
    const w = consumerWorld('billing.invoice.finalized', async () => {
      throw new TransientError('throttled', { code: 'HTTP429', retryAfterSeconds: 45 });
    });
    await w.run(batchOf(recordOf(invoiceFinalizedEvent(), 1)));
    await w.run(batchOf(recordOf(invoiceFinalizedEvent(), 4)));
    // 45 s asked against 30 s of backoff; then 30 s × 2³ against the 45 s asked.
    expect(w.visibilityChanges()).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-msg-1', VisibilityTimeout: 45 },
      { QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-msg-1', VisibilityTimeout: 240 },
    ]);
  });

  it('makes a malformed message visible again at once, so it reaches the DLQ quickly, without running the work', async () => {
    let ran = false;
    const w = consumerWorld('billing.invoice.finalized', async () => {
      ran = true;
      return {};
    });
    const notJson = { ...recordOf(invoiceFinalizedEvent()), body: '{not json' };
    const wrongType = recordOf(invoicePaidEvent(), 1, 'msg-2');
    expect(await w.run(batchOf(notJson, wrongType))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'msg-1' }, { itemIdentifier: 'msg-2' }],
    });
    expect(ran).toBe(false);
    expect(w.visibilityChanges().map((change) => change.VisibilityTimeout)).toEqual([0, 0]);
    expect(w.opened).toEqual([]);
  });
});

describe('the event consumer of several event types', () => {
  it('runs the work for each type it carries, and sends a record of any other type on to the DLQ', async () => {
    const seen: string[] = [];
    const w = consumerWorld(['billing.credit_note.created', 'billing.credit_note.voided'], async (event) => {
      seen.push(event.type);
      return {};
    });
    const response = await w.run(
      batchOf(
        recordOf(creditNoteEvent('billing.credit_note.created'), 1, 'msg-1'),
        recordOf(creditNoteEvent('billing.credit_note.voided'), 1, 'msg-2'),
        recordOf(invoicePaidEvent(), 1, 'msg-3'),
      ),
    );
    expect(seen).toEqual(['billing.credit_note.created', 'billing.credit_note.voided']);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-3' }] });
    expect(w.visibilityChanges().map((change) => change.VisibilityTimeout)).toEqual([0]);
  });
});

/** The permanent failures of the flows, reported by the consumer as the logic files once did themselves. */
describe("a flow's permanent failure through the consumer", () => {
  const noLinks = {
    find: async (queries: readonly unknown[]) => queries.map(() => undefined),
    record: async () => undefined,
  };
  const mapping = {
    subsidiaryId: '1',
    currencyIds: { USD: '1' },
    productItemIds: {},
    defaultItemId: '100',
    taxItemId: '200',
    adjustmentItemId: '300',
  };
  const refusingErp = {
    upsert: async (): Promise<string> => {
      throw new PermanentError('more than due', { code: 'INVALID_VALUE', status: 400 });
    },
  };
  const publishes = { publish: async () => undefined };

  it('opens an exception and emits ops.exception.opened when the ERP refuses an invoice', async () => {
    const w = consumerWorld(
      'billing.invoice.finalized',
      (event) =>
        postInvoice(event, {
          erp: netSuiteErpLedger(refusingErp, mapping),
          links: noLinks,
          publisher: publishes,
        }),
      { flow: POST_INVOICE },
    );
    const event = invoiceFinalizedEvent();
    expect(await w.run(batchOf(recordOf(event)))).toEqual({ batchItemFailures: [] });
    expect(w.described).toEqual([{ outcome: 'exception', exceptionId: 'exc_1', code: 'INVALID_VALUE' }]);
    expect(w.opened).toEqual([{ flow: 'post-invoice', code: 'INVALID_VALUE', eventId: event.id }]);
    expect(w.published.map((e) => e.type)).toEqual(['ops.exception.opened']);
  });

  it('opens an exception and emits ops.exception.opened when the ERP refuses a payment', async () => {
    const linked = {
      find: async (queries: readonly unknown[]) => ['501', '77', undefined].slice(0, queries.length),
      record: async () => undefined,
    };
    const w = consumerWorld(
      'billing.invoice.paid',
      (event) =>
        applyPayment(event, {
          erp: netSuitePaymentLedger(refusingErp, mapping),
          links: linked,
          publisher: publishes,
        }),
      { flow: APPLY_PAYMENT },
    );
    const event = invoicePaidEvent();
    await w.run(batchOf(recordOf(event)));
    expect(w.described).toEqual([{ outcome: 'exception', exceptionId: 'exc_1', code: 'INVALID_VALUE' }]);
    expect(w.opened).toEqual([{ flow: 'apply-payment', code: 'INVALID_VALUE', eventId: event.id }]);
    expect(w.published.map((e) => e.type)).toEqual(['ops.exception.opened']);
  });

  it('opens an exception when the CRM refuses the read of a won deal for good, starting nothing', async () => {
    const started: string[] = [];
    const crm: CrmClient = {
      getDeal: async () => {
        throw new PermanentError('deal 1234567 has no associated company', { code: 'DealHasNoAccount' });
      },
      writeBack: async () => undefined,
    };
    const w = consumerWorld(
      'crm.deal.won',
      (event) =>
        startDealSaga(event, {
          crm: () => crm,
          startExecution: async (name) => {
            started.push(name);
            return 'started';
          },
          startAmendment: async () => 'started',
        }),
      { flow: START_DEAL_SAGA },
    );
    await w.run(batchOf(recordOf(dealWonEvent())));
    expect(w.described).toEqual([{ outcome: 'exception', exceptionId: 'exc_1', code: 'DealHasNoAccount' }]);
    expect(w.opened).toEqual([
      { flow: 'start-deal-saga', code: 'DealHasNoAccount', eventId: dealWonEvent().id },
    ]);
    expect(w.published.map((e) => e.type)).toEqual(['ops.exception.opened']);
    expect(started).toEqual([]);
  });
});

describe('an event consumer of several event types', () => {
  it('runs the work for each type its queue carries and sends any other type on to the DLQ', async () => {
    const seen: string[] = [];
    const w = consumerWorld<'billing.invoice.paid' | 'billing.payment.failed', { outcome: 'seen' }>(
      'billing.invoice.paid',
      async (event) => {
        seen.push(event.type);
        return { outcome: 'seen' as const };
      },
      { type: ['billing.invoice.paid', 'billing.payment.failed'] },
    );
    const failed = parseEvent(
      mapStripeEvent(
        parseStripeEvent(
          stripeEventFor('invoice.payment_failed', vendorJson('stripe/resources/invoice.json')),
        ),
        'acct_test',
      ),
      'billing.payment.failed',
    );
    expect(
      await w.run(
        batchOf(
          recordOf(invoicePaidEvent(), 1, 'msg-paid'),
          recordOf(failed, 1, 'msg-failed'),
          recordOf(invoiceFinalizedEvent(), 1, 'msg-finalized'),
        ),
      ),
    ).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-finalized' }] });
    expect(seen).toEqual(['billing.invoice.paid', 'billing.payment.failed']);
  });
});
