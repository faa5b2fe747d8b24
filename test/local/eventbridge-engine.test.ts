import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateArchiveCommand,
  CreateEventBusCommand,
  DescribeArchiveCommand,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListEventBusesCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
  PutRuleCommand,
  PutTargetsCommand,
  StartReplayCommand,
  type Target,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { jsonProtocolListener } from '../../local/aws/json-protocol';
import { EventBridgeEngine, type EventBridgeEngineOptions } from '../../local/eventbridge/engine';
import { EventBridgeService } from '../../local/eventbridge/service';

interface Delivery {
  readonly arn: string;
  readonly payload: string;
  readonly attributes: Readonly<Record<string, string>> | undefined;
}

const QUEUE = 'arn:aws:sqs:us-east-1:000000000000:orders';
const OTHER_QUEUE = 'arn:aws:sqs:us-east-1:000000000000:invoices';
const DLQ = 'arn:aws:sqs:us-east-1:000000000000:orders-dlq';
const FAILING = 'arn:aws:lambda:us-east-1:000000000000:function:broken';

/**
 * A local EventBridge behind a real HTTP server on an ephemeral port, driven through the real SDK client.
 * `failTimes` makes deliveries to an ARN reject that many times (Infinity: always).
 */
const harness = async (options: Partial<EventBridgeEngineOptions> = {}) => {
  const deliveries: Delivery[] = [];
  const attempts = new Map<string, number>();
  const failTimes = new Map<string, number>();
  const warnings: string[] = [];
  const engine = new EventBridgeEngine({
    deliver: async (arn, payload, attributes) => {
      attempts.set(arn, (attempts.get(arn) ?? 0) + 1);
      const remaining = failTimes.get(arn) ?? 0;
      if (remaining > 0) {
        failTimes.set(arn, remaining - 1);
        throw new Error(`${arn} is unavailable`);
      }
      deliveries.push({ arn, payload, attributes });
    },
    backoff: () => 0,
    warn: (message) => warnings.push(message),
    ...options,
  });
  const service = new EventBridgeService(engine);
  const listener = jsonProtocolListener([service]);
  const server = createServer((req, res) => {
    void listener(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new EventBridgeClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return {
    engine,
    service,
    client,
    deliveries,
    attempts,
    failTimes,
    warnings,
    to: (arn: string) => deliveries.filter((delivery) => delivery.arn === arn),
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
};

type Harness = Awaited<ReturnType<typeof harness>>;

const order = (
  detail: Record<string, unknown> = { status: 'created', total: 120 },
): PutEventsRequestEntry => ({
  Source: 'revbridge.orders',
  DetailType: 'Order Created',
  Detail: JSON.stringify(detail),
});

const rule = async (
  h: Harness,
  name: string,
  pattern: unknown,
  targets: Target[],
  extra: { EventBusName?: string } = {},
) => {
  await h.client.send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(pattern), ...extra }));
  await h.client.send(new PutTargetsCommand({ Rule: name, Targets: targets, ...extra }));
};

const parsed = (delivery: Delivery | undefined): Record<string, unknown> => {
  if (!delivery) throw new Error('expected a delivery');
  return JSON.parse(delivery.payload) as Record<string, unknown>;
};

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('PutEvents', () => {
  beforeEach(async () => {
    h = await harness();
  });

  it('delivers the event to the targets of matching rules only, in the EventBridge event shape', async () => {
    await rule(
      h,
      'big-orders',
      { source: ['revbridge.orders'], detail: { total: [{ numeric: ['>', 100] }] } },
      [{ Id: 'queue', Arn: QUEUE }],
    );
    await rule(h, 'invoices', { source: ['revbridge.invoices'] }, [{ Id: 'queue', Arn: OTHER_QUEUE }]);

    const result = await h.client.send(
      new PutEventsCommand({
        Entries: [
          { ...order(), Time: new Date('2024-05-01T12:00:00.500Z'), Resources: ['arn:aws:x:::order/1'] },
        ],
      }),
    );
    await h.engine.idle();

    expect(result.FailedEntryCount).toBe(0);
    expect(h.to(OTHER_QUEUE)).toHaveLength(0);
    expect(h.to(QUEUE)).toHaveLength(1);
    expect(parsed(h.to(QUEUE)[0])).toEqual({
      version: '0',
      id: result.Entries?.[0]?.EventId,
      'detail-type': 'Order Created',
      source: 'revbridge.orders',
      account: '000000000000',
      time: '2024-05-01T12:00:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:x:::order/1'],
      detail: { status: 'created', total: 120 },
    });
  });

  it('does not deliver an event that no rule matches', async () => {
    await rule(h, 'big-orders', { detail: { total: [{ numeric: ['>', 100] }] } }, [
      { Id: 'queue', Arn: QUEUE },
    ]);
    await h.client.send(new PutEventsCommand({ Entries: [order({ total: 99 })] }));
    await h.engine.idle();
    expect(h.deliveries).toEqual([]);
    expect(h.engine.status().events).toMatchObject({ put: 1, matched: 0, delivered: 0 });
  });

  it('delivers one event to every target of every matching rule', async () => {
    await rule(h, 'all-orders', { source: ['revbridge.orders'] }, [
      { Id: 'a', Arn: QUEUE },
      { Id: 'b', Arn: OTHER_QUEUE },
    ]);
    await rule(h, 'created', { 'detail-type': ['Order Created'] }, [{ Id: 'c', Arn: QUEUE }]);
    await h.client.send(new PutEventsCommand({ Entries: [order()] }));
    await h.engine.idle();
    expect(h.to(QUEUE)).toHaveLength(2);
    expect(h.to(OTHER_QUEUE)).toHaveLength(1);
  });

  it('reports bad entries one by one and still accepts the good ones', async () => {
    await rule(h, 'all-orders', { source: ['revbridge.orders'] }, [{ Id: 'queue', Arn: QUEUE }]);
    const result = await h.client.send(
      new PutEventsCommand({
        Entries: [
          order(),
          { DetailType: 'Order Created', Detail: '{}' },
          { Source: 'revbridge.orders', Detail: '{}' },
          { ...order(), Detail: '{not json' },
          { ...order(), Detail: '[1, 2]' },
          { ...order(), EventBusName: 'missing-bus' },
        ],
      }),
    );
    await h.engine.idle();

    expect(result.FailedEntryCount).toBe(5);
    const entries = result.Entries ?? [];
    expect(entries[0]?.EventId).toEqual(expect.any(String));
    expect(entries.slice(1).map((entry) => entry.ErrorCode)).toEqual([
      'InvalidArgument',
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'ResourceNotFoundException',
    ]);
    expect(entries[1]?.ErrorMessage).toBe(
      'Parameter Source is not valid. Reason: Source is a required argument.',
    );
    expect(entries[2]?.ErrorMessage).toContain('DetailType is a required argument');
    expect(entries[5]?.ErrorMessage).toBe('Event bus missing-bus does not exist.');
    expect(h.to(QUEUE)).toHaveLength(1);
  });

  it('rejects a request whose entries add up to more than 256 KB', async () => {
    const big = 'x'.repeat(256 * 1024);
    await expect(
      h.client.send(new PutEventsCommand({ Entries: [order({ note: big })] })),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('over the limit'),
    });
    expect(h.engine.status().events.put).toBe(0);
  });

  it('accepts an entry just under 256 KB', async () => {
    const detail = JSON.stringify({ note: 'x'.repeat(256 * 1024 - 200) });
    const result = await h.client.send(new PutEventsCommand({ Entries: [{ ...order(), Detail: detail }] }));
    expect(result.FailedEntryCount).toBe(0);
  });

  it('rejects more than 10 entries in one request', async () => {
    const entries = Array.from({ length: 11 }, () => order());
    await expect(h.client.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('routes an event to the rules of the bus it names, by name or by ARN', async () => {
    const { EventBusArn } = await h.client.send(new CreateEventBusCommand({ Name: 'billing' }));
    await rule(h, 'on-billing', { source: ['revbridge.orders'] }, [{ Id: 'q', Arn: OTHER_QUEUE }], {
      EventBusName: 'billing',
    });
    await rule(h, 'on-default', { source: ['revbridge.orders'] }, [{ Id: 'q', Arn: QUEUE }]);

    await h.client.send(
      new PutEventsCommand({
        Entries: [
          { ...order(), EventBusName: 'billing' },
          { ...order(), EventBusName: EventBusArn },
        ],
      }),
    );
    await h.engine.idle();
    expect(h.to(OTHER_QUEUE)).toHaveLength(2);
    expect(h.to(QUEUE)).toHaveLength(0);
  });

  it('resolves before delivery finishes, and idle() waits for it', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await h.close();
    h = await harness({
      deliver: async () => {
        await gate;
      },
    });
    await rule(h, 'all', { source: ['revbridge.orders'] }, [{ Id: 'q', Arn: QUEUE }]);

    await h.client.send(new PutEventsCommand({ Entries: [order()] }));
    expect(h.engine.status()).toMatchObject({ inFlight: 1, events: { matched: 1, delivered: 0 } });

    let idle = false;
    const waiting = h.engine.idle().then(() => {
      idle = true;
    });
    await Promise.resolve();
    expect(idle).toBe(false);
    release();
    await waiting;
    expect(h.engine.status()).toMatchObject({ inFlight: 0, events: { delivered: 1 } });
  });
});

describe('rules', () => {
  beforeEach(async () => {
    h = await harness();
  });

  it('delivers nothing for a disabled rule until it is enabled again', async () => {
    await h.client.send(
      new PutRuleCommand({
        Name: 'orders',
        EventPattern: JSON.stringify({ source: ['revbridge.orders'] }),
        State: 'DISABLED',
      }),
    );
    await h.client.send(new PutTargetsCommand({ Rule: 'orders', Targets: [{ Id: 'q', Arn: QUEUE }] }));

    await h.client.send(new PutEventsCommand({ Entries: [order()] }));
    await h.engine.idle();
    expect(h.deliveries).toHaveLength(0);

    await h.client.send(new EnableRuleCommand({ Name: 'orders' }));
    await h.client.send(new PutEventsCommand({ Entries: [order()] }));
    await h.engine.idle();
    expect(h.deliveries).toHaveLength(1);

    await h.client.send(new DisableRuleCommand({ Name: 'orders' }));
    await h.client.send(new PutEventsCommand({ Entries: [order()] }));
    await h.engine.idle();
    expect(h.deliveries).toHaveLength(1);
  });

  it('rejects an invalid event pattern with InvalidEventPatternException naming the problem', async () => {
    await expect(
      h.client.send(
        new PutRuleCommand({ Name: 'bad', EventPattern: JSON.stringify({ source: 'revbridge.orders' }) }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidEventPatternException',
      message: expect.stringContaining('"source" must be an object or an array'),
    });
  });

  it('describes and lists rules, targets and buses through the SDK', async () => {
    await h.client.send(new CreateEventBusCommand({ Name: 'billing' }));
    const pattern = JSON.stringify({ source: ['revbridge.orders'] });
    const { RuleArn } = await h.client.send(
      new PutRuleCommand({
        Name: 'orders',
        EventBusName: 'billing',
        EventPattern: pattern,
        Description: 'all orders',
      }),
    );
    await h.client.send(
      new PutTargetsCommand({
        Rule: 'orders',
        EventBusName: 'billing',
        Targets: [
          { Id: 'q', Arn: QUEUE, DeadLetterConfig: { Arn: DLQ }, RetryPolicy: { MaximumRetryAttempts: 3 } },
        ],
      }),
    );

    expect(RuleArn).toBe('arn:aws:events:us-east-1:000000000000:rule/billing/orders');
    await expect(
      h.client.send(new DescribeRuleCommand({ Name: 'orders', EventBusName: 'billing' })),
    ).resolves.toMatchObject({
      Name: 'orders',
      Arn: RuleArn,
      EventPattern: pattern,
      State: 'ENABLED',
      Description: 'all orders',
      EventBusName: 'billing',
    });
    const rules = await h.client.send(new ListRulesCommand({ EventBusName: 'billing' }));
    expect(rules.Rules?.map((r) => r.Name)).toEqual(['orders']);
    const defaultRules = await h.client.send(new ListRulesCommand({}));
    expect(defaultRules.Rules).toEqual([]);
    const targets = await h.client.send(
      new ListTargetsByRuleCommand({ Rule: 'orders', EventBusName: 'billing' }),
    );
    expect(targets.Targets).toEqual([
      { Id: 'q', Arn: QUEUE, DeadLetterConfig: { Arn: DLQ }, RetryPolicy: { MaximumRetryAttempts: 3 } },
    ]);
    const buses = await h.client.send(new ListEventBusesCommand({}));
    expect(buses.EventBuses?.map((bus) => bus.Name)).toEqual(['default', 'billing']);
    await expect(h.client.send(new DescribeEventBusCommand({ Name: 'billing' }))).resolves.toMatchObject({
      Name: 'billing',
      Arn: 'arn:aws:events:us-east-1:000000000000:event-bus/billing',
    });
    await expect(h.client.send(new CreateEventBusCommand({ Name: 'billing' }))).rejects.toMatchObject({
      name: 'ResourceAlreadyExistsException',
    });
    await expect(h.client.send(new DescribeRuleCommand({ Name: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('answers TestEventPattern with the matcher rules creates use', async () => {
    const event = JSON.stringify({
      id: '1',
      account: '000000000000',
      source: 'revbridge.orders',
      time: '2024-05-01T12:00:00Z',
      region: 'us-east-1',
      resources: [],
      'detail-type': 'Order Created',
      detail: { total: 120 },
    });
    const test = (pattern: unknown) =>
      h.client.send(new TestEventPatternCommand({ EventPattern: JSON.stringify(pattern), Event: event }));
    await expect(test({ detail: { total: [{ numeric: ['>=', 120] }] } })).resolves.toMatchObject({
      Result: true,
    });
    await expect(test({ detail: { total: [{ numeric: ['>', 120] }] } })).resolves.toMatchObject({
      Result: false,
    });
  });

  it('answers an operation it does not implement with UnknownOperationException', async () => {
    await expect(h.service.handle('PutPermission', {})).rejects.toMatchObject({
      code: 'UnknownOperationException',
    });
  });
});

describe('target input', () => {
  beforeEach(async () => {
    h = await harness();
  });

  it('sends Input instead of the event, and the part InputPath selects', async () => {
    await rule(h, 'orders', { source: ['revbridge.orders'] }, [
      { Id: 'constant', Arn: QUEUE, Input: '{"kind":"ping"}' },
      { Id: 'detail', Arn: OTHER_QUEUE, InputPath: '$.detail' },
    ]);
    await h.client.send(new PutEventsCommand({ Entries: [order({ status: 'created', total: 5 })] }));
    await h.engine.idle();
    expect(h.to(QUEUE).map((d) => d.payload)).toEqual(['{"kind":"ping"}']);
    expect(h.to(OTHER_QUEUE).map((d) => parsed(d))).toEqual([{ status: 'created', total: 5 }]);
  });

  it('fills an InputTransformer template from the event', async () => {
    await rule(h, 'orders', { source: ['revbridge.orders'] }, [
      {
        Id: 'shaped',
        Arn: QUEUE,
        InputTransformer: {
          InputPathsMap: { status: '$.detail.status', total: '$.detail.total' },
          InputTemplate:
            '{"summary": "order is <status>", "total": <total>, "rule": "<aws.events.rule-name>"}',
        },
      },
    ]);
    await h.client.send(new PutEventsCommand({ Entries: [order({ status: 'paid', total: 7 })] }));
    await h.engine.idle();
    expect(parsed(h.to(QUEUE)[0])).toEqual({ summary: 'order is paid', total: 7, rule: 'orders' });
  });

  it('rejects a target that sets both Input and InputPath', async () => {
    await h.client.send(
      new PutRuleCommand({ Name: 'orders', EventPattern: JSON.stringify({ source: ['x'] }) }),
    );
    await expect(
      h.client.send(
        new PutTargetsCommand({
          Rule: 'orders',
          Targets: [{ Id: 't', Arn: QUEUE, Input: '{}', InputPath: '$.detail' }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('retries and dead-letter queues', () => {
  beforeEach(async () => {
    h = await harness();
  });

  it('retries a failing target up to MaximumRetryAttempts, then sends the event to its DLQ with the reason', async () => {
    await rule(h, 'orders', { source: ['revbridge.orders'] }, [
      { Id: 'fn', Arn: FAILING, DeadLetterConfig: { Arn: DLQ }, RetryPolicy: { MaximumRetryAttempts: 2 } },
    ]);
    h.failTimes.set(FAILING, Number.POSITIVE_INFINITY);

    const result = await h.client.send(new PutEventsCommand({ Entries: [order()] }));
    await h.engine.idle();

    expect(h.attempts.get(FAILING)).toBe(3);
    const dead = h.to(DLQ);
    expect(dead).toHaveLength(1);
    expect(parsed(dead[0])).toMatchObject({ id: result.Entries?.[0]?.EventId, source: 'revbridge.orders' });
    expect(dead[0]?.attributes).toEqual({
      ERROR_CODE: 'Error',
      ERROR_MESSAGE: `${FAILING} is unavailable`,
      EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
      RETRY_ATTEMPTS: '2',
      RULE_ARN: 'arn:aws:events:us-east-1:000000000000:rule/orders',
      TARGET_ARN: FAILING,
    });
    expect(h.engine.failures()).toEqual([
      expect.objectContaining({
        targetId: 'fn',
        attempts: 3,
        deadLetter: 'sent',
        errorMessage: `${FAILING} is unavailable`,
      }),
    ]);
    expect(h.engine.status().events).toMatchObject({
      retried: 2,
      failed: 1,
      sentToDeadLetter: 1,
      delivered: 0,
    });
  });

  it('delivers on a later attempt when the target recovers, without dead-lettering', async () => {
    await rule(h, 'orders', { source: ['revbridge.orders'] }, [
      { Id: 'fn', Arn: FAILING, DeadLetterConfig: { Arn: DLQ }, RetryPolicy: { MaximumRetryAttempts: 5 } },
    ]);
    h.failTimes.set(FAILING, 2);
    await h.client.send(new PutEventsCommand({ Entries: [order()] }));
    await h.engine.idle();
    expect(h.to(FAILING)).toHaveLength(1);
    expect(h.attempts.get(FAILING)).toBe(3);
    expect(h.to(DLQ)).toHaveLength(0);
    expect(h.engine.failures()).toEqual([]);
  });

  it('stops retrying once the event is older than MaximumEventAgeInSeconds', async () => {
    let clock = Date.parse('2024-05-01T12:00:00Z');
    await h.close();
    h = await harness({
      now: () => clock,
      backoff: () => 25_000,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    await rule(h, 'orders', { source: ['revbridge.orders'] }, [
      {
        Id: 'fn',
        Arn: FAILING,
        DeadLetterConfig: { Arn: DLQ },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 60 },
      },
    ]);
    h.failTimes.set(FAILING, Number.POSITIVE_INFINITY);
    await h.client.send(new PutEventsCommand({ Entries: [order()] }));
    await h.engine.idle();

    // Attempts at 0 s, 25 s and 50 s; a retry at 75 s would exceed the 60 s age limit.
    expect(h.attempts.get(FAILING)).toBe(3);
    expect(h.to(DLQ)[0]?.attributes).toMatchObject({ EXHAUSTED_RETRY_CONDITION: 'MaximumEventAgeInSeconds' });
  });

  it('records and reports an event it gives up on when the target has no DLQ', async () => {
    await rule(h, 'orders', { source: ['revbridge.orders'] }, [
      { Id: 'fn', Arn: FAILING, RetryPolicy: { MaximumRetryAttempts: 0 } },
    ]);
    h.failTimes.set(FAILING, Number.POSITIVE_INFINITY);
    await h.client.send(new PutEventsCommand({ Entries: [order()] }));
    await h.engine.idle();
    expect(h.attempts.get(FAILING)).toBe(1);
    expect(h.engine.failures()).toEqual([expect.objectContaining({ deadLetter: 'none', attempts: 1 })]);
    expect(h.warnings).toEqual([expect.stringContaining('no DLQ')]);
  });

  it('records and reports an event whose DLQ also rejects it', async () => {
    await rule(h, 'orders', { source: ['revbridge.orders'] }, [
      { Id: 'fn', Arn: FAILING, DeadLetterConfig: { Arn: DLQ }, RetryPolicy: { MaximumRetryAttempts: 0 } },
    ]);
    h.failTimes.set(FAILING, Number.POSITIVE_INFINITY);
    h.failTimes.set(DLQ, Number.POSITIVE_INFINITY);
    await h.client.send(new PutEventsCommand({ Entries: [order()] }));
    await h.engine.idle();
    expect(h.engine.failures()).toEqual([expect.objectContaining({ deadLetter: 'failed' })]);
    expect(h.engine.status().events).toMatchObject({ failed: 1, deadLetterFailed: 1, sentToDeadLetter: 0 });
    expect(h.warnings).toEqual([expect.stringContaining('could not be sent to DLQ')]);
  });

  it('sends straight to the DLQ, without retrying, an error classified as not retryable', async () => {
    await h.close();
    h = await harness({
      isRetryable: (error) => !(error instanceof Error && error.message.includes('unavailable')),
    });
    await rule(h, 'orders', { source: ['revbridge.orders'] }, [
      { Id: 'fn', Arn: FAILING, DeadLetterConfig: { Arn: DLQ } },
    ]);
    h.failTimes.set(FAILING, Number.POSITIVE_INFINITY);
    await h.client.send(new PutEventsCommand({ Entries: [order()] }));
    await h.engine.idle();
    expect(h.attempts.get(FAILING)).toBe(1);
    expect(h.to(DLQ)[0]?.attributes).not.toHaveProperty('EXHAUSTED_RETRY_CONDITION');
  });
});

describe('archives and replay', () => {
  beforeEach(async () => {
    h = await harness();
  });

  it('archives the events put on a bus and replays them to the rules, marked with replay-name', async () => {
    const bus = await h.client.send(new DescribeEventBusCommand({}));
    const { ArchiveArn } = await h.client.send(
      new CreateArchiveCommand({
        ArchiveName: 'orders-archive',
        EventSourceArn: bus.Arn,
        EventPattern: JSON.stringify({ source: ['revbridge.orders'] }),
      }),
    );
    const put = await h.client.send(
      new PutEventsCommand({
        Entries: [
          { ...order({ n: 1 }), Time: new Date('2024-05-01T10:00:00Z') },
          { ...order({ n: 2 }), Time: new Date('2024-05-01T11:00:00Z') },
          { ...order({ n: 3 }), Time: new Date('2024-05-01T12:00:00Z') },
          { Source: 'revbridge.other', DetailType: 'Noise', Detail: '{}' },
        ],
      }),
    );
    await expect(
      h.client.send(new DescribeArchiveCommand({ ArchiveName: 'orders-archive' })),
    ).resolves.toMatchObject({
      EventCount: 3,
    });

    // A rule created after the events were put only sees them through the replay.
    await rule(h, 'late-consumer', { source: ['revbridge.orders'] }, [{ Id: 'q', Arn: QUEUE }]);
    await h.client.send(
      new StartReplayCommand({
        ReplayName: 'catch-up',
        EventSourceArn: ArchiveArn,
        EventStartTime: new Date('2024-05-01T10:30:00Z'),
        EventEndTime: new Date('2024-05-01T12:30:00Z'),
        Destination: { Arn: bus.Arn },
      }),
    );
    await h.engine.idle();

    const replayed = h.to(QUEUE).map((delivery) => parsed(delivery));
    expect(replayed.map((event) => event.detail)).toEqual([{ n: 2 }, { n: 3 }]);
    expect(replayed.map((event) => event['replay-name'])).toEqual(['catch-up', 'catch-up']);
    expect(replayed.map((event) => event.id)).toEqual([put.Entries?.[1]?.EventId, put.Entries?.[2]?.EventId]);
    expect(h.engine.status().events).toMatchObject({ archived: 3, replayed: 2 });
  });

  it('does not archive replayed events again', async () => {
    await h.client.send(new CreateArchiveCommand({ ArchiveName: 'all', EventSourceArn: 'default' }));
    await h.client.send(new PutEventsCommand({ Entries: [order()] }));
    await h.engine.replay('all', new Date(0), new Date(Date.now() + 60_000));
    await h.engine.idle();
    expect(h.engine.describeArchive('all').EventCount).toBe(1);
  });
});

describe('status', () => {
  beforeEach(async () => {
    h = await harness();
  });

  it('reports buses, rules with target counts and event counts as plain JSON', async () => {
    await rule(h, 'orders', { source: ['revbridge.orders'] }, [
      { Id: 'a', Arn: QUEUE },
      { Id: 'b', Arn: OTHER_QUEUE },
    ]);
    await h.client.send(new PutEventsCommand({ Entries: [order(), { ...order(), Detail: 'nope' }] }));
    await h.engine.idle();
    const status = h.engine.status();
    expect(JSON.parse(JSON.stringify(status))).toEqual(status);
    expect(status).toMatchObject({
      buses: [{ name: 'default', rules: 1 }],
      rules: [{ name: 'orders', bus: 'default', state: 'ENABLED', targets: 2 }],
      events: { put: 1, rejected: 1, matched: 1, delivered: 2, failed: 0 },
      inFlight: 0,
    });
  });
});
