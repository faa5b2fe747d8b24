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
  /** Failed payments (dunning) in 5 minutes that count as a spike. @default 20 */
  readonly paymentsFailedSpike?: number;
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
    const alarm = (
      alarmId: string,
      alarmDescription: string,
      metric: Metric,
      threshold: number,
      options: { evaluationPeriods?: number; above?: boolean } = {},
    ) =>
      new Alarm(this, alarmId, {
        alarmDescription,
        metric,
        threshold,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        comparisonOperator: options.above
          ? ComparisonOperator.GREATER_THAN_THRESHOLD
          : ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No data means nothing happened: a quiet night is not an alarm.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    const exceptionOpened = (what: string) =>
      `${what}: an exception is open in the exceptions table, with the event to replay once fixed.`;
    this.alarms = [
      alarm(
        'InvoicePostingFailedAlarm',
        exceptionOpened('An invoice could not be posted to the ERP'),
        businessMetric('post-invoice', 'InvoicePostingFailed', 'Sum'),
        1,
      ),
      alarm(
        'PaymentApplicationFailedAlarm',
        exceptionOpened('A payment could not be applied in the ERP'),
        businessMetric('apply-payment', 'PaymentApplicationFailed', 'Sum'),
        1,
      ),
      alarm(
        'SyncLatencyAlarm',
        `Invoices take longer than ${props.syncLatencyObjective.toSeconds()} s (p99) to reach the ERP.`,
        businessMetric('post-invoice', 'SyncLatency', 'p99'),
        props.syncLatencyObjective.toMilliseconds(),
        { evaluationPeriods: 2, above: true },
      ),
      alarm(
        'PaymentsFailedSpikeAlarm',
        'Many customer payments failed in 5 minutes: a card processor or billing problem rather than customers. Each failing invoice has an open exception and a flag on its CRM account.',
        businessMetric('flag-dunning', 'PaymentsFailed', 'Sum'),
        props.paymentsFailedSpike ?? 20,
      ),
      // Logical ids kept from the first release: the Stripe one has no vendor in its name.
      ...[
        ['RejectedWebhooksAlarm', 'stripe'],
        ['RejectedSalesforceWebhooksAlarm', 'salesforce'],
        ['RejectedHubspotWebhooksAlarm', 'hubspot'],
      ].map(([alarmId, vendor]) =>
        alarm(
          alarmId ?? '',
          `Many ${vendor} webhooks rejected (bad signature, org or body): a rotated secret or an attack.`,
          businessMetric(`ingest-${vendor}`, 'WebhooksRejected', 'Sum'),
          props.rejectedWebhookSpike ?? 10,
        ),
      ),
    ];

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
        title: 'Dunning',
        left: [
          businessMetric('flag-dunning', 'PaymentsFailed', 'Sum'),
          businessMetric('flag-dunning', 'PaymentsRecovered', 'Sum'),
        ],
        right: [
          businessMetric('flag-dunning', 'AmountAtRisk', 'Sum'),
          businessMetric('flag-dunning', 'AmountRecovered', 'Sum'),
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
        left: ['stripe', 'salesforce', 'hubspot'].flatMap((vendor) =>
          ['WebhooksAccepted', 'WebhooksRejected', 'WebhooksFailed'].map((name) =>
            businessMetric(`ingest-${vendor}`, name, 'Sum'),
          ),
        ),
        width: 24,
      }),
    );
  }
}
