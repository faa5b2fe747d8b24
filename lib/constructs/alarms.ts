import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
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

/** A metric the functions emit through Powertools (EMF), namespace `RevBridge`, dimension `service`. */
export const businessMetric = (service: string, metricName: string, statistic: string): Metric =>
  new Metric({
    namespace: 'RevBridge',
    metricName,
    dimensionsMap: { service },
    statistic,
    period: Duration.minutes(5),
  });

/** A business alarm on a metric a function emits, described once for the dashboard and the flows. */
export interface BusinessAlarmSpec {
  /** What it means and what to do, as the on-call engineer reads it. */
  readonly description: string;
  readonly metric: Metric;
  readonly threshold: number;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** Fire above the threshold instead of at it. @default false */
  readonly above?: boolean;
  /** @default NOT_BREACHING: no data means nothing happened */
  readonly treatMissingData?: TreatMissingData;
}

export const businessAlarm = (scope: Construct, id: string, spec: BusinessAlarmSpec): Alarm =>
  new Alarm(scope, id, {
    alarmDescription: spec.description,
    metric: spec.metric,
    threshold: spec.threshold,
    evaluationPeriods: spec.evaluationPeriods ?? 1,
    comparisonOperator: spec.above
      ? ComparisonOperator.GREATER_THAN_THRESHOLD
      : ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    // No data means nothing happened: a quiet night is not an alarm.
    treatMissingData: spec.treatMissingData ?? TreatMissingData.NOT_BREACHING,
  });

/** The description of an alarm on a flow's failures: `exceptionOpened('An invoice could not be posted')`. */
export const exceptionOpened = (what: string): string =>
  `${what}: an exception is open in the exceptions table, with the event to replay once fixed.`;
