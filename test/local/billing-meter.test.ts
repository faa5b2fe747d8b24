import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { BillingMeter, chunks, putEventsEntrySize } from '../../local/aws/billing-meter';
import { jsonProtocolListener } from '../../local/aws/json-protocol';
import { EventBridgeEngine } from '../../local/eventbridge/engine';
import { EventBridgeService } from '../../local/eventbridge/service';
import type { InvokeResult, LambdaHost } from '../../local/runtime/lambda-host';
import { SqsPoller } from '../../local/runtime/sqs-poller';
import { SqsEngine } from '../../local/sqs/engine';
import { SqsService } from '../../local/sqs/service';

describe('the billing meter', () => {
  it('bills each started 64 KB of a payload as one request, and an empty payload as one', () => {
    expect([0, 1, 65_536, 65_537, 256 * 1024].map(chunks)).toEqual([1, 1, 1, 2, 4]);
  });

  it('counts an invocation as one request and GB-seconds of its duration and init, each rounded up to the ms', () => {
    const meter = new BillingMeter();
    meter.lambdaInvocation('ingest', 256, 'arm64', 12.2, 100.1);
    meter.lambdaInvocation('ingest', 256, 'arm64', 9.5);
    meter.lambdaInvocation('consumer', 1024, 'x86_64', 1000);
    const usage = meter.usage();
    expect(usage['lambda.requests'].get('ingest')).toBe(2);
    expect(usage['lambda.requests'].get('consumer')).toBe(1);
    expect(usage['lambda.gbSeconds.arm64'].get('ingest')).toBeCloseTo(0.25 * ((13 + 101 + 10) / 1000), 10);
    expect(usage['lambda.gbSeconds.x86_64'].get('consumer')).toBeCloseTo(1, 10);
  });

  it('bills every PutEvents entry per 64 KB chunk of its size, whatever the number of requests', () => {
    const meter = new BillingMeter();
    meter.putEvents([100, 70_000], 'ingest');
    meter.putEvents([200_000], 'ingest');
    expect(meter.total('eventbridge.events')).toBe(1 + 2 + 4);
    expect(
      putEventsEntrySize({
        Source: 'revbridge.stripe',
        DetailType: 'x',
        Detail: '{"a":"é"}',
        Time: new Date(),
      }),
    ).toBe(16 + 1 + 10 + 14);
  });

  it('starts from zero after a reset', () => {
    const meter = new BillingMeter();
    meter.add('dynamodb.writeUnits', 3, 'table');
    meter.reset();
    expect(meter.total('dynamodb.writeUnits')).toBe(0);
    expect(meter.usage()['dynamodb.writeUnits'].size).toBe(0);
  });
});

describe('the emulators count what AWS bills', () => {
  let server: Server;
  let endpoint: string;
  const meter = new BillingMeter();
  const sqs = new SqsEngine({ baseUrl: 'http://127.0.0.1:1' });
  const events = new EventBridgeEngine({
    region: 'us-east-1',
    accountId: '000000000000',
    deliver: async () => {},
    warn: () => {},
  });
  const clientConfig = () => ({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

  beforeAll(async () => {
    const listener = jsonProtocolListener(
      [new SqsService(sqs), new EventBridgeService(events)],
      undefined,
      meter,
    );
    server = createServer((req, res) => void listener(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
    sqs.close();
  });
  beforeEach(() => meter.reset());

  it('counts SDK calls to SQS as requests and PutEvents entries as events', async () => {
    const queueUrl = sqs.createQueue('metered');
    const client = new SQSClient(clientConfig());
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'a' }));
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x'.repeat(100 * 1024) }));
    const received = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    );
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: (received.Messages ?? []).map((message, i) => ({
          Id: String(i),
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    );
    const bus = new EventBridgeClient(clientConfig());
    await bus.send(
      new PutEventsCommand({
        Entries: [1, 2, 3].map((n) => ({ Source: 'bench', DetailType: 't', Detail: JSON.stringify({ n }) })),
      }),
    );
    client.destroy();
    bus.destroy();
    const usage = meter.usage();
    // The 100 KB message is two 64 KB chunks; the receive asked for nothing big.
    expect(usage['sqs.requests'].get('SendMessage (SDK)')).toBe(1 + 2);
    expect(usage['sqs.requests'].get('ReceiveMessage (SDK)')).toBe(1);
    expect(usage['sqs.requests'].get('DeleteMessageBatch (SDK)')).toBe(1);
    expect(meter.total('eventbridge.events')).toBe(3);
  });

  it("counts Lambda's poller as one receive and one batch delete per batch, and empty polls as shares of 20 s", async () => {
    const engine = new SqsEngine({ baseUrl: 'http://127.0.0.1:1' });
    engine.createQueue('work');
    const arn = engine.describeQueue('work').arn;
    for (const n of [1, 2, 3]) engine.sendMessage(arn, { body: `message ${n}` });
    const invoked: number[] = [];
    const host = {
      async invoke(_name: string, event: { Records: unknown[] }): Promise<InvokeResult> {
        invoked.push(event.Records.length);
        return { ok: true, result: {}, durationMs: 1 };
      },
    } as unknown as LambdaHost;
    const poller = new SqsPoller(
      {
        functionName: 'fn',
        queueArn: arn,
        batchSize: 10,
        maxConcurrency: 1,
        reportBatchItemFailures: true,
        maxBatchingWindowSeconds: 0,
        region: 'us-east-1',
      },
      engine,
      host,
      { meter },
    );
    poller.start();
    const deadline = Date.now() + 10_000;
    // One batch, then one empty poll (its wait is 1 s, a twentieth of Lambda's long poll).
    while (meter.usage()['sqs.requests'].size < 3 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await poller.stop();
    engine.close();
    const usage = meter.usage()['sqs.requests'];
    expect(invoked).toEqual([3]);
    expect(usage.get('ReceiveMessage (Lambda poller)')).toBe(1);
    expect(usage.get('DeleteMessageBatch (Lambda poller)')).toBe(1);
    expect(usage.get('ReceiveMessage, empty (Lambda poller, as 20 s long polls)')).toBeCloseTo(1 / 20, 10);
  });
});
