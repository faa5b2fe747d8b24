import type { InvokeResult, LambdaHost } from '../../local/runtime/lambda-host';
import { type SqsMappingSpec, SqsPoller } from '../../local/runtime/sqs-poller';
import { SqsEngine } from '../../local/sqs/engine';

interface SqsEvent {
  Records: { messageId: string; body: string; attributes: Record<string, string>; eventSourceARN: string }[];
}

/** A function that answers each batch with what `respond` says, and records what it was given. */
const fakeFunction = (respond: (event: SqsEvent) => InvokeResult) => {
  const batches: SqsEvent[] = [];
  const host = {
    async invoke(_name: string, event: unknown): Promise<InvokeResult> {
      batches.push(event as SqsEvent);
      return respond(event as SqsEvent);
    },
  };
  return { batches, host: host as unknown as LambdaHost };
};

const ok = (result: unknown): InvokeResult => ({ ok: true, result, durationMs: 1 });

const setup = (overrides: Partial<SqsMappingSpec> = {}) => {
  const sqs = new SqsEngine({ baseUrl: 'http://127.0.0.1:1' });
  sqs.createQueue('dlq');
  sqs.createQueue('work', {
    VisibilityTimeout: '0',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: sqs.describeQueue('dlq').arn, maxReceiveCount: 3 }),
  });
  const spec: SqsMappingSpec = {
    functionName: 'fn',
    queueArn: sqs.describeQueue('work').arn,
    batchSize: 10,
    maxConcurrency: 1,
    reportBatchItemFailures: true,
    maxBatchingWindowSeconds: 0,
    region: 'us-east-1',
    ...overrides,
  };
  return { sqs, spec };
};

const until = async (condition: () => boolean, what: string) => {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

const counts = (sqs: SqsEngine, name: string) => {
  const queue = sqs.snapshot().queues.find((q) => q.name === name);
  return { visible: queue?.visible ?? 0, inflight: queue?.inflight ?? 0 };
};

describe('the SQS event source mapping', () => {
  let pollers: SqsPoller[] = [];
  let engines: SqsEngine[] = [];
  const start = (poller: SqsPoller, sqs: SqsEngine) => {
    pollers.push(poller);
    engines.push(sqs);
    poller.start();
  };
  afterEach(async () => {
    await Promise.all(pollers.map((poller) => poller.stop()));
    for (const engine of engines) engine.close();
    pollers = [];
    engines = [];
  });

  it('leaves the messages in the queue while the mapping is disabled, and drains them once enabled', async () => {
    const { sqs, spec } = setup();
    const fn = fakeFunction(() => ok({ batchItemFailures: [] }));
    const poller = new SqsPoller(spec, sqs, fn.host);
    poller.setEnabled(false);
    start(poller, sqs);
    for (const body of ['a', 'b']) sqs.sendMessage('work', { body });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fn.batches).toEqual([]);
    expect(counts(sqs, 'work')).toEqual({ visible: 2, inflight: 0 });
    expect(poller.snapshot().enabled).toBe(false);
    poller.setEnabled(true);
    await until(() => counts(sqs, 'work').visible + counts(sqs, 'work').inflight === 0, 'the queue to drain');
    expect(fn.batches.flatMap((batch) => batch.Records.map((record) => record.body)).sort()).toEqual([
      'a',
      'b',
    ]);
  });

  it('delivers SQS events with Lambda’s record shape and deletes what succeeded', async () => {
    const { sqs, spec } = setup();
    for (const body of ['a', 'b', 'c']) sqs.sendMessage('work', { body });
    const fn = fakeFunction(() => ok({ batchItemFailures: [] }));
    start(new SqsPoller(spec, sqs, fn.host), sqs);
    await until(() => fn.batches.flatMap((batch) => batch.Records).length === 3, 'three records');
    await until(() => counts(sqs, 'work').visible + counts(sqs, 'work').inflight === 0, 'the queue to drain');
    const record = fn.batches[0]?.Records[0];
    expect(record).toMatchObject({
      eventSourceARN: spec.queueArn,
      attributes: { ApproximateReceiveCount: '1' },
    });
  });

  it('keeps only the records reported in batchItemFailures, which come back and reach the DLQ at maxReceiveCount', async () => {
    const { sqs, spec } = setup();
    sqs.sendMessage('work', { body: 'good' });
    sqs.sendMessage('work', { body: 'bad' });
    const fn = fakeFunction((event) =>
      ok({
        batchItemFailures: event.Records.filter((r) => r.body === 'bad').map((r) => ({
          itemIdentifier: r.messageId,
        })),
      }),
    );
    start(new SqsPoller(spec, sqs, fn.host), sqs);
    await until(() => counts(sqs, 'dlq').visible === 1, 'the failing record in the DLQ');
    const seen = fn.batches.flatMap((batch) => batch.Records.map((r) => r.body));
    expect(seen.filter((body) => body === 'good')).toHaveLength(1);
    expect(seen.filter((body) => body === 'bad')).toHaveLength(3);
    expect(counts(sqs, 'work')).toEqual({ visible: 0, inflight: 0 });
  });

  it('retries the whole batch when the function fails', async () => {
    const { sqs, spec } = setup();
    sqs.sendMessage('work', { body: 'x' });
    let calls = 0;
    const fn = fakeFunction(() => {
      calls += 1;
      return calls === 1
        ? { ok: false, error: { errorType: 'Error', errorMessage: 'boom', stack: [] }, durationMs: 1 }
        : ok(undefined);
    });
    start(new SqsPoller(spec, sqs, fn.host), sqs);
    await until(() => calls === 2, 'a second delivery');
    await until(() => counts(sqs, 'work').visible + counts(sqs, 'work').inflight === 0, 'the queue to drain');
    expect(fn.batches[1]?.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
  });

  it('treats a failure id it did not send as a failure of the whole batch, as Lambda does', async () => {
    const { sqs, spec } = setup();
    sqs.sendMessage('work', { body: 'x' });
    sqs.sendMessage('work', { body: 'y' });
    let calls = 0;
    const fn = fakeFunction(() => {
      calls += 1;
      return ok(calls === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-a-message-id' }] } : {});
    });
    start(new SqsPoller(spec, sqs, fn.host), sqs);
    await until(() => calls >= 2, 'a redelivery');
    expect(fn.batches[1]?.Records.map((r) => r.body).sort()).toEqual(['x', 'y']);
  });

  it('ignores batchItemFailures when the mapping does not report them, deleting the batch', async () => {
    const { sqs, spec } = setup({ reportBatchItemFailures: false });
    sqs.sendMessage('work', { body: 'x' });
    const fn = fakeFunction((event) =>
      ok({ batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) }),
    );
    start(new SqsPoller(spec, sqs, fn.host), sqs);
    await until(
      () => fn.batches.length === 1 && counts(sqs, 'work').visible + counts(sqs, 'work').inflight === 0,
      'the batch deleted',
    );
    expect(counts(sqs, 'dlq').visible).toBe(0);
  });

  it('never has more batches in flight than the maximum concurrency', async () => {
    const { sqs, spec } = setup({ maxConcurrency: 2, batchSize: 1 });
    for (let i = 0; i < 8; i += 1) sqs.sendMessage('work', { body: String(i) });
    let inFlight = 0;
    let peak = 0;
    let done = 0;
    const host = {
      async invoke(): Promise<InvokeResult> {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight -= 1;
        done += 1;
        return ok({});
      },
    } as unknown as LambdaHost;
    start(new SqsPoller(spec, sqs, host), sqs);
    await until(() => done === 8, 'eight batches');
    expect(peak).toBe(2);
  });

  const sendSpaced = async (sqs: SqsEngine, bodies: string[], gapMs: number) => {
    for (const body of bodies) {
      sqs.sendMessage('work', { body });
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
  };

  it('without a batching window, invokes with what the first receive returned', async () => {
    const { sqs, spec } = setup();
    const fn = fakeFunction(() => ok({}));
    start(new SqsPoller(spec, sqs, fn.host), sqs);
    await sendSpaced(sqs, ['a', 'b', 'c'], 150);
    await until(() => fn.batches.flatMap((batch) => batch.Records).length === 3, 'three records');
    expect(fn.batches.map((batch) => batch.Records.length)).toEqual([1, 1, 1]);
  });

  it('with a batching window, gathers what arrives within it into one batch', async () => {
    const { sqs, spec } = setup({ maxBatchingWindowSeconds: 1 });
    sqs.setQueueAttributes('work', { VisibilityTimeout: '30' });
    const invokedAt: number[] = [];
    const fn = fakeFunction(() => {
      invokedAt.push(Date.now());
      return ok({});
    });
    start(new SqsPoller(spec, sqs, fn.host), sqs);
    const firstSent = Date.now();
    await sendSpaced(sqs, ['a', 'b', 'c'], 150);
    await until(() => fn.batches.length === 1, 'one batch');
    expect(fn.batches[0]?.Records.map((record) => record.body)).toEqual(['a', 'b', 'c']);
    // Not before the window closed, which it did about a second after the first message came.
    expect((invokedAt[0] ?? 0) - firstSent).toBeGreaterThanOrEqual(900);
  });

  it('with a batching window, invokes as soon as the batch is full', async () => {
    const { sqs, spec } = setup({ maxBatchingWindowSeconds: 20, batchSize: 4 });
    sqs.setQueueAttributes('work', { VisibilityTimeout: '30' });
    const fn = fakeFunction(() => ok({}));
    start(new SqsPoller(spec, sqs, fn.host), sqs);
    const started = Date.now();
    await sendSpaced(sqs, ['a', 'b', 'c', 'd', 'e'], 50);
    await until(() => fn.batches.length === 1, 'a full batch');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(fn.batches[0]?.Records.map((record) => record.body)).toEqual(['a', 'b', 'c', 'd']);
  });
});
