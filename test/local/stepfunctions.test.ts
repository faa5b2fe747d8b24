import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';
import { jsonProtocolListener } from '../../local/aws/json-protocol';
import {
  DefinitionError,
  installPromiseWithResolvers,
  type PutEvents,
  StepFunctionsEngine,
  StepFunctionsService,
} from '../../local/stepfunctions';

const ACCOUNT = '000000000000';
const fn = (name: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;

/** Charge → Choice → (Wait) → Succeed, with Retry on TransientError and Catch on PermanentError. */
const chargeFlow = {
  Comment: 'charge an invoice, compensate when the charge is rejected',
  StartAt: 'Charge',
  States: {
    Charge: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: fn('charge'), 'Payload.$': '$' },
      ResultSelector: { 'status.$': '$.Payload.status', 'statusCode.$': '$.StatusCode' },
      ResultPath: '$.charge',
      Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['PermanentError'], ResultPath: '$.error', Next: 'Compensate' }],
      Next: 'IsPaid',
    },
    IsPaid: {
      Type: 'Choice',
      Choices: [{ Variable: '$.charge.status', StringEquals: 'paid', Next: 'Done' }],
      Default: 'WaitForSettlement',
    },
    WaitForSettlement: { Type: 'Wait', Seconds: 60, Next: 'Done' },
    Compensate: { Type: 'Task', Resource: fn('refund'), ResultPath: null, Next: 'Rejected' },
    Rejected: { Type: 'Fail', Error: 'ChargeRejected', Cause: 'the card was declined' },
    Done: { Type: 'Succeed' },
  },
};

/** A gate a test opens to let a held Lambda invocation finish. */
const gate = () => {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
};

interface Invocation {
  readonly functionName: string;
  readonly payload: unknown;
}

const setup = (
  options: { putEvents?: PutEvents; dynamodb?: (op: string, input: unknown) => Promise<unknown> } = {},
) => {
  const invocations: Invocation[] = [];
  const attempts = new Map<string, number>();
  const held = gate();
  const engine = new StepFunctionsEngine({
    waitTimeScale: 0.001,
    ...options,
    invokeLambda: async (functionName, payload) => {
      invocations.push({ functionName, payload });
      if (functionName === fn('refund')) return { refunded: true };
      const scenario = (payload as { scenario?: string }).scenario ?? 'paid';
      const attempt = (attempts.get(scenario) ?? 0) + 1;
      attempts.set(scenario, attempt);
      switch (scenario) {
        case 'flaky':
          if (attempt <= 2)
            throw new TransientError('gateway timed out', { code: 'GatewayTimeout', status: 504 });
          return { status: 'paid' };
        case 'declined':
          throw new PermanentError('card declined', { code: 'CardDeclined', status: 402 });
        case 'pending':
          return { status: 'pending' };
        case 'hold':
          await held.opened;
          return { status: 'paid' };
        default:
          return { status: 'paid' };
      }
    },
  });
  return { engine, invocations, held };
};

let endpoint = '';
const clientConfig = () => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

const startServer = async (service: StepFunctionsService): Promise<{ server: Server; client: SFNClient }> => {
  const server = createServer(jsonProtocolListener([service]));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  endpoint = `http://127.0.0.1:${port}`;
  return { server, client: new SFNClient(clientConfig()) };
};

const eventsOfType = (events: HistoryEvent[] | undefined, type: string) =>
  (events ?? []).filter((event) => event.type === type);

describe('Step Functions emulator through @aws-sdk/client-sfn', () => {
  let context: ReturnType<typeof setup>;
  let server: Server;
  let client: SFNClient;
  let stateMachineArn: string;

  beforeEach(async () => {
    context = setup();
    ({ server, client } = await startServer(new StepFunctionsService(context.engine)));
    stateMachineArn = context.engine.createStateMachine('charge-invoice', JSON.stringify(chargeFlow));
  });

  afterEach(async () => {
    context.held.open();
    await context.engine.idle();
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('retries a TransientError twice with scaled backoff, then succeeds with the wrapped Lambda result', async () => {
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: 'inv-1',
        input: JSON.stringify({ scenario: 'flaky' }),
      }),
    );
    expect(started.executionArn).toBe(`arn:aws:states:us-east-1:${ACCOUNT}:execution:charge-invoice:inv-1`);
    await context.engine.waitForExecution(started.executionArn ?? '');

    const described = await client.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output ?? 'null')).toEqual({
      scenario: 'flaky',
      charge: { status: 'paid', statusCode: 200 },
    });
    expect(described.startDate).toBeInstanceOf(Date);
    expect(described.stopDate?.getTime()).toBeGreaterThanOrEqual(described.startDate?.getTime() ?? 0);
    expect(context.invocations.filter((call) => call.functionName === fn('charge'))).toHaveLength(3);

    const { events } = await client.send(
      new GetExecutionHistoryCommand({ executionArn: started.executionArn }),
    );
    const failures = eventsOfType(events, 'TaskFailed');
    expect(failures.map((event) => event.taskFailedEventDetails?.error)).toEqual([
      'TransientError',
      'TransientError',
    ]);
    expect(JSON.parse(failures[0]?.taskFailedEventDetails?.cause ?? '{}')).toMatchObject({
      errorType: 'TransientError',
      errorMessage: 'gateway timed out',
    });
    expect(eventsOfType(events, 'TaskScheduled')).toHaveLength(3);
    const succeeded = eventsOfType(events, 'TaskSucceeded');
    expect(succeeded).toHaveLength(1);
    expect(JSON.parse(succeeded[0]?.taskSucceededEventDetails?.output ?? '{}')).toMatchObject({
      Payload: { status: 'paid' },
      StatusCode: 200,
    });
    expect(events?.[0]?.type).toBe('ExecutionStarted');
    expect(events?.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(eventsOfType(events, 'ChoiceStateEntered')).toHaveLength(1);
  });

  it('catches a PermanentError into the compensation state and fails the execution with the Fail state error', async () => {
    const { executionArn } = await client.send(
      new StartExecutionCommand({
        stateMachineArn,
        input: JSON.stringify({ scenario: 'declined', invoice: 'in_1' }),
      }),
    );
    await context.engine.waitForExecution(executionArn ?? '');

    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('ChargeRejected');
    expect(described.cause).toBe('the card was declined');
    expect(context.invocations.filter((call) => call.functionName === fn('charge'))).toHaveLength(1);
    const refund = context.invocations.find((call) => call.functionName === fn('refund'));
    expect(refund?.payload).toMatchObject({ invoice: 'in_1', error: { Error: 'PermanentError' } });
    const cause = (refund?.payload as { error?: { Cause?: string } } | undefined)?.error?.Cause ?? '';
    expect(JSON.parse(cause)).toMatchObject({ errorType: 'PermanentError', errorMessage: 'card declined' });

    const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(eventsOfType(events, 'LambdaFunctionSucceeded')).toHaveLength(1);
    expect(eventsOfType(events, 'FailStateEntered')).toHaveLength(1);
    expect(events?.at(-1)?.executionFailedEventDetails).toEqual({
      error: 'ChargeRejected',
      cause: 'the card was declined',
    });
  });

  it('takes the Choice default into a Wait state whose 60 s run in about 60 ms', async () => {
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ scenario: 'pending' }) }),
    );
    const result = await context.engine.waitForExecution(executionArn ?? '');
    expect(result.status).toBe('SUCCEEDED');
    const elapsed = (result.stopDate?.getTime() ?? 0) - result.startDate.getTime();
    expect(elapsed).toBeGreaterThanOrEqual(55);
    expect(elapsed).toBeLessThan(5_000);
    const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(
      eventsOfType(events, 'WaitStateEntered').map((event) => event.stateEnteredEventDetails?.name),
    ).toEqual(['WaitForSettlement']);
    expect(eventsOfType(events, 'WaitStateExited')).toHaveLength(1);
  });

  it('returns the running execution for the same name and input, and rejects another input or a closed execution', async () => {
    const input = JSON.stringify({ scenario: 'hold', invoice: 'in_2' });
    const first = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'in_2', input }));
    const again = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'in_2', input }));
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate?.getTime()).toBe(first.startDate?.getTime());

    await expect(
      client.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: 'in_2',
          input: JSON.stringify({ scenario: 'other' }),
        }),
      ),
    ).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });

    const running = await client.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING' }),
    );
    expect(running.executions?.map((execution) => execution.name)).toEqual(['in_2']);

    context.held.open();
    await context.engine.idle();
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn, name: 'in_2', input })),
    ).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    expect(context.invocations.filter((call) => call.functionName === fn('charge'))).toHaveLength(1);
  });

  it('stops a running execution as ABORTED and leaves nothing running', async () => {
    const waiting = context.engine.createStateMachine(
      'long-wait',
      JSON.stringify({
        StartAt: 'Sleep',
        States: { Sleep: { Type: 'Wait', Seconds: 1_000_000, End: true } },
      }),
    );
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: waiting }));
    const stopped = await client.send(
      new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'stopped by a test' }),
    );
    expect(stopped.stopDate).toBeInstanceOf(Date);
    await context.engine.idle();
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'stopped by a test' });
    const { events } = await client.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true }),
    );
    expect(events?.[0]?.type).toBe('ExecutionAborted');
  });

  it('answers with the AWS error codes', async () => {
    const missingMachine = `arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:nope`;
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn: missingMachine })),
    ).rejects.toMatchObject({
      name: 'StateMachineDoesNotExist',
    });
    await expect(
      client.send(
        new DescribeExecutionCommand({
          executionArn: `arn:aws:states:us-east-1:${ACCOUNT}:execution:charge-invoice:x`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn, name: 'has space' })),
    ).rejects.toMatchObject({ name: 'InvalidName' });
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn, input: '{not json' })),
    ).rejects.toMatchObject({ name: 'InvalidExecutionInput' });
    await expect(
      client.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' })),
    ).rejects.toMatchObject({
      name: 'InvalidArn',
    });
  });

  it('lists and describes state machines', async () => {
    const { stateMachines } = await client.send(new ListStateMachinesCommand({}));
    expect(stateMachines?.map((machine) => machine.name)).toEqual(['charge-invoice']);
    const described = await client.send(new DescribeStateMachineCommand({ stateMachineArn }));
    expect(described).toMatchObject({ name: 'charge-invoice', type: 'STANDARD', status: 'ACTIVE' });
    expect(JSON.parse(described.definition ?? '{}')).toEqual(chargeFlow);
  });

  it('runs an EXPRESS state machine synchronously and refuses to list its executions', async () => {
    const { stateMachineArn: expressArn } = await client.send(
      new CreateStateMachineCommand({
        name: 'quote-express',
        type: 'EXPRESS',
        roleArn: `arn:aws:iam::${ACCOUNT}:role/sfn`,
        definition: JSON.stringify({
          StartAt: 'Price',
          States: {
            Price: { Type: 'Task', Resource: fn('price'), ResultPath: '$.price', End: true },
          },
        }),
      }),
    );
    // StartSyncExecution has the `sync-` host prefix; against a local endpoint it must be turned off.
    const syncClient = new SFNClient({ ...clientConfig(), disableHostPrefix: true });
    const result = await syncClient.send(
      new StartSyncExecutionCommand({ stateMachineArn: expressArn, input: JSON.stringify({ sku: 'a' }) }),
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.executionArn).toContain(':express:quote-express:');
    expect(JSON.parse(result.output ?? '{}')).toEqual({ sku: 'a', price: { status: 'paid' } });
    await expect(
      client.send(new ListExecutionsCommand({ stateMachineArn: expressArn })),
    ).rejects.toMatchObject({
      name: 'StateMachineTypeNotSupported',
    });
    await expect(syncClient.send(new StartSyncExecutionCommand({ stateMachineArn }))).rejects.toMatchObject({
      name: 'StateMachineTypeNotSupported',
    });
    syncClient.destroy();
  });

  it('rejects a JSONata definition through CreateStateMachine with InvalidDefinition', async () => {
    await expect(
      client.send(
        new CreateStateMachineCommand({
          name: 'jsonata-flow',
          roleArn: `arn:aws:iam::${ACCOUNT}:role/sfn`,
          definition: JSON.stringify({
            QueryLanguage: 'JSONata',
            StartAt: 'A',
            States: { A: { Type: 'Pass', Output: '{% $states.input %}', End: true } },
          }),
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidDefinition', message: expect.stringContaining('jsonata-flow') });
  });
});

describe('definition loader', () => {
  const engine = new StepFunctionsEngine({ invokeLambda: async () => null });

  it('rejects a top-level JSONata QueryLanguage, naming the state machine', () => {
    const definition = JSON.stringify({
      QueryLanguage: 'JSONata',
      StartAt: 'A',
      States: { A: { Type: 'Pass', End: true } },
    });
    expect(() => engine.createStateMachine('sync-quote', definition)).toThrow(DefinitionError);
    expect(() => engine.createStateMachine('sync-quote', definition)).toThrow(
      /State machine "sync-quote" uses JSONata.*top-level "QueryLanguage": "JSONata"/,
    );
  });

  it('rejects a state that switches to JSONata inside a Map, naming the state', () => {
    const definition = JSON.stringify({
      StartAt: 'Lines',
      States: {
        Lines: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'Price',
            States: { Price: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% 1 %}', End: true } },
          },
          End: true,
        },
      },
    });
    expect(() => engine.createStateMachine('price-lines', definition)).toThrow(
      /"price-lines".*state "Price" sets "QueryLanguage": "JSONata"/,
    );
  });

  it('rejects integrations it cannot emulate and callbacks it was not given', () => {
    const callback = JSON.stringify({
      StartAt: 'Approve',
      States: {
        Approve: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: fn('approve') },
          End: true,
        },
      },
    });
    expect(() => engine.createStateMachine('approve', callback)).toThrow(/state "Approve".*callback pattern/);
    const publish = JSON.stringify({
      StartAt: 'Publish',
      States: { Publish: { Type: 'Task', Resource: 'arn:aws:states:::events:putEvents', End: true } },
    });
    expect(() => engine.createStateMachine('publish', publish)).toThrow(/no putEvents callback/);
  });

  it('installs Promise.withResolvers only when it is missing', () => {
    expect(installPromiseWithResolvers()).toBe(false);
    const { promise, resolve } = (
      Promise as unknown as { withResolvers: <T>() => { promise: Promise<T>; resolve: (value: T) => void } }
    ).withResolvers<number>();
    resolve(42);
    return expect(promise).resolves.toBe(42);
  });
});

describe('service integrations', () => {
  it('publishes events with the execution ARN in Resources and fails the task on a failed entry', async () => {
    const published: unknown[] = [];
    let failNext = false;
    const { engine } = setup({
      putEvents: async ({ Entries }) => {
        published.push(...Entries);
        return failNext
          ? { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] }
          : { FailedEntryCount: 0, Entries: Entries.map((_, index) => ({ EventId: `e${index}` })) };
      },
    });
    const arn = engine.createStateMachine(
      'announce',
      JSON.stringify({
        StartAt: 'Announce',
        States: {
          Announce: {
            Type: 'Task',
            Resource: 'arn:aws:states:::events:putEvents',
            Parameters: {
              Entries: [
                { Source: 'revbridge', DetailType: 'InvoicePaid', 'Detail.$': '$', EventBusName: 'bus' },
              ],
            },
            Catch: [{ ErrorEquals: ['EventBridge.FailedEntry'], Next: 'Lost' }],
            End: true,
          },
          Lost: { Type: 'Fail', Error: 'Lost' },
        },
      }),
    );
    const ok = await engine.waitForExecution(
      engine.startExecution(arn, 'a', '{"invoice":"in_3"}').executionArn,
    );
    expect(ok.status).toBe('SUCCEEDED');
    expect(JSON.parse(ok.output ?? '{}')).toEqual({ Entries: [{ EventId: 'e0' }], FailedEntryCount: 0 });
    expect(published[0]).toEqual({
      Source: 'revbridge',
      DetailType: 'InvoicePaid',
      Detail: '{"invoice":"in_3"}',
      EventBusName: 'bus',
      Resources: [`arn:aws:states:us-east-1:${ACCOUNT}:execution:announce:a`, arn],
    });

    failNext = true;
    const failed = await engine.waitForExecution(engine.startExecution(arn, 'b', '{}').executionArn);
    expect(failed).toMatchObject({ status: 'FAILED', error: 'Lost' });
  });

  it('names DynamoDB errors DynamoDB.<Exception> so Catch can match them', async () => {
    const calls: { op: string; input: unknown }[] = [];
    const { engine } = setup({
      dynamodb: async (op, input) => {
        calls.push({ op, input });
        const error = new Error('The conditional request failed');
        error.name = 'ConditionalCheckFailedException';
        throw error;
      },
    });
    const arn = engine.createStateMachine(
      'claim',
      JSON.stringify({
        StartAt: 'Claim',
        States: {
          Claim: {
            Type: 'Task',
            Resource: 'arn:aws:states:::dynamodb:putItem',
            Parameters: {
              TableName: 'claims',
              Item: { pk: { 'S.$': '$.id' } },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
            Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], Next: 'AlreadyClaimed' }],
            End: true,
          },
          AlreadyClaimed: { Type: 'Succeed' },
        },
      }),
    );
    const result = await engine.waitForExecution(
      engine.startExecution(arn, undefined, '{"id":"x1"}').executionArn,
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(calls).toEqual([
      {
        op: 'PutItem',
        input: {
          TableName: 'claims',
          Item: { pk: { S: 'x1' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ]);
    expect(engine.snapshot().executions).toEqual([
      expect.objectContaining({ stateMachine: 'claim', status: 'SUCCEEDED' }),
    ]);
  });
});
