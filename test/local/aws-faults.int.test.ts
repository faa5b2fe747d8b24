import { DynamoDBClient, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalRuntime } from '../../local/runtime/runtime';
import { eventually, invoiceFinalized, postStripeWebhook, startRuntime } from '../support/local-runtime';

/**
 * Seeded faults in the AWS emulators (issue 12): each takes the shape AWS gives it, and the handlers
 * survive each as they must on AWS: an ingest that cannot publish answers 5xx, nothing is acknowledged
 * that is not on the bus, and every invoice still reaches the ERP exactly once.
 */

let runtime: LocalRuntime;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
/** One attempt, so the test sees the fault itself rather than the SDK's retry absorbing it. */
const once = () => ({ region: 'us-east-1', credentials, endpoint: runtime.awsUrl, maxAttempts: 1 });

beforeAll(async () => {
  runtime = await startRuntime();
});

afterEach(() => runtime.setAwsFaults({}));

afterAll(async () => {
  await runtime?.stop();
});

const injected = (key: string) => runtime.status().faults.injected[key] ?? 0;
const netsuite = () => {
  if (!runtime.netsuite) throw new Error('the NetSuite twin is not running');
  return runtime.netsuite;
};
const busName = () => {
  const bus = runtime.status().events.buses.find((b) => b.name.startsWith('revbridge-'));
  if (!bus) throw new Error('no revbridge bus');
  return bus.name;
};
/** When the last in-progress idempotency lock expires (epoch ms), 0 when none is held. */
const inProgressUntil = async () => {
  const table = runtime.tables.find((name) => name.includes('Idempotency'));
  const dynamo = new DynamoDBClient({ region: 'us-east-1', credentials, endpoint: runtime.dynamoUrl });
  const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: table }));
  return Items.filter((item) => item.status?.S === 'INPROGRESS').reduce(
    (latest, item) => Math.max(latest, Number(item.in_progress_expiration?.N ?? 0)),
    0,
  );
};
const entry = (n: number) => ({
  EventBusName: busName(),
  Source: 'revbridge.test',
  DetailType: 'test.fault',
  Detail: JSON.stringify({ n }),
});

describe('faults in the local AWS emulators', () => {
  it('fails single PutEvents entries in place, and only the others reach the bus', async () => {
    runtime.setAwsFaults({ seed: 3, eventbridge: { failedEntryRate: 0.5 } });
    const before = runtime.status().events.events.put;
    const output = await new EventBridgeClient(once()).send(
      new PutEventsCommand({ Entries: Array.from({ length: 10 }, (_, n) => entry(n)) }),
    );
    const failed = (output.Entries ?? []).filter((e) => e.ErrorCode === 'InternalFailure').length;
    expect(output.Entries).toHaveLength(10);
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThan(10);
    expect(output.FailedEntryCount).toBe(failed);
    expect(runtime.status().events.events.put - before).toBe(10 - failed);
    expect(output.Entries?.filter((e) => e.EventId).length).toBe(10 - failed);
  });

  it('answers SQS, EventBridge and Step Functions calls with the errors those services throttle with', async () => {
    runtime.setAwsFaults({
      sqs: { errorRate: 1 },
      eventbridge: { errorRate: 1, operations: ['PutEvents'] },
      stepfunctions: { errorRate: 1 },
    });
    await expect(new SQSClient(once()).send(new ListQueuesCommand({}))).rejects.toMatchObject({
      name: 'InternalError',
      $metadata: { httpStatusCode: 500 },
    });
    await expect(
      new EventBridgeClient(once()).send(new PutEventsCommand({ Entries: [entry(1)] })),
    ).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(new SFNClient(once()).send(new ListStateMachinesCommand({}))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    expect(injected('sqs.ListQueues')).toBe(1);
  });

  it('throttles DynamoDB data-plane calls with ProvisionedThroughputExceededException', async () => {
    runtime.setAwsFaults({ dynamodb: { errorRate: 1 } });
    const dynamo = new DynamoDBClient({ ...once(), endpoint: runtime.dynamoUrl });
    // Control-plane calls are not throttled: the runtime itself keeps working.
    const tables = await dynamo.send(new ListTablesCommand({}));
    const table = tables.TableNames?.[0];
    expect(table).toEqual(expect.any(String));
    await expect(dynamo.send(new ScanCommand({ TableName: table }))).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
    await eventually(() => injected('dynamodb.Scan') > 0, 'the DynamoDB thread to report the fault');
  });

  it('answers a Stripe webhook 503 while PutEvents fails, and posts the invoice once when Stripe retries', async () => {
    runtime.setAwsFaults({ eventbridge: { errorRate: 1, operations: ['PutEvents'] } });
    const event = invoiceFinalized();
    const before = runtime.status().events.events.put;
    const refused = await postStripeWebhook(runtime, event);
    expect(refused.status).toBe(503);
    expect(runtime.status().events.events.put).toBe(before);

    runtime.setAwsFaults({});
    const retried = await postStripeWebhook(runtime, event);
    expect(retried.status).toBe(200);
    await runtime.idle();
    expect(netsuite().writeCount('invoice', event.data.object.id)).toBe(1);
  });

  it('posts every invoice exactly once while DynamoDB throttles a third of the calls', async () => {
    runtime.setAwsFaults({ seed: 11, dynamodb: { errorRate: 0.3 } });
    const events = Array.from({ length: 8 }, () => invoiceFinalized());
    for (const event of events) expect((await postStripeWebhook(runtime, event)).status).toBe(200);
    // A call that stays throttled through the SDK's retries fails its record, which comes back after
    // the consumer's backoff (30 s and up): skip queue time once a second instead of waiting it out.
    let skippedAt = Date.now();
    await eventually(
      () => {
        if (Date.now() - skippedAt > 1000) {
          runtime.skipQueueTime(60);
          skippedAt = Date.now();
        }
        return events.every((event) => netsuite().writeCount('invoice', event.data.object.id) === 1);
      },
      'every invoice in the ERP',
      60_000,
    );
    expect(Object.keys(runtime.status().faults.injected).some((key) => key.startsWith('dynamodb.'))).toBe(
      true,
    );
    runtime.setAwsFaults({});
    await runtime.idle();
    for (const event of events) expect(netsuite().writeCount('invoice', event.data.object.id)).toBe(1);
  }, 120_000);

  it('redelivers a batch whose execution environment was killed mid-run, and posts it once', async () => {
    runtime.setAwsFaults({ seed: 5, lambda: { crashRate: 1, crashWithinMs: 5, functions: ['PostInvoice'] } });
    const crashesBefore = Object.entries(runtime.status().faults.injected)
      .filter(([key]) => key.endsWith('.crash'))
      .reduce((sum, [, n]) => sum + n, 0);
    const event = invoiceFinalized();
    expect((await postStripeWebhook(runtime, event)).status).toBe(200);
    await eventually(
      () =>
        Object.entries(runtime.status().faults.injected)
          .filter(([key]) => key.endsWith('.crash'))
          .reduce((sum, [, n]) => sum + n, 0) > crashesBefore,
      'an environment to be killed',
    );
    runtime.setAwsFaults({});
    // The killed batch's messages stay in flight until the visibility timeout, as on AWS.
    await eventually(
      () => runtime.status().queues.some((q) => q.name.includes('PostInvoice') && q.inflight > 0),
      'the batch to be in flight',
    );
    // On AWS the batch comes back after the visibility timeout (360 s), by when the idempotency lock
    // the killed invocation may have taken (held for the function's 60 s timeout) has expired. The
    // lock's real time is waited out; the queue's visibility timeout is then skipped.
    const lockedUntil = await inProgressUntil();
    await eventually(() => Date.now() > lockedUntil, 'the idempotency lock to expire', 90_000);
    runtime.skipQueueTime(400);
    await eventually(
      () => netsuite().writeCount('invoice', event.data.object.id) === 1,
      'the redelivered invoice in the ERP',
    );
    await runtime.idle();
    expect(netsuite().writeCount('invoice', event.data.object.id)).toBe(1);
  }, 120_000);

  it('takes fault settings over HTTP and refuses an invalid one naming the field', async () => {
    const put = (body: unknown) =>
      fetch(`${runtime.awsUrl}/_local/faults`, { method: 'PUT', body: JSON.stringify(body) });
    const accepted = await put({ seed: 2, sqs: { errorRate: 0.1 } });
    expect(accepted.status).toBe(200);
    expect(runtime.awsFaults.current).toEqual({ seed: 2, sqs: { errorRate: 0.1 } });
    const refused = await put({ sqs: { errorRate: 2 } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toMatch(/sqs\.errorRate/);
  });
});
