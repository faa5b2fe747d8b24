import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
  TagQueueCommand,
  UntagQueueCommand,
} from '@aws-sdk/client-sqs';
import { jsonProtocolListener } from '../../local/aws/json-protocol';
import { SqsEngine } from '../../local/sqs/engine';
import { SqsService } from '../../local/sqs/service';

// One HTTP server for the file; each test gets a fresh engine on an injected clock.
const server = createServer();
let listener: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
server.on('request', (req, res) => void listener(req, res));

let endpoint: string;
let engine: SqsEngine;
let client: SQSClient;
let clockMs: number;

/** Moves the injected clock and lets the engine act on it, as the local runtime's clock does. */
const advance = (seconds: number) => {
  clockMs += seconds * 1000;
  engine.tick();
};

/** Resolves once a long poll is parked on the queue, so a test knows the receive is really waiting. */
const waitingOn = async (queueName: string) => {
  const parked = () =>
    engine.snapshot().queues.find((queue) => queue.name === queueName)?.waitingReceives ?? 0;
  while (parked() === 0) await new Promise((resolve) => setImmediate(resolve));
};

const newEngine = (now?: () => number) => {
  engine?.close();
  engine = new SqsEngine({ baseUrl: endpoint, ...(now ? { now } : {}) });
  listener = jsonProtocolListener([new SqsService(engine)]);
};

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = new SQSClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

beforeEach(() => {
  clockMs = Date.UTC(2025, 0, 1);
  newEngine(() => clockMs);
});

afterEach(() => engine.close());

afterAll(async () => {
  client.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const createQueue = async (name: string, attributes: Record<string, string> = {}) => {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!QueueUrl) throw new Error('CreateQueue returned no QueueUrl');
  return QueueUrl;
};

const receive = async (
  queueUrl: string,
  input: { max?: number; visibility?: number; wait?: number; attemptId?: string } = {},
): Promise<Message[]> => {
  const { Messages } = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: input.max ?? 10,
      WaitTimeSeconds: input.wait ?? 0,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
      ...(input.visibility !== undefined ? { VisibilityTimeout: input.visibility } : {}),
      ...(input.attemptId !== undefined ? { ReceiveRequestAttemptId: input.attemptId } : {}),
    }),
  );
  return Messages ?? [];
};

const receiveOne = async (queueUrl: string, input: { visibility?: number } = {}): Promise<Message> => {
  const [message, ...rest] = await receive(queueUrl, { max: 1, ...input });
  if (!message || rest.length > 0) throw new Error('expected exactly one message');
  return message;
};

const counts = async (queueUrl: string) => {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inflight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed),
  };
};

const send = (
  queueUrl: string,
  body: string,
  extra: Partial<ConstructorParameters<typeof SendMessageCommand>[0]> = {},
) => client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, ...extra }));

describe('queues', () => {
  it('creates a queue idempotently and refuses the same name with different attributes', async () => {
    const url = await createQueue('orders', { VisibilityTimeout: '45' });
    expect(url).toBe(`${endpoint}/000000000000/orders`);
    await expect(createQueue('orders', { VisibilityTimeout: '45' })).resolves.toBe(url);
    await expect(createQueue('orders', { VisibilityTimeout: '46' })).rejects.toMatchObject({
      name: 'QueueNameExists',
      Code: 'QueueAlreadyExists',
    });
  });

  it('reports defaults, the ARN and a KMS key, and rejects unknown attribute names', async () => {
    const url = await createQueue('invoices', { KmsMasterKeyId: 'alias/aws/sqs' });
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
    );
    expect(Attributes).toMatchObject({
      QueueArn: 'arn:aws:sqs:us-east-1:000000000000:invoices',
      VisibilityTimeout: '30',
      DelaySeconds: '0',
      MessageRetentionPeriod: '345600',
      ReceiveMessageWaitTimeSeconds: '0',
      MaximumMessageSize: '1048576',
      KmsMasterKeyId: 'alias/aws/sqs',
      SqsManagedSseEnabled: 'false',
      CreatedTimestamp: String(Date.UTC(2025, 0, 1) / 1000),
    });
    expect(Attributes).not.toHaveProperty('FifoQueue');
    await expect(
      client.send(
        new SetQueueAttributesCommand({
          QueueUrl: url,
          Attributes: { Bogus: '1' } as Record<string, string>,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidAttributeName' });
    await expect(
      client.send(
        new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: '43201' } }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidAttributeValue' });
  });

  it('finds queues by name and prefix, and tags them', async () => {
    const url = await createQueue('billing-events');
    await createQueue('billing-dlq');
    await createQueue('crm-events');
    await expect(client.send(new GetQueueUrlCommand({ QueueName: 'billing-events' }))).resolves.toMatchObject(
      {
        QueueUrl: url,
      },
    );
    const { QueueUrls } = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'billing' }));
    expect(QueueUrls).toEqual([`${endpoint}/000000000000/billing-dlq`, url]);
    const page = await client.send(new ListQueuesCommand({ MaxResults: 2 }));
    expect(page.QueueUrls).toHaveLength(2);
    const rest = await client.send(new ListQueuesCommand({ MaxResults: 2, NextToken: page.NextToken }));
    expect(rest.QueueUrls).toEqual([`${endpoint}/000000000000/crm-events`]);

    await client.send(new TagQueueCommand({ QueueUrl: url, Tags: { team: 'billing', env: 'local' } }));
    await client.send(new UntagQueueCommand({ QueueUrl: url, TagKeys: ['env'] }));
    await expect(client.send(new ListQueueTagsCommand({ QueueUrl: url }))).resolves.toMatchObject({
      Tags: { team: 'billing' },
    });
  });

  it('answers QueueDoesNotExist with the legacy query code for a missing or deleted queue', async () => {
    const url = await createQueue('short-lived');
    await client.send(new DeleteQueueCommand({ QueueUrl: url }));
    for (const call of [
      send(url, 'x'),
      client.send(new GetQueueUrlCommand({ QueueName: 'never-created' })),
      receive(`${endpoint}/000000000000/never-created`),
    ]) {
      await expect(call).rejects.toMatchObject({
        name: 'QueueDoesNotExist',
        Code: 'AWS.SimpleQueueService.NonExistentQueue',
        $metadata: { httpStatusCode: 400 },
      });
    }
  });

  it('rejects a redrive policy whose dead-letter queue is missing, of another type or not allowing the source', async () => {
    const fifoDlq = await createQueue('dlq.fifo', { FifoQueue: 'true' });
    const closedDlq = await createQueue('closed-dlq', {
      RedriveAllowPolicy: JSON.stringify({ redrivePermission: 'denyAll' }),
    });
    const policy = (name: string) =>
      JSON.stringify({
        deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${name}`,
        maxReceiveCount: 3,
      });
    for (const target of ['missing', 'dlq.fifo', 'closed-dlq']) {
      await expect(
        createQueue(`source-${target.replace('.', '-')}`, { RedrivePolicy: policy(target) }),
      ).rejects.toMatchObject({
        name: 'InvalidAttributeValue',
      });
    }
    expect(fifoDlq).toContain('dlq.fifo');
    expect(closedDlq).toContain('closed-dlq');
  });
});

describe('parameter ranges', () => {
  it('rejects an out-of-range integer parameter with InvalidParameterValue naming it', async () => {
    engine.createQueue('ranges');
    const reasonOf = async (call: () => unknown) => {
      try {
        await call();
      } catch (error) {
        return `${(error as { code: string }).code}: ${(error as Error).message}`;
      }
      return 'accepted';
    };
    expect(await reasonOf(() => engine.receiveMessage('ranges', { maxNumberOfMessages: 11 }))).toBe(
      'InvalidParameterValue: Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.',
    );
    expect(await reasonOf(() => engine.receiveMessage('ranges', { waitTimeSeconds: 1.5 }))).toMatch(
      /parameter WaitTimeSeconds is invalid/,
    );
    expect(await reasonOf(() => engine.receiveMessage('ranges', { visibilityTimeout: -1 }))).toMatch(
      /parameter VisibilityTimeout is invalid/,
    );
    expect(await reasonOf(() => engine.sendMessage('ranges', { body: 'x', delaySeconds: 901 }))).toMatch(
      /parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900/,
    );
    expect(await reasonOf(() => engine.listQueues({ maxResults: 0 }))).toMatch(
      /parameter MaxResults is invalid/,
    );
    expect(await reasonOf(() => engine.receiveMessage('ranges', { maxNumberOfMessages: 10 }))).toBe(
      'accepted',
    );
  });
});

describe('visibility and receive counts', () => {
  it('hides a received message for the visibility timeout and shows it again afterwards', async () => {
    const url = await createQueue('work');
    const { MessageId } = await send(url, 'hello');
    const first = await receiveOne(url);
    expect(first).toMatchObject({ MessageId, Body: 'hello', Attributes: { ApproximateReceiveCount: '1' } });
    expect(await receive(url)).toEqual([]);
    expect(await counts(url)).toEqual({ visible: 0, inflight: 1, delayed: 0 });

    advance(29);
    expect(await receive(url)).toEqual([]);
    advance(1);
    const second = await receiveOne(url);
    expect(second).toMatchObject({ MessageId, Attributes: { ApproximateReceiveCount: '2' } });
    expect(second.ReceiptHandle).not.toBe(first.ReceiptHandle);
    expect(second.Attributes?.ApproximateFirstReceiveTimestamp).toBe(
      first.Attributes?.ApproximateFirstReceiveTimestamp,
    );
  });

  it('uses the VisibilityTimeout given on receive instead of the queue default', async () => {
    const url = await createQueue('work');
    await send(url, 'hello');
    await receiveOne(url, { visibility: 5 });
    advance(5);
    await expect(receiveOne(url)).resolves.toMatchObject({ Body: 'hello' });
  });

  it('counts each receive and leaves the count alone on ChangeMessageVisibility', async () => {
    const url = await createQueue('work');
    await send(url, 'hello');
    const first = await receiveOne(url);
    for (const timeout of [60, 120, 10]) {
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: first.ReceiptHandle,
          VisibilityTimeout: timeout,
        }),
      );
    }
    advance(9);
    expect(await receive(url)).toEqual([]);
    advance(1);
    const second = await receiveOne(url);
    expect(second.Attributes?.ApproximateReceiveCount).toBe('2');

    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: second.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const third = await receiveOne(url);
    expect(third.Attributes?.ApproximateReceiveCount).toBe('3');
  });

  it('refuses ChangeMessageVisibility on a message that is not in flight', async () => {
    const url = await createQueue('work');
    await send(url, 'hello');
    const message = await receiveOne(url, { visibility: 10 });
    advance(10);
    await expect(
      client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 30,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'MessageNotInflight',
      Code: 'AWS.SimpleQueueService.MessageNotInflight',
    });
  });

  it('refuses to extend visibility past 12 hours from the receive', async () => {
    const url = await createQueue('work');
    await send(url, 'hello');
    const message = await receiveOne(url);
    advance(20);
    await expect(
      client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 43_200,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });
});

describe('dead-letter queues', () => {
  it('allows maxReceiveCount receives and moves the message to the DLQ on the next, recording why', async () => {
    const dlqUrl = await createQueue('payments-dlq', { MessageRetentionPeriod: '1209600' });
    const dlqArn = 'arn:aws:sqs:us-east-1:000000000000:payments-dlq';
    const url = await createQueue('payments', {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }),
    });
    const { MessageId } = await send(url, 'poison', {
      MessageAttributes: { tenant: { DataType: 'String', StringValue: 'acme' } },
    });

    for (const expected of ['1', '2', '3']) {
      const message = await receiveOne(url, { visibility: 0 });
      expect(message.Attributes?.ApproximateReceiveCount).toBe(expected);
    }
    expect(await receive(url)).toEqual([]);
    expect(await counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });

    const [dead] = await receive(dlqUrl, { visibility: 0 });
    expect(dead).toMatchObject({
      MessageId,
      Body: 'poison',
      MessageAttributes: { tenant: { DataType: 'String', StringValue: 'acme' } },
      Attributes: { DeadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:000000000000:payments' },
    });
    expect(engine.deadLetterInfo('payments-dlq')[MessageId ?? '']).toMatchObject({
      sourceQueueName: 'payments',
      receiveCount: 3,
      maxReceiveCount: 3,
      movedAt: clockMs,
    });
    const dlq = engine.snapshot().queues.find((queue) => queue.name === 'payments-dlq');
    expect(dlq).toMatchObject({ isDeadLetterQueue: true, visible: 1 });
    // What the runtime polls to know it has settled: a message left only in a DLQ is not work.
    expect(engine.hasMessagesOutsideDeadLetterQueues()).toBe(false);
    await send(url, 'delayed', { DelaySeconds: 5 });
    expect(engine.hasMessagesOutsideDeadLetterQueues()).toBe(true);
    expect(dlq?.deadLetters?.[0]).toMatchObject({
      messageId: MessageId,
      bodyPreview: 'poison',
      sourceQueue: 'payments',
    });
    expect(dlq?.deadLetters?.[0]?.reason).toMatch(/maxReceiveCount 3/);
    expect(engine.snapshot().queues.find((queue) => queue.name === 'payments')?.redriveTarget).toEqual({
      arn: dlqArn,
      name: 'payments-dlq',
      maxReceiveCount: 3,
    });
    await expect(
      client.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl })),
    ).resolves.toMatchObject({
      queueUrls: [url],
    });
  });

  it('gives alarm metrics for the DLQ: visible messages and the age of the oldest', async () => {
    await createQueue('alarms-dlq');
    const url = await createQueue('alarms', {
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:alarms-dlq',
        maxReceiveCount: 1,
      }),
    });
    await send(url, 'fails once');
    await receiveOne(url, { visibility: 0 });
    expect(await receive(url)).toEqual([]);
    advance(90);
    expect(engine.metrics('alarms-dlq')).toMatchObject({
      ApproximateNumberOfMessagesVisible: 1,
      ApproximateAgeOfOldestMessage: 90,
    });
    expect(engine.metrics('alarms')).toMatchObject({
      ApproximateNumberOfMessagesVisible: 0,
      NumberOfMessagesReceived: 1,
    });
  });
});

describe('long polling', () => {
  it('returns a long poll as soon as a message is sent', async () => {
    const url = await createQueue('events');
    const started = performance.now();
    const polled = receive(url, { wait: 10 });
    await waitingOn('events');
    await send(url, 'arrived');
    const messages = await polled;
    expect(messages.map((message) => message.Body)).toEqual(['arrived']);
    // Generous margin: only a poll that waited out most of its 10 s fails this.
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('returns an empty long poll when the wait time ends without a message', async () => {
    const url = await createQueue('quiet');
    const started = performance.now();
    expect(await receive(url, { wait: 1 })).toEqual([]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('uses the queue ReceiveMessageWaitTimeSeconds when the receive gives no wait time', async () => {
    const url = await createQueue('quiet', { ReceiveMessageWaitTimeSeconds: '10' });
    const polled = client.send(new ReceiveMessageCommand({ QueueUrl: url }));
    await waitingOn('quiet');
    await send(url, 'late');
    expect((await polled).Messages?.map((message) => message.Body)).toEqual(['late']);
  });

  it('returns a long poll when a delay or a visibility timeout ends on the clock', async () => {
    const url = await createQueue('timed');
    await send(url, 'delayed', { DelaySeconds: 5 });
    const polled = receive(url, { wait: 20 });
    await waitingOn('timed');
    advance(5);
    const [message] = await polled;
    expect(message?.Body).toBe('delayed');

    const again = receive(url, { wait: 20 });
    await waitingOn('timed');
    advance(30);
    await expect(again).resolves.toMatchObject([
      { Body: 'delayed', Attributes: { ApproximateReceiveCount: '2' } },
    ]);
  });

  it('wakes a long poll with a real timer when a visibility timeout runs out', async () => {
    newEngine();
    const url = await createQueue('realtime');
    await send(url, 'retry me');
    await receiveOne(url, { visibility: 1 });
    const started = performance.now();
    const [message] = await receive(url, { wait: 10 });
    expect(message?.Body).toBe('retry me');
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('ends pending long polls with no messages on close', async () => {
    const url = await createQueue('closing');
    const polled = receive(url, { wait: 20 });
    await waitingOn('closing');
    engine.close();
    await expect(polled).resolves.toEqual([]);
  });
});

describe('delays', () => {
  it('delays every message by the queue DelaySeconds', async () => {
    const url = await createQueue('slow', { DelaySeconds: '10' });
    await send(url, 'later');
    expect(await counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 1 });
    expect(await receive(url)).toEqual([]);
    advance(10);
    await expect(receiveOne(url)).resolves.toMatchObject({ Body: 'later' });
  });

  it('lets a message DelaySeconds override the queue delay, and refuses it on FIFO queues', async () => {
    const url = await createQueue('slow', { DelaySeconds: '10' });
    await send(url, 'now', { DelaySeconds: 0 });
    await send(url, 'in five', { DelaySeconds: 5 });
    expect((await receive(url)).map((message) => message.Body)).toEqual(['now']);
    advance(5);
    expect((await receive(url)).map((message) => message.Body)).toEqual(['in five']);

    const fifo = await createQueue('slow.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    await expect(send(fifo, 'x', { MessageGroupId: 'g', DelaySeconds: 5 })).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
  });
});

describe('FIFO queues', () => {
  const createFifo = (name: string, attributes: Record<string, string> = {}) =>
    createQueue(name, { FifoQueue: 'true', ...attributes });

  it('delivers a group in order and locks it while one of its messages is in flight, serving other groups', async () => {
    const url = await createFifo('ledger.fifo');
    for (const [group, body] of [
      ['a', 'a1'],
      ['a', 'a2'],
      ['b', 'b1'],
      ['a', 'a3'],
    ] as const) {
      await send(url, body, { MessageGroupId: group, MessageDeduplicationId: body });
    }
    const a1 = await receiveOne(url);
    expect(a1.Body).toBe('a1');
    // Group a is locked by a1, so the next receive skips a2 and serves group b.
    const b1 = await receiveOne(url);
    expect(b1).toMatchObject({ Body: 'b1', Attributes: { MessageGroupId: 'b' } });
    expect(await receive(url)).toEqual([]);

    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: a1.ReceiptHandle }));
    expect((await receive(url)).map((message) => message.Body)).toEqual(['a2', 'a3']);
  });

  it('keeps a group locked while any of its messages is in flight, even when an earlier one is visible again', async () => {
    const url = await createFifo('locks.fifo', { ContentBasedDeduplication: 'true' });
    await send(url, 'x1', { MessageGroupId: 'x' });
    await send(url, 'x2', { MessageGroupId: 'x' });
    await send(url, 'y1', { MessageGroupId: 'y' });
    const [x1, x2] = await receive(url, { max: 2 });
    expect([x1?.Body, x2?.Body]).toEqual(['x1', 'x2']);
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: x1?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    // x2 is still in flight, so group x stays locked and only group y is served.
    expect((await receive(url)).map((message) => message.Body)).toEqual(['y1']);
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: x2?.ReceiptHandle }));
    expect((await receive(url)).map((message) => message.Body)).toEqual(['x1']);
  });

  it('does not deliver a later message of a group while an earlier one is still delayed', async () => {
    const url = await createFifo('delayed.fifo', { ContentBasedDeduplication: 'true', DelaySeconds: '10' });
    await send(url, 'first', { MessageGroupId: 'g' });
    await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { DelaySeconds: '0' } }));
    await send(url, 'second', { MessageGroupId: 'g' });
    expect(await receive(url)).toEqual([]);
    advance(10);
    expect((await receive(url)).map((message) => message.Body)).toEqual(['first', 'second']);
  });

  it('returns the head of a group again after its visibility timeout, before the messages behind it', async () => {
    const url = await createFifo('strict.fifo', { ContentBasedDeduplication: 'true' });
    await send(url, 'first', { MessageGroupId: 'g' });
    await send(url, 'second', { MessageGroupId: 'g' });
    await receiveOne(url, { visibility: 10 });
    expect(await receive(url)).toEqual([]);
    advance(10);
    const [again] = await receive(url, { max: 1 });
    expect(again).toMatchObject({ Body: 'first', Attributes: { ApproximateReceiveCount: '2' } });
  });

  it('accepts a duplicate within five minutes without delivering it twice', async () => {
    const url = await createFifo('dedup.fifo');
    const first = await send(url, 'charge', { MessageGroupId: 'g', MessageDeduplicationId: 'charge-1' });
    const duplicate = await send(url, 'charge', { MessageGroupId: 'g', MessageDeduplicationId: 'charge-1' });
    expect(duplicate.MessageId).toBe(first.MessageId);
    expect(first.SequenceNumber).toMatch(/^\d{20,}$/);
    expect(await counts(url)).toMatchObject({ visible: 1 });

    advance(300);
    const later = await send(url, 'charge', { MessageGroupId: 'g', MessageDeduplicationId: 'charge-1' });
    expect(later.MessageId).not.toBe(first.MessageId);
    expect(BigInt(later.SequenceNumber ?? '0')).toBeGreaterThan(BigInt(first.SequenceNumber ?? '0'));
    expect(await counts(url)).toMatchObject({ visible: 2 });
  });

  it('deduplicates on the body with ContentBasedDeduplication, even after the first copy is deleted', async () => {
    const url = await createFifo('content.fifo', { ContentBasedDeduplication: 'true' });
    await send(url, '{"invoice":1}', { MessageGroupId: 'g' });
    const message = await receiveOne(url);
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    await send(url, '{"invoice":1}', { MessageGroupId: 'other' });
    expect(await receive(url)).toEqual([]);
    await send(url, '{"invoice":2}', { MessageGroupId: 'g' });
    expect((await receive(url)).map((m) => m.Body)).toEqual(['{"invoice":2}']);
  });

  it('requires a MessageGroupId, and a MessageDeduplicationId unless deduplication is content based', async () => {
    const url = await createFifo('strict.fifo');
    await expect(send(url, 'x', { MessageDeduplicationId: 'd' })).rejects.toMatchObject({
      name: 'MissingParameter',
    });
    await expect(send(url, 'x', { MessageGroupId: 'g' })).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
    const standard = await createQueue('standard');
    await expect(send(standard, 'x', { MessageDeduplicationId: 'd' })).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
  });

  it('replays the same messages and receipt handles for a retried ReceiveRequestAttemptId', async () => {
    const url = await createFifo('attempts.fifo', { ContentBasedDeduplication: 'true' });
    await send(url, 'one', { MessageGroupId: 'g' });
    const first = await receive(url, { attemptId: 'attempt-1' });
    const retry = await receive(url, { attemptId: 'attempt-1' });
    expect(retry.map((m) => m.ReceiptHandle)).toEqual(first.map((m) => m.ReceiptHandle));
    expect(retry[0]?.Attributes?.ApproximateReceiveCount).toBe('1');
  });
});

describe('deleting and stale receipt handles', () => {
  it('deletes with the latest receipt handle and treats a repeated delete as success', async () => {
    const url = await createQueue('work');
    await send(url, 'done');
    const message = await receiveOne(url);
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    advance(30);
    expect(await receive(url)).toEqual([]);
  });

  it('rejects a receipt handle it never issued or issued for another queue', async () => {
    const url = await createQueue('work');
    const other = await createQueue('other');
    await send(other, 'elsewhere');
    const foreign = await receiveOne(other);
    for (const handle of ['not-a-handle', foreign.ReceiptHandle]) {
      await expect(
        client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: handle })),
      ).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid', $metadata: { httpStatusCode: 404 } });
    }
  });

  it('still deletes from a standard queue with a receipt handle from an earlier receive', async () => {
    const url = await createQueue('work');
    await send(url, 'slow consumer');
    const stale = await receiveOne(url, { visibility: 5 });
    advance(5);
    await receiveOne(url);
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: stale.ReceiptHandle }));
    expect(await counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
  });

  it('refuses an expired receipt handle on a FIFO queue', async () => {
    const url = await createQueue('work.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    await send(url, 'slow consumer', { MessageGroupId: 'g' });
    const stale = await receiveOne(url, { visibility: 5 });
    advance(5);
    await expect(
      client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: stale.ReceiptHandle })),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringMatching(/expired/) });
    expect(await counts(url)).toMatchObject({ visible: 1 });
  });
});

describe('batches', () => {
  it('reports per-entry results for SendMessageBatch and checks MD5s like the SDK does', async () => {
    const url = await createQueue('batch');
    const result = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'ok-1', MessageBody: 'one' },
          { Id: 'too-late', MessageBody: 'two', DelaySeconds: 901 },
          {
            Id: 'ok-2',
            MessageBody: 'three',
            MessageAttributes: { kind: { DataType: 'String', StringValue: 'invoice' } },
          },
        ],
      }),
    );
    expect(result.Successful?.map((entry) => entry.Id)).toEqual(['ok-1', 'ok-2']);
    expect(result.Successful?.[1]?.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(result.Failed).toEqual([
      expect.objectContaining({ Id: 'too-late', Code: 'InvalidParameterValue', SenderFault: true }),
    ]);
  });

  it('reports per-entry results for DeleteMessageBatch and ChangeMessageVisibilityBatch', async () => {
    const url = await createQueue('batch');
    await send(url, 'a');
    await send(url, 'b');
    const [a, b] = await receive(url, { max: 2 });
    const changed = await client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', ReceiptHandle: a?.ReceiptHandle, VisibilityTimeout: 0 },
          { Id: 'bogus', ReceiptHandle: 'bogus', VisibilityTimeout: 0 },
        ],
      }),
    );
    expect(changed.Successful).toEqual([{ Id: 'a' }]);
    expect(changed.Failed).toEqual([
      expect.objectContaining({ Id: 'bogus', Code: 'ReceiptHandleIsInvalid' }),
    ]);

    const notInFlight = await client.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: [{ Id: 'a', ReceiptHandle: a?.ReceiptHandle, VisibilityTimeout: 10 }],
      }),
    );
    expect(notInFlight.Failed).toEqual([expect.objectContaining({ Id: 'a', Code: 'MessageNotInflight' })]);

    const deleted = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'b', ReceiptHandle: b?.ReceiptHandle },
          { Id: 'bad', ReceiptHandle: 'garbage' },
        ],
      }),
    );
    expect(deleted.Successful).toEqual([{ Id: 'b' }]);
    expect(deleted.Failed).toEqual([
      expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid', SenderFault: true }),
    ]);
    expect(await counts(url)).toEqual({ visible: 1, inflight: 0, delayed: 0 });
  });

  it('rejects a whole batch that is empty, too long or has repeated ids', async () => {
    const url = await createQueue('batch');
    const entries = (ids: string[]) => ids.map((id) => ({ Id: id, MessageBody: id }));
    await expect(
      client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [] })),
    ).rejects.toMatchObject({
      name: 'EmptyBatchRequest',
    });
    await expect(
      client.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: entries([...Array(11).keys()].map((i) => `m${i}`)),
        }),
      ),
    ).rejects.toMatchObject({ name: 'TooManyEntriesInBatchRequest' });
    await expect(
      client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries(['same', 'same']) })),
    ).rejects.toMatchObject({ name: 'BatchEntryIdsNotDistinct' });
  });
});

describe('message attributes', () => {
  // Published reference values for SQS's MD5-of-message-attributes algorithm
  // (npm package aws-md5-of-message-attributes, README).
  const attributes = {
    attribName1: { DataType: 'String', StringValue: 'attribValue 1' },
    customNumberTypeAttrib: {
      DataType: 'Number.float',
      StringValue: '4563442423554324324264524243.32543234',
    },
    binaryAttribute: { DataType: 'Binary', BinaryValue: new TextEncoder().encode('Hello binary world!') },
  };

  it('returns the documented MD5 of message attributes on send and receive', async () => {
    const url = await createQueue('attributes');
    const sent = await send(url, 'with attributes', { MessageAttributes: attributes });
    expect(sent.MD5OfMessageAttributes).toBe('c932db14a896c663f83c260297d594ff');
    const received = await receiveOne(url);
    expect(received.MD5OfMessageAttributes).toBe('c932db14a896c663f83c260297d594ff');
    expect(received.MessageAttributes?.customNumberTypeAttrib).toEqual(attributes.customNumberTypeAttrib);
    expect(Buffer.from(received.MessageAttributes?.binaryAttribute?.BinaryValue ?? []).toString()).toBe(
      'Hello binary world!',
    );
  });

  it('returns only the message attributes asked for, with the MD5 of those', async () => {
    const url = await createQueue('attributes');
    await send(url, 'with attributes', { MessageAttributes: attributes });
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: url, MessageAttributeNames: ['attribName1'] }),
    );
    expect(Object.keys(Messages[0]?.MessageAttributes ?? {})).toEqual(['attribName1']);
    expect(Messages[0]?.MD5OfMessageAttributes).toBe('19e27d4e946b072f3f58da80d94fd778');
    expect(Messages[0]?.Attributes).toBeUndefined();
  });

  it('rejects bodies with characters SQS does not allow and messages over MaximumMessageSize', async () => {
    const url = await createQueue('strict', { MaximumMessageSize: '1024' });
    await expect(send(url, 'bell \u0007')).rejects.toMatchObject({ name: 'InvalidMessageContents' });
    await expect(send(url, 'x'.repeat(1025))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    await expect(
      send(url, 'x', { MessageAttributes: { 'AWS.reserved': { DataType: 'String', StringValue: 'v' } } }),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });
});

describe('purge and retention', () => {
  it('purges visible and in-flight messages, once per 60 seconds', async () => {
    const url = await createQueue('purge-me');
    await send(url, 'a');
    await send(url, 'b');
    await receiveOne(url);
    await client.send(new PurgeQueueCommand({ QueueUrl: url }));
    expect(await counts(url)).toEqual({ visible: 0, inflight: 0, delayed: 0 });
    await expect(client.send(new PurgeQueueCommand({ QueueUrl: url }))).rejects.toMatchObject({
      name: 'PurgeQueueInProgress',
      $metadata: { httpStatusCode: 403 },
    });
    advance(60);
    await expect(client.send(new PurgeQueueCommand({ QueueUrl: url }))).resolves.toMatchObject({
      $metadata: { httpStatusCode: 200 },
    });
  });

  it('drops messages older than MessageRetentionPeriod', async () => {
    const url = await createQueue('short-memory', { MessageRetentionPeriod: '60' });
    await send(url, 'old');
    advance(30);
    await send(url, 'newer');
    advance(30);
    expect((await receive(url)).map((message) => message.Body)).toEqual(['newer']);
  });
});

describe('dead-letter queue redrive (message move tasks)', () => {
  const arnOf = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;
  /** A source queue with a DLQ (maxReceiveCount 1) and one message dead-lettered into it. */
  const deadLettered = async (name: string) => {
    const dlqUrl = await createQueue(`${name}-dlq`);
    const url = await createQueue(name, {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf(`${name}-dlq`), maxReceiveCount: 1 }),
    });
    await send(url, 'poison', { MessageAttributes: { tenant: { DataType: 'String', StringValue: 'acme' } } });
    await receiveOne(url, { visibility: 0 });
    expect(await receive(url)).toEqual([]);
    expect((await counts(dlqUrl)).visible).toBe(1);
    return { url, dlqUrl };
  };

  it('moves every DLQ message back to the queue it came from, as a new message with its attributes', async () => {
    const { url, dlqUrl } = await deadLettered('invoices');
    const { TaskHandle } = await client.send(
      new StartMessageMoveTaskCommand({ SourceArn: arnOf('invoices-dlq') }),
    );
    expect(TaskHandle).toEqual(expect.any(String));
    expect((await counts(dlqUrl)).visible).toBe(0);
    const back = await receiveOne(url, { visibility: 0 });
    expect(back).toMatchObject({
      Body: 'poison',
      MessageAttributes: { tenant: { DataType: 'String', StringValue: 'acme' } },
      Attributes: expect.objectContaining({ ApproximateReceiveCount: '1' }),
    });
    const { Results } = await client.send(
      new ListMessageMoveTasksCommand({ SourceArn: arnOf('invoices-dlq') }),
    );
    expect(Results).toEqual([
      expect.objectContaining({
        Status: 'COMPLETED',
        SourceArn: arnOf('invoices-dlq'),
        ApproximateNumberOfMessagesMoved: 1,
        ApproximateNumberOfMessagesToMove: 1,
      }),
    ]);
    // A finished task has no handle left to cancel it by.
    expect(Results?.[0]?.TaskHandle).toBeUndefined();
    await expect(
      client.send(new CancelMessageMoveTaskCommand({ TaskHandle: TaskHandle ?? '' })),
    ).rejects.toMatchObject({ name: 'UnsupportedOperation' });
  });

  it('moves the messages to the destination queue given instead', async () => {
    const { url } = await deadLettered('payments');
    const elsewhere = await createQueue('payments-elsewhere');
    await client.send(
      new StartMessageMoveTaskCommand({
        SourceArn: arnOf('payments-dlq'),
        DestinationArn: arnOf('payments-elsewhere'),
      }),
    );
    expect((await counts(url)).visible).toBe(0);
    expect((await receiveOne(elsewhere)).Body).toBe('poison');
  });

  it("refuses a source that is no queue's DLQ, and a source that does not exist", async () => {
    await createQueue('plain');
    await expect(
      client.send(new StartMessageMoveTaskCommand({ SourceArn: arnOf('plain') })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: expect.stringContaining('Dead Letter Queue'),
    });
    await expect(
      client.send(new StartMessageMoveTaskCommand({ SourceArn: arnOf('missing') })),
    ).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
  });
});
