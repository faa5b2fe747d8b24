import { Duration, Token } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/contracts/env';
import { dlqNotEmptyAlarm, oldestMessageAlarm } from './alarms';

export interface QueueConsumerProps {
  /** The function that processes the queue's messages. */
  readonly fn: LambdaFunction;
  /** Receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** @default 10 */
  readonly batchSize?: number;
  /**
   * Concurrent invocations the queue may drive; bounds the load on the vendor behind the function.
   * @default 5
   */
  readonly maxConcurrency?: number;
  /** Oldest-message age that raises the age alarm. @default 15 minutes */
  readonly maxMessageAge?: Duration;
  /** What the queue carries, for the alarms' descriptions. @default the construct id */
  readonly description?: string;
}

/** Props a queue consumer cannot honour, each with its reason (empty when all can be). */
export const queueConsumerProblems = (props: QueueConsumerProps): string[] => {
  const problems: string[] = [];
  const within = (name: string, value: number | undefined, min: number, max: number, why: string) => {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} is ${value}: must be an integer from ${min} to ${max} (${why})`);
    }
  };
  within('maxConcurrency', props.maxConcurrency, 2, 1000, "Lambda's SQS maximum concurrency");
  within('batchSize', props.batchSize, 1, 10, 'a standard queue without a batching window');
  within('maxReceiveCount', props.maxReceiveCount, 1, 1000, 'SQS redrive policy');
  const timeout = props.fn.timeout?.toSeconds() ?? 3;
  if (timeout * 6 > 43_200) {
    problems.push(
      `the function timeout (${timeout} s) is too long: the visibility timeout (6x) must stay within 12 hours`,
    );
  }
  return problems;
};

/**
 * A queue, its DLQ and the function that drains it: partial batch failures, bounded concurrency,
 * visibility timeout six times the function timeout (AWS's advice, so a retried batch is not
 * redelivered while still running), 14-day retention everywhere, SSE and TLS-only, and alarms on the
 * DLQ's first message and on the oldest message's age.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 */
export class QueueConsumer extends Construct {
  readonly queue: Queue;
  readonly dlq: Queue;
  readonly dlqAlarm: Alarm;
  readonly ageAlarm: Alarm;

  constructor(scope: Construct, id: string, props: QueueConsumerProps) {
    super(scope, id);
    const problems = queueConsumerProblems(props);
    if (problems.length > 0) {
      throw new Error(
        `${this.node.path}: invalid queue consumer:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      );
    }
    const what = props.description ?? id;
    const timeout = props.fn.timeout ?? Duration.seconds(3);
    this.dlq = new Queue(this, 'Dlq', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new Queue(this, 'Queue', {
      retentionPeriod: Duration.days(14),
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
    props.fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency ?? 5,
      }),
    );
    // The function delays a redelivery to honour a vendor's Retry-After.
    props.fn.addEnvironment(ENV.QUEUE_URL, this.queue.queueUrl);
    this.queue.grant(props.fn, 'sqs:ChangeMessageVisibility');

    this.dlqAlarm = dlqNotEmptyAlarm(this, 'DlqAlarm', this.dlq, what);
    this.ageAlarm = oldestMessageAlarm(
      this,
      'AgeAlarm',
      this.queue,
      props.maxMessageAge ?? Duration.minutes(15),
      what,
    );
  }
}
