import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Any message in a DLQ is a failure someone must see: alarm on the first one. */
export const dlqNotEmptyAlarm = (scope: Construct, id: string, dlq: IQueue, what: string): Alarm =>
  new Alarm(scope, id, {
    alarmDescription: `${what}: messages in the dead-letter queue. Inspect, fix the cause, then redrive.`,
    metric: dlq.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: 'Maximum',
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });

/** A queue whose oldest message keeps ageing is not being drained (throttled vendor, broken consumer). */
export const oldestMessageAlarm = (
  scope: Construct,
  id: string,
  queue: IQueue,
  maxAge: Duration,
  what: string,
): Alarm =>
  new Alarm(scope, id, {
    alarmDescription: `${what}: oldest message older than ${maxAge.toSeconds()} s.`,
    metric: queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
    threshold: maxAge.toSeconds(),
    evaluationPeriods: 3,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
