import { Duration } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
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
}

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
        maxConcurrency: Math.max(2, props.maxConcurrency ?? 5),
      }),
    );
    // The function delays a redelivery to honour a vendor's Retry-After.
    props.fn.addEnvironment('QUEUE_URL', this.queue.queueUrl);
    this.queue.grant(props.fn, 'sqs:ChangeMessageVisibility');

    this.dlqAlarm = dlqNotEmptyAlarm(this, 'DlqAlarm', this.dlq, id);
    this.ageAlarm = oldestMessageAlarm(
      this,
      'AgeAlarm',
      this.queue,
      props.maxMessageAge ?? Duration.minutes(15),
      id,
    );
  }
}
