import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarm,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';

export interface BusinessDashboardProps {
  /** @default 'revbridge' */
  readonly dashboardName?: string;
  /** p99 of vendor-event-to-ERP-write latency above which the latency alarm fires. */
  readonly syncLatencyObjective: Duration;
  /** Rejected webhooks in 5 minutes that count as a spike. @default 10 */
  readonly rejectedWebhookSpike?: number;
  /** Platform alarms (DLQs, queue ages) shown beside the business ones. @default none */
  readonly platformAlarms?: readonly IAlarm[];
}

/** A metric the functions emit through Powertools (EMF), namespace `RevBridge`, dimension `service`. */
export const businessMetric = (service: string, metricName: string, statistic: string): Metric =>
  new Metric({
    namespace: 'RevBridge',
    metricName,
    dimensionsMap: { service },
    statistic,
    period: Duration.minutes(5),
  });

/** The alarms finance and RevOps are paged by, and one dashboard with them and the flow metrics. */
export class BusinessDashboard extends Construct {
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: BusinessDashboardProps) {
    super(scope, id);
    const postingFailed = new Alarm(this, 'InvoicePostingFailedAlarm', {
      alarmDescription:
        'An invoice could not be posted to the ERP: an exception is open in the exceptions table.',
      metric: businessMetric('post-invoice', 'InvoicePostingFailed', 'Sum'),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const latency = new Alarm(this, 'SyncLatencyAlarm', {
      alarmDescription: `Invoices take longer than ${props.syncLatencyObjective.toSeconds()} s (p99) to reach the ERP.`,
      metric: businessMetric('post-invoice', 'SyncLatency', 'p99'),
      threshold: props.syncLatencyObjective.toMilliseconds(),
      evaluationPeriods: 2,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const rejected = new Alarm(this, 'RejectedWebhooksAlarm', {
      alarmDescription: 'Many webhooks rejected (bad signature or body): a rotated secret or an attack.',
      metric: businessMetric('ingest-stripe', 'WebhooksRejected', 'Sum'),
      threshold: props.rejectedWebhookSpike ?? 10,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const paymentFailed = new Alarm(this, 'PaymentApplicationFailedAlarm', {
      alarmDescription:
        'A payment could not be applied in the ERP: an exception is open in the exceptions table.',
      metric: businessMetric('apply-payment', 'PaymentApplicationFailed', 'Sum'),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.alarms = [postingFailed, paymentFailed, latency, rejected];

    const dashboard = new Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName ?? 'revbridge' });
    dashboard.addWidgets(
      new AlarmStatusWidget({
        title: 'Alarms',
        alarms: [...this.alarms, ...(props.platformAlarms ?? [])],
        width: 24,
      }),
      new GraphWidget({
        title: 'Invoices and payments',
        left: [
          businessMetric('post-invoice', 'InvoicesPosted', 'Sum'),
          businessMetric('post-invoice', 'InvoicePostingFailed', 'Sum'),
          businessMetric('apply-payment', 'PaymentsApplied', 'Sum'),
          businessMetric('apply-payment', 'PaymentApplicationFailed', 'Sum'),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Sync latency (ms)',
        left: [
          businessMetric('post-invoice', 'SyncLatency', 'p50'),
          businessMetric('post-invoice', 'SyncLatency', 'p99'),
          businessMetric('apply-payment', 'SyncLatency', 'p99'),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Webhooks',
        left: [
          businessMetric('ingest-stripe', 'WebhooksAccepted', 'Sum'),
          businessMetric('ingest-stripe', 'WebhooksRejected', 'Sum'),
          businessMetric('ingest-stripe', 'WebhooksFailed', 'Sum'),
        ],
        width: 24,
      }),
    );
  }
}
