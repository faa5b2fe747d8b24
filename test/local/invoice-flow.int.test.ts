import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalRuntime } from '../../local/runtime/runtime';
import { eventually, invoiceFinalized, postStripeWebhook, startRuntime } from '../support/local-runtime';

let runtime: LocalRuntime;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

beforeAll(async () => {
  runtime = await startRuntime();
});

afterAll(async () => {
  await runtime?.stop();
});

const netsuite = () => {
  if (!runtime.netsuite) throw new Error('the NetSuite twin is not running');
  return runtime.netsuite;
};
const queue = (fragment: string) => {
  const found = runtime.status().queues.find((q) => q.name.includes(fragment));
  if (!found) throw new Error(`no queue named like ${fragment}`);
  return found;
};
const failedMessages = () =>
  runtime.status().eventSourceMappings.reduce((sum, mapping) => sum + mapping.failedMessages, 0);
const alarm = (id: string) => runtime.status().alarms.find((a) => a.id === id);
const metricSum = (name: string) =>
  runtime
    .status()
    .metrics.filter((m) => m.metricName === name)
    .reduce((sum, m) => sum + m.sum, 0);

describe('the invoice flow in the local runtime', () => {
  it('turns a signed Stripe webhook into one ERP invoice, a link and an InvoicesPosted metric', async () => {
    const before = metricSum('InvoicesPosted');
    const event = invoiceFinalized();
    const answer = await postStripeWebhook(runtime, event);
    expect(answer.status).toBe(200);
    expect(answer.body.id).toMatch(/^evt_[0-9a-f]{32}$/);
    await runtime.idle();
    const invoice = netsuite().getByExternalId('invoice', event.data.object.id);
    expect(invoice).toMatchObject({ externalId: event.data.object.id });
    expect(netsuite().writeCount('invoice', event.data.object.id)).toBe(1);
    expect(netsuite().getByExternalId('customer', event.data.object.customer)).toMatchObject({
      externalId: event.data.object.customer,
    });
    expect(metricSum('InvoicesPosted')).toBe(before + 1);
  });

  it('writes the ERP invoice once when Stripe delivers the same event twice', async () => {
    const event = invoiceFinalized();
    const [first, second] = await Promise.all([
      postStripeWebhook(runtime, event),
      postStripeWebhook(runtime, event),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.body.id).toBe(second.body.id);
    await runtime.idle();
    expect(netsuite().writeCount('invoice', event.data.object.id)).toBe(1);
  });

  it('rejects a webhook whose signature does not match, publishing nothing', async () => {
    const before = runtime.status().events.events.put;
    const event = invoiceFinalized();
    const payload = JSON.stringify(event);
    const response = await fetch(`${runtime.apiUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`,
      },
      body: payload,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'signature does not match' });
    expect(runtime.status().events.events.put).toBe(before);
  });

  it('retries an invoice the ERP throttled, no sooner than its Retry-After, and posts it once', async () => {
    const twin = netsuite();
    const failedBefore = failedMessages();
    twin.faults.set({ seed: 7, throttle: { rate: 1, burst: 1000, retryAfterSeconds: 1 } });
    const event = invoiceFinalized();
    expect((await postStripeWebhook(runtime, event)).status).toBe(200);
    await eventually(() => failedMessages() > failedBefore, 'the throttled posting to be reported as failed');
    expect(twin.getByExternalId('invoice', event.data.object.id)).toBeUndefined();
    twin.faults.set({});
    // Retry-After 1 s, the posting's backoff 30 s: the longer wins.
    runtime.skipQueueTime(60);
    await eventually(
      () => twin.getByExternalId('invoice', event.data.object.id),
      'the retried invoice to be posted',
      15_000,
    );
    await runtime.idle();
    expect(twin.writeCount('invoice', event.data.object.id)).toBe(1);
  });

  it('opens an exception for an invoice the ERP cannot take, does not retry it, and raises the posting alarm', async () => {
    const event = invoiceFinalized({ currency: 'jpy' });
    expect((await postStripeWebhook(runtime, event)).status).toBe(200);
    await runtime.idle();
    expect(netsuite().getByExternalId('invoice', event.data.object.id)).toBeUndefined();
    expect(queue('PostInvoiceConsumerQueue')).toMatchObject({ visible: 0, inflight: 0 });

    const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: runtime.dynamoUrl, credentials });
    const exceptionsTable = runtime.status().tables.find((name) => name.includes('Exceptions'));
    const scan = await dynamo.send(new ScanCommand({ TableName: exceptionsTable }));
    dynamo.destroy();
    const opened = scan.Items?.find((item) => item.correlationId?.S === event.data.object.id);
    expect(opened).toMatchObject({
      status: { S: 'OPEN' },
      code: { S: 'CurrencyNotMapped' },
      flow: { S: 'post-invoice' },
    });

    expect(metricSum('InvoicePostingFailed')).toBeGreaterThanOrEqual(1);
    const state = await eventually(
      () => alarm('PostInvoice/InvoicePostingFailedAlarm')?.state === 'ALARM' && 'ALARM',
      'the posting-failure alarm',
    );
    expect(state).toBe('ALARM');
  });

  it('parks a message that cannot be read in the DLQ with its reason after maxReceiveCount receives, and alarms', async () => {
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: runtime.awsUrl, credentials });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue('PostInvoiceConsumerQueue').url,
        MessageBody: '{"not":"an event"}',
      }),
    );
    sqs.destroy();
    const parked = await eventually(
      () =>
        queue('PostInvoiceConsumerDlq').deadLetters?.find((message) => message.bodyPreview.includes('not')),
      'the poison message in the DLQ',
    );
    expect(parked.receiveCount).toBe(5);
    expect(parked.reason).toMatch(/maxReceiveCount|5/);
    const state = await eventually(
      () => alarm('PostInvoice/Consumer/DlqAlarm')?.state === 'ALARM' && 'ALARM',
      'the DLQ alarm',
    );
    expect(state).toBe('ALARM');
  });

  it('reports only the record that can be retried in batchItemFailures; a permanent failure is not among them', async () => {
    const good = invoiceFinalized();
    const unpostable = invoiceFinalized({ currency: 'jpy' });
    const asBusMessage = (event: ReturnType<typeof invoiceFinalized>, envelopeId: string) => {
      const data = event.data.object;
      return JSON.stringify({
        'detail-type': 'billing.invoice.finalized',
        source: 'revbridge.stripe',
        detail: {
          id: envelopeId,
          type: 'billing.invoice.finalized',
          version: 1,
          occurredAt: new Date().toISOString(),
          source: { vendor: 'stripe', account: 'acct_revbridgelocal', eventId: event.id },
          correlationId: data.id,
          causationId: null,
          data: {
            id: data.id,
            number: null,
            customer: { billingId: data.customer, email: null, name: data.customer_name },
            subscriptionId: null,
            currency: String((data as { currency?: unknown }).currency ?? 'usd').toUpperCase(),
            status: 'open',
            lines: [
              {
                id: `${data.id}_l1`,
                description: null,
                quantity: 1,
                amount: 2500,
                priceId: null,
                productId: null,
                periodStart: null,
                periodEnd: null,
              },
            ],
            subtotal: 2500,
            tax: 0,
            total: 2500,
            amountDue: 2500,
            amountPaid: 0,
            issuedAt: new Date().toISOString(),
            dueAt: null,
          },
        },
      });
    };
    const record = (messageId: string, body: string) => ({
      messageId,
      receiptHandle: `handle-${messageId}`,
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:direct',
      awsRegion: 'us-east-1',
    });
    const posting = runtime.lambda
      .snapshot()
      .find((fn) => String(fn.logicalId).startsWith('PostInvoiceFunction'));
    const outcome = await runtime.lambda.invoke(String(posting?.name), {
      Records: [
        record('m-good', asBusMessage(good, `evt_batch_good_${process.pid}`)),
        record('m-permanent', asBusMessage(unpostable, `evt_batch_perm_${process.pid}`)),
        record('m-unreadable', '{"detail":{}}'),
      ],
    });
    expect(outcome).toMatchObject({
      ok: true,
      result: { batchItemFailures: [{ itemIdentifier: 'm-unreadable' }] },
    });
    expect(netsuite().getByExternalId('invoice', good.data.object.id)).toMatchObject({
      externalId: good.data.object.id,
    });
    expect(netsuite().getByExternalId('invoice', unpostable.data.object.id)).toBeUndefined();
  });

  it('serves its state at /_local/status, listing what it does not emulate', async () => {
    const response = await fetch(`${runtime.apiUrl}/_local/status`);
    const status = (await response.json()) as {
      twins: Record<string, string>;
      notEmulated: { type: string; reason: string }[];
    };
    expect(status.twins.netsuite).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(status.notEmulated.map((item) => item.type)).toEqual(
      expect.arrayContaining(['AWS::IAM::Role', 'AWS::CloudWatch::Dashboard']),
    );
    expect(status.notEmulated.every((item) => item.reason.length > 10)).toBe(true);
  });
});
