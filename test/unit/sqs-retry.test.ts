import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';
import { receiveCountOf, redelivery, retryDelaySeconds } from '../../lambdas/shared/sqs-retry';

const record = (receiveCount?: string): SQSRecord =>
  ({
    messageId: 'm-1',
    receiptHandle: 'rh-1',
    body: '{}',
    attributes: receiveCount === undefined ? {} : { ApproximateReceiveCount: receiveCount },
  }) as unknown as SQSRecord;

describe('the retry delay of a failed message', () => {
  const policy = { baseSeconds: 10, maxSeconds: 100 };

  it('doubles the base delay per receive up to the ceiling', () => {
    const busy = new TransientError('busy', { code: 'Busy' });
    expect([1, 2, 3, 4, 5].map((n) => retryDelaySeconds(busy, n, policy))).toEqual([10, 20, 40, 80, 100]);
  });

  it('waits as long as the vendor asked, above the ceiling too', () => {
    const throttled = new TransientError('slow', { code: 'RateLimited', retryAfterSeconds: 300 });
    expect(retryDelaySeconds(throttled, 4, policy)).toBe(300);
  });

  it('backs off a throttle whose Retry-After is shorter, so receives are not spent in seconds', () => {
    const throttled = new TransientError('slow', { code: 'RATE_LIMITS', retryAfterSeconds: 1 });
    expect([1, 2, 3, 4, 5].map((n) => retryDelaySeconds(throttled, n, policy))).toEqual([
      10, 20, 40, 80, 100,
    ]);
    const longer = new TransientError('slow', { code: 'RATE_LIMITS', retryAfterSeconds: 15 });
    expect([1, 2].map((n) => retryDelaySeconds(longer, n, policy))).toEqual([15, 20]);
  });

  it('uses the first delay given for the error code', () => {
    const race = new TransientError('not yet', { code: 'LinkNotYetRecorded' });
    const withCodes = { ...policy, baseSecondsByCode: { LinkNotYetRecorded: 2 } };
    expect(retryDelaySeconds(race, 1, withCodes)).toBe(2);
    expect(retryDelaySeconds(race, 3, withCodes)).toBe(8);
  });

  it('comes back in two seconds for a duplicate already in progress, doubling per receive', () => {
    const inProgress = Object.assign(new Error('in progress'), { name: 'IdempotencyAlreadyInProgressError' });
    expect([1, 2, 3, 4, 9].map((n) => retryDelaySeconds(inProgress, n, policy))).toEqual([2, 4, 8, 16, 100]);
  });

  it('backs off an unknown error like a transient one, with a 900 s default ceiling', () => {
    expect(retryDelaySeconds(new Error('x'), 1, { baseSeconds: 5 })).toBe(5);
    expect(retryDelaySeconds(new PermanentError('x', { code: 'X' }), 20, { baseSeconds: 5 })).toBe(900);
  });

  it('reads the receive count, counting a record without one as its first receive', () => {
    expect(receiveCountOf(record('3'))).toBe(3);
    expect(receiveCountOf(record())).toBe(1);
  });
});

describe('redelivery', () => {
  const sqs = mockClient(SQSClient);
  afterEach(() => sqs.reset());

  it('hides the message for the delay, rounded up and within the SQS ceiling', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const redeliver = redelivery(new SQSClient({ region: 'us-east-1' }), 'https://q/url', () => {});
    await redeliver(record('1'), 2.5);
    await redeliver(record('1'), 100_000);
    await redeliver(record('1'), -3);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: 'https://q/url', ReceiptHandle: 'rh-1', VisibilityTimeout: 3 },
      { QueueUrl: 'https://q/url', ReceiptHandle: 'rh-1', VisibilityTimeout: 43_200 },
      { QueueUrl: 'https://q/url', ReceiptHandle: 'rh-1', VisibilityTimeout: 0 },
    ]);
  });

  it('reports a failed visibility change instead of throwing', async () => {
    const failure = Object.assign(new Error('gone'), { name: 'ReceiptHandleIsInvalid' });
    sqs.on(ChangeMessageVisibilityCommand).rejects(failure);
    const errors: unknown[] = [];
    const redeliver = redelivery(new SQSClient({ region: 'us-east-1' }), 'https://q/url', (e) =>
      errors.push(e),
    );
    await expect(redeliver(record('2'), 10)).resolves.toBeUndefined();
    expect(errors.map((e) => (e as Error).name)).toEqual(['ReceiptHandleIsInvalid']);
  });
});
