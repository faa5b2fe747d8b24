import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { EventPublisher } from '../../lambdas/adapters/aws/event-publisher';
import type { ExceptionsRepository } from '../../lambdas/adapters/aws/exceptions-repository';
import { stepFunctionsStarter } from '../../lambdas/adapters/aws/execution-starter';
import type { CrmClient, Deal } from '../../lambdas/domain/deal';
import type { CanonicalEvent } from '../../lambdas/domain/events';
import { executionName, idempotencyKey, salesOrderExternalId } from '../../lambdas/quote-to-cash/identity';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';
import { startDealSaga } from '../../lambdas/start-deal-saga/logic';
import { isValidName } from '../../local/stepfunctions/engine';
import { dealWonEvent as wonEvent } from '../support/canonical-events';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const deal = (overrides: Partial<Deal> = {}): Deal => ({
  crm: 'hubspot',
  dealId: '1234567',
  version: '2026-03-01T10:00:05.000Z',
  name: 'Globex',
  stage: 'closedwon',
  isWon: true,
  currency: 'EUR',
  account: { id: '99', name: 'Globex', email: null, billingAddress: null, taxId: null },
  subsidiary: null,
  lines: [],
  existing: { billingCustomerId: null, subscriptionId: null, erpCustomerId: null, salesOrderId: null },
  ...overrides,
});

const world = (current: Deal | null | Error = deal()) => {
  const started: { name: string; input: string }[] = [];
  const amendments: { name: string; input: string }[] = [];
  const names = new Set<string>();
  const exceptions: { flow: string; code: string }[] = [];
  const published: CanonicalEvent[] = [];
  const crm: CrmClient = {
    async getDeal() {
      if (current instanceof Error) throw current;
      return current;
    },
    async writeBack() {
      throw new Error('the starter never writes to the CRM');
    },
  };
  const exceptionsRepo: ExceptionsRepository = {
    async open(flow, code, message, event) {
      exceptions.push({ flow, code });
      return { exceptionId: 'exc_1', flow, code, message, event };
    },
  };
  const publisher: EventPublisher = {
    async publish(events) {
      published.push(...events);
    },
  };
  return {
    started,
    amendments,
    exceptions,
    published,
    deps: {
      crm: () => crm,
      exceptions: exceptionsRepo,
      publisher,
      async startExecution(name: string, input: string) {
        if (names.has(name)) return 'already-started' as const;
        names.add(name);
        started.push({ name, input });
        return 'started' as const;
      },
      async startAmendment(name: string, input: string) {
        amendments.push({ name, input });
        return 'started' as const;
      },
    },
  };
};

describe('starting the saga for a won deal', () => {
  it('re-fetches the deal and starts one execution named after the deal and the event version', async () => {
    const { deps, started } = world();
    const result = await startDealSaga(wonEvent(), deps);
    expect(result).toEqual({
      outcome: 'started',
      executionName: executionName({ crm: 'hubspot', dealId: '1234567' }, '2026-03-01T10:00:00.000+0000'),
    });
    expect(started).toHaveLength(1);
    // The input carries the event (links, exceptions, replay) and the deal as the CRM has it now.
    expect(JSON.parse(started[0]?.input ?? '{}')).toEqual({ event: wonEvent(), deal: deal() });
  });

  it('starts the amendment saga instead of quote-to-cash for a won deal that names the deal it amends', async () => {
    const { deps, started, amendments } = world(deal({ amends: '7654321' }));
    const result = await startDealSaga(wonEvent(), deps);
    const name = executionName({ crm: 'hubspot', dealId: '1234567' }, '2026-03-01T10:00:00.000+0000');
    expect(result).toEqual({ outcome: 'started', executionName: name, saga: 'amend-contract' });
    expect(started).toEqual([]);
    expect(amendments.map((a) => a.name)).toEqual([name]);
    expect(JSON.parse(amendments[0]?.input ?? '{}').deal.amends).toBe('7654321');
  });

  it('starts quote-to-cash for a won deal whose amendment field is empty', async () => {
    const { deps, started, amendments } = world(deal({ amends: null }));
    await startDealSaga(wonEvent(), deps);
    expect([started.length, amendments.length]).toEqual([1, 0]);
  });

  it('treats a second event for the same deal version as already started', async () => {
    const { deps, started } = world();
    await startDealSaga(wonEvent(), deps);
    expect(await startDealSaga(wonEvent(undefined, 'evt_won_2'), deps)).toMatchObject({
      outcome: 'already-started',
    });
    expect(started).toHaveLength(1);
    expect(await startDealSaga(wonEvent('2026-04-01T00:00:00.000+0000', 'evt_won_3'), deps)).toMatchObject({
      outcome: 'started',
    });
  });

  it("runs an operator's replay of a failed saga's event as a new execution with a version of its own", async () => {
    const { deps, started } = world();
    await startDealSaga(wonEvent(), deps);
    const replayed = await startDealSaga(wonEvent(undefined, 'evt_won_1-replay-1'), deps);
    const version = '2026-03-01T10:00:00.000+0000~replay-1';
    expect(replayed).toEqual({
      outcome: 'started',
      executionName: executionName({ crm: 'hubspot', dealId: '1234567' }, version),
    });
    // The saga's Stripe idempotency keys derive from the event's version: new ones for the replay.
    expect(JSON.parse(started[1]?.input ?? '{}').event.data.version).toBe(version);
    expect(idempotencyKey(deal(), version)).not.toBe(idempotencyKey(deal(), '2026-03-01T10:00:00.000+0000'));
    expect(await startDealSaga(wonEvent(undefined, 'evt_won_1-replay-2'), deps)).toMatchObject({
      outcome: 'started',
    });
    expect(started).toHaveLength(3);
  });

  it('ignores a replay once the deal is activated (the ids a saga writes back last are there)', async () => {
    const activated = deal({
      existing: {
        billingCustomerId: 'cus_1',
        subscriptionId: 'sub_1',
        erpCustomerId: '7',
        salesOrderId: '8',
      },
    });
    const { deps, started } = world(activated);
    expect(await startDealSaga(wonEvent(undefined, 'evt_won_1-replay-2'), deps)).toEqual({
      outcome: 'ignored',
      reason: 'already-activated',
    });
    expect(started).toEqual([]);
    // A new version of the deal still starts its saga (it reuses what the deal points at).
    expect(await startDealSaga(wonEvent('2026-04-01T00:00:00.000+0000'), deps)).toMatchObject({
      outcome: 'started',
    });
  });

  it('ignores a deal the CRM says is not won (any more), or does not have', async () => {
    const reopened = world(deal({ isWon: false, stage: 'contractsent' }));
    expect(await startDealSaga(wonEvent(), reopened.deps)).toEqual({ outcome: 'ignored', reason: 'not-won' });
    expect(reopened.started).toEqual([]);
    const gone = world(null);
    expect(await startDealSaga(wonEvent(), gone.deps)).toEqual({ outcome: 'ignored', reason: 'not-found' });
  });

  it('lets a transient CRM failure go back to the queue', async () => {
    const { deps, exceptions } = world(
      new TransientError('HubSpot read deals answered 429', { code: 'RATE_LIMITS' }),
    );
    await expect(startDealSaga(wonEvent(), deps)).rejects.toMatchObject({ name: 'TransientError' });
    expect(exceptions).toEqual([]);
  });

  // The consumer opens the exception for a permanent failure (test/unit/event-consumer.test.ts).
  it('throws for the consumer to report when the CRM refuses the read for good, starting nothing', async () => {
    const { deps, exceptions, published, started } = world(
      new PermanentError('deal 1234567 has no associated company', { code: 'DealHasNoAccount' }),
    );
    await expect(startDealSaga(wonEvent(), deps)).rejects.toMatchObject({
      name: 'PermanentError',
      code: 'DealHasNoAccount',
    });
    expect(exceptions).toEqual([]);
    expect(published).toEqual([]);
    expect(started).toEqual([]);
  });
});

describe('the names of a saga run', () => {
  const sf = { crm: 'salesforce' as const, dealId: '006000000000001AAA' };

  it('gives a valid, deterministic execution name of at most 80 characters', () => {
    const name = executionName(sf, '2026-03-01T10:00:00.000+0000');
    expect(isValidName(name)).toBe(true);
    expect(name).toBe(executionName(sf, '2026-03-01T10:00:00.000+0000'));
    expect(name).toMatch(/^sf-006000000000001AAA-20260301100000000-[0-9a-f]{20}$/);
    const long = executionName({ crm: 'hubspot', dealId: 'x'.repeat(200) }, `${'9'.repeat(100)}:/ #`);
    expect(long.length).toBeLessThanOrEqual(80);
    expect(isValidName(long)).toBe(true);
  });

  it('never gives two versions the same name, even when they differ only in characters it drops', () => {
    expect(executionName(sf, '2026-03-01T10:00:00.000Z')).not.toBe(
      executionName(sf, '2026-03-01T10-00-00.000Z'),
    );
    expect(executionName(sf, '1')).not.toBe(executionName({ ...sf, crm: 'hubspot' }, '1'));
  });

  it('derives the Stripe keys and the NetSuite external ids from the deal', () => {
    expect(idempotencyKey(sf, 'v1')).toBe(idempotencyKey(sf, 'v1'));
    expect(idempotencyKey(sf, 'v1')).not.toBe(idempotencyKey(sf, 'v2'));
    expect(salesOrderExternalId(sf)).toBe('salesforce-006000000000001AAA');
    expect(salesOrderExternalId({ crm: 'hubspot', dealId: 'a/b c' })).toMatch(/^[A-Za-z0-9_-]+$/);
  });
});

describe('StartExecution through the SDK', () => {
  const sfn = mockClient(SFNClient);
  afterEach(() => sfn.reset());
  const named = (name: string) => Object.assign(new Error(name), { name });

  it('starts the named execution with the input', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    const start = stepFunctionsStarter(new SFNClient({ region: 'us-east-1' }), 'arn:sm');
    expect(await start('n1', '{}')).toBe('started');
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({
      stateMachineArn: 'arn:sm',
      name: 'n1',
      input: '{}',
    });
  });

  it('counts ExecutionAlreadyExists as already started', async () => {
    sfn.on(StartExecutionCommand).rejects(named('ExecutionAlreadyExists'));
    const start = stepFunctionsStarter(new SFNClient({ region: 'us-east-1' }), 'arn:sm');
    expect(await start('n1', '{}')).toBe('already-started');
  });

  it('classifies a refused request as permanent and anything else as transient', async () => {
    const start = stepFunctionsStarter(new SFNClient({ region: 'us-east-1' }), 'arn:sm');
    sfn.on(StartExecutionCommand).rejects(named('InvalidName'));
    await expect(start('n1', '{}')).rejects.toMatchObject({ name: 'PermanentError', code: 'InvalidName' });
    sfn.on(StartExecutionCommand).rejects(named('ThrottlingException'));
    await expect(start('n1', '{}')).rejects.toMatchObject({
      name: 'TransientError',
      code: 'ThrottlingException',
    });
  });
});
