import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { quoteToCash } from '../../local/demo';
import type { LocalRuntime } from '../../local/runtime/runtime';
import { renderStatus } from '../../local/runtime/status-table';
import {
  eventually,
  invoiceFinalized,
  invoicePaid,
  postStripeWebhook,
  revbridgeCli,
  startRuntime,
} from '../support/local-runtime';

/**
 * The operator CLI (`npx revbridge`) against the local runtime, found as a deployed stage is: through
 * DescribeStacks on the runtime's AWS endpoint. A payment whose customer link was removed behind
 * revbridge's back opens an exception; the link is put back, the exception replayed (once and twice),
 * a poisoned message redriven, the invoice's trail shown and the archive replayed.
 */

let runtime: LocalRuntime;
let documents: DynamoDBDocumentClient;
const startedAt = new Date();
const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

const revbridge = (...args: string[]) => revbridgeCli(runtime)(...args);
const json = async <T>(...args: string[]): Promise<T> => {
  const result = await revbridge(...args, '--json');
  if (result.code !== 0) throw new Error(`revbridge ${args.join(' ')} failed: ${result.err}`);
  return JSON.parse(result.out) as T;
};

const netsuite = () => {
  if (!runtime.netsuite) throw new Error('the NetSuite twin is not running');
  return runtime.netsuite;
};
const table = (part: string) => {
  const name = runtime.tables.find((candidate) => candidate.includes(part));
  if (!name) throw new Error(`no ${part} table`);
  return name;
};

type ExceptionRow = {
  exceptionId: string;
  status: string;
  flow: string;
  code: string;
  correlationId: string;
};

const finalized = invoiceFinalized();
const invoiceId = finalized.data.object.id;
const customerLink = { pk: `customer#stripe#${finalized.data.object.customer}`, target: 'netsuite' };
let removedLink: Record<string, unknown> | undefined;

beforeAll(async () => {
  runtime = await startRuntime();
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({ ...local, endpoint: runtime.dynamoUrl }));
  expect((await postStripeWebhook(runtime, finalized)).status).toBe(200);
  await runtime.idle();
  // Master data broken behind revbridge's back: the customer's ERP link is gone.
  removedLink = (await documents.send(new GetCommand({ TableName: table('Links'), Key: customerLink }))).Item;
  await documents.send(new DeleteCommand({ TableName: table('Links'), Key: customerLink }));
  expect((await postStripeWebhook(runtime, invoicePaid(finalized))).status).toBe(200);
  await runtime.idle();
}, 60_000);

afterAll(async () => {
  documents?.destroy();
  await runtime?.stop();
});

const openException = async () => {
  const rows = await json<ExceptionRow[]>('exceptions', 'list', '--status', 'OPEN');
  const row = rows.find((item) => item.correlationId === invoiceId && item.code === 'CustomerNotLinked');
  if (!row) throw new Error(`no CustomerNotLinked exception for ${invoiceId} in ${JSON.stringify(rows)}`);
  return row;
};

describe('npx revbridge against the local runtime', () => {
  it('finds the stack outputs through CloudFormation DescribeStacks on the local endpoint', async () => {
    const cloudformation = new CloudFormationClient({ ...local, endpoint: runtime.awsUrl });
    const { Stacks = [] } = await cloudformation.send(
      new DescribeStacksCommand({ StackName: 'revbridge-dev' }),
    );
    cloudformation.destroy();
    const outputs = Object.fromEntries((Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    expect(outputs.OpsExceptionsTable).toBe(table('Exceptions'));
    expect(JSON.parse(String(outputs.OpsConsumerPostInvoiceConsumer))).toMatchObject({
      dlqUrl: expect.stringContaining(runtime.awsUrl),
      dlqArn: expect.stringMatching(/^arn:aws:sqs:us-east-1:000000000000:/),
    });
    await expect(
      cloudformation.send(new DescribeStacksCommand({ StackName: 'revbridge-prod' })),
    ).rejects.toThrow('does not exist');
  });

  it('lists the exception the payment opened, with its flow, code and reason', async () => {
    const row = await openException();
    expect(row).toMatchObject({ flow: 'apply-payment', status: 'OPEN' });
    const text = await revbridge('exceptions', 'list');
    expect(text.code).toBe(0);
    expect(text.out).toContain('CustomerNotLinked');
    expect(text.out).toContain(`customer ${finalized.data.object.customer} has no ERP link`);
  });

  it("shows one exception with its event's envelope, and its data only when asked", async () => {
    const { exceptionId } = await openException();
    const shown = await revbridge('exceptions', 'show', exceptionId);
    expect(shown.out).toContain('billing.invoice.paid');
    expect(shown.out).toContain('data hidden');
    expect(shown.out).not.toContain('amount');
    const detail = await json<{ event: { id: string }; data: { invoiceId: string } }>(
      'exceptions',
      'show',
      exceptionId,
      '--data',
    );
    expect(detail.data.invoiceId).toBe(invoiceId);
    expect((await revbridge('exceptions', 'show', 'exc_nope')).code).toBe(1);
  });

  it('replays the exception once the data is fixed: the payment is applied once, and a second replay writes nothing', async () => {
    const { exceptionId } = await openException();
    await documents.send(new PutCommand({ TableName: table('Links'), Item: removedLink }));
    const first = await json<{ replayId: string; attempt: number }[]>('exceptions', 'replay', exceptionId);
    expect(first[0]).toMatchObject({ attempt: 1, replayId: expect.stringMatching(/-replay-1$/) });
    await eventually(
      () => netsuite().getByExternalId('customerPayment', `pi_${invoiceId}`),
      'the replayed payment in NetSuite',
    );
    await runtime.idle();
    const second = await json<{ attempt: number }[]>('exceptions', 'replay', exceptionId);
    expect(second[0]?.attempt).toBe(2);
    await runtime.idle();
    expect(netsuite().writeCount('customerPayment', `pi_${invoiceId}`)).toBe(1);
    const rows = await json<ExceptionRow[]>('exceptions', 'list');
    expect(rows.filter((row) => row.correlationId === invoiceId)).toEqual([
      expect.objectContaining({ exceptionId, status: 'REPLAYED' }),
    ]);
  });

  it('resolves an exception, and then refuses to replay it', async () => {
    const rows = await json<ExceptionRow[]>('exceptions', 'list');
    const { exceptionId } = rows.find((row) => row.correlationId === invoiceId) as ExceptionRow;
    const resolved = await revbridge('exceptions', 'resolve', exceptionId, '--note', 'link restored');
    expect(resolved.code).toBe(0);
    const detail = await json<{ status: string; resolution: string }>('exceptions', 'show', exceptionId);
    expect(detail).toMatchObject({ status: 'RESOLVED', resolution: 'link restored' });
    const replay = await revbridge('exceptions', 'replay', exceptionId);
    expect(replay.code).toBe(1);
    expect(replay.err).toContain('resolved');
  });

  it('lists the DLQs and redrives one with an SQS message move task', async () => {
    const queue = runtime.status().queues.find((q) => q.name.includes('PostInvoiceConsumerQueue'));
    const sqs = new SQSClient({ ...local, endpoint: runtime.awsUrl });
    await sqs.send(new SendMessageCommand({ QueueUrl: queue?.url, MessageBody: '{"not":"an event"}' }));
    sqs.destroy();
    const dlqMessages = () =>
      runtime.status().queues.find((q) => q.name.includes('PostInvoiceConsumerDlq'))?.visible ?? 0;
    await eventually(() => dlqMessages() > 0, 'the poison message in the DLQ');
    const listed = await json<{ name: string; messages: number }[]>('dlq', 'list');
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'PostInvoiceConsumer', messages: 1 }),
        expect.objectContaining({ name: 'bus-targets', messages: 0 }),
      ]),
    );
    const redriven = await json<{ name: string; moved: number; how: string; status: string }[]>(
      'dlq',
      'redrive',
      'PostInvoiceConsumer',
    );
    expect(redriven).toEqual([
      { name: 'PostInvoiceConsumer', moved: 1, how: 'message-move-task', status: 'COMPLETED' },
    ]);
    expect((await revbridge('dlq', 'redrive', 'NoSuchConsumer')).code).toBe(2);
  });

  it("shows the invoice's trail: its ids in each system, the events handled, the exception and the replays", async () => {
    const trail = await json<{
      ids: { entity: string; system: string; id: string }[];
      steps: { kind: string; system: string; id: string; detail: string; at: string }[];
    }>('trail', invoiceId);
    const erpInvoice = netsuite().getByExternalId('invoice', invoiceId);
    expect(trail.ids).toEqual(
      expect.arrayContaining([
        { entity: 'invoice', system: 'stripe', id: invoiceId },
        { entity: 'invoice', system: 'netsuite', id: String(erpInvoice?.id) },
        { entity: 'customer', system: 'stripe', id: finalized.data.object.customer },
      ]),
    );
    const kinds = trail.steps.map((step) => `${step.kind} ${step.system}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'event post-invoice',
        'event apply-payment',
        'exception apply-payment',
        'link netsuite',
      ]),
    );
    const events = trail.steps.filter((step) => step.kind === 'event');
    expect(events.map((step) => step.detail)).toEqual(
      expect.arrayContaining([expect.stringContaining('billing.invoice.finalized')]),
    );
    expect(events.some((step) => step.id.endsWith('-replay-1'))).toBe(true);
    const times = trail.steps.map((step) => step.at);
    expect(times).toEqual([...times].sort());
    const text = await revbridge('trail', invoiceId);
    expect(text.out).toContain(`Trail of ${invoiceId}`);
  });

  it("shows a deal's trail: its saga, the ids it made in each system, and the invoice that came back", async () => {
    const checks: { what: string; ok: boolean }[] = [];
    await quoteToCash(runtime, (what, ok) => checks.push({ what, ok }));
    expect(checks.filter((check) => !check.ok)).toEqual([]);
    const execution = runtime.stepFunctions.snapshot().executions.find((e) => e.status === 'SUCCEEDED');
    const dealId = String(execution?.name.split('-')[1]);
    const trail = await json<{
      ids: { entity: string; system: string; id: string }[];
      steps: { kind: string; system: string; id: string; detail: string }[];
    }>('trail', dealId);
    expect(trail.ids.map((entry) => entry.entity)).toEqual(
      expect.arrayContaining(['erpCustomer', 'billingCustomer', 'subscription', 'salesOrder']),
    );
    const kinds = trail.steps.map((step) => `${step.kind} ${step.system}`);
    expect(kinds).toEqual(expect.arrayContaining(['event start-deal-saga', 'event post-invoice']));
    expect(trail.steps).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'execution', id: execution?.name })]),
    );
    expect(trail.steps.find((step) => step.kind === 'execution')?.detail).toMatch(/^SUCCEEDED/);
  }, 90_000);

  it('shows the exceptions with flow, code and reason, and the trail of an id, in the local status', async () => {
    const response = await fetch(`${runtime.apiUrl}/_local/status?trail=${invoiceId}`);
    const status = (await response.json()) as {
      exceptions: { flow: string; code: string; message: string; correlationId: string }[];
      trail: { id: string; steps: { kind: string }[] };
    };
    expect(status.exceptions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          flow: 'apply-payment',
          code: 'CustomerNotLinked',
          message: expect.stringContaining('has no ERP link'),
          correlationId: invoiceId,
        }),
      ]),
    );
    expect(status.trail.id).toBe(invoiceId);
    expect(status.trail.steps.map((step) => step.kind)).toEqual(
      expect.arrayContaining(['event', 'link', 'exception']),
    );
    const text = renderStatus(status as never);
    expect(text).toMatch(/Exceptions .*:\n.*flow.*code.*reason/);
    expect(text).toContain(`Trail of ${invoiceId}`);
  });

  it('replays a window of the bus archive, and the idempotent consumers write nothing twice', async () => {
    const replayedBefore = runtime.status().events.events.replayed;
    const result = await json<{ state: string; replayName: string }>(
      'replay',
      '--from',
      new Date(startedAt.getTime() - 60_000).toISOString(),
      '--to',
      new Date().toISOString(),
    );
    expect(result).toMatchObject({ state: 'COMPLETED', replayName: expect.stringMatching(/^revbridge-/) });
    await runtime.idle();
    expect(runtime.status().events.events.replayed).toBeGreaterThan(replayedBefore);
    expect(netsuite().writeCount('invoice', invoiceId)).toBe(1);
    expect(netsuite().writeCount('customerPayment', `pi_${invoiceId}`)).toBe(1);
  });

  it("invokes a template's function through Lambda Invoke on the local endpoint (reconcile's way when the flow is a function)", async () => {
    const lambda = new LambdaClient({ ...local, endpoint: runtime.awsUrl });
    const name = runtime
      .status()
      .functions.map((fn) => String(fn.name))
      .find((fn) => fn.includes('PostInvoice'));
    const answer = await lambda.send(
      new InvokeCommand({ FunctionName: name, Payload: new TextEncoder().encode('{"Records":[]}') }),
    );
    expect(answer.FunctionError).toBeUndefined();
    expect(JSON.parse(new TextDecoder().decode(answer.Payload))).toEqual({ batchItemFailures: [] });
    await expect(lambda.send(new InvokeCommand({ FunctionName: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    lambda.destroy();
  });

  it('says what is wrong with bad usage', async () => {
    expect((await revbridge('nonsense')).code).toBe(2);
    expect((await revbridge('replay', '--from', 'yesterday', '--to', '1h')).code).toBe(2);
  });

  it("runs the stack's reconciliation function for a window and prints its summary", async () => {
    const reconcile = await revbridge('reconcile', '--from', '1h');
    expect(reconcile.code).toBe(0);
    expect(reconcile.out).toContain('SUCCEEDED');
    expect(reconcile.out).toContain('"status": "complete"');
  });
});
