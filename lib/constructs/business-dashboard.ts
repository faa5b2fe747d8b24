import { Alarm, AlarmStatusWidget, Dashboard, GraphWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { businessAlarm, businessMetric } from './alarms';
import type { FlowGraph } from './event-flow';

export { businessMetric } from './alarms';

export interface BusinessDashboardProps {
  /** @default 'revbridge' */
  readonly dashboardName?: string;
  /** Rejected webhooks in 5 minutes that count as a spike. @default 10 */
  readonly rejectedWebhookSpike?: number;
  /** The vendors whose webhooks are received, for the rejected-webhook alarms and the webhook graph. */
  readonly webhookVendors: readonly string[];
  /** The flows' graphs, collected by the flow platform. */
  readonly graphs: readonly FlowGraph[];
}

/**
 * The alarms finance and RevOps are paged by, and one dashboard with them and the flow metrics. It
 * shows every alarm of the stack (business, DLQ, queue age, workflow), found in the construct tree, so
 * none can be left off: create it last; synthesis fails if an alarm is created after it.
 */
export class BusinessDashboard extends Construct {
  /** The alarms this construct owns: the webhook ones (the flows own theirs). */
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: BusinessDashboardProps) {
    super(scope, id);
    // Logical ids kept from the first release: the Stripe one has no vendor in its name.
    const alarmIdOf = (vendor: string) =>
      vendor === 'stripe'
        ? 'RejectedWebhooksAlarm'
        : `Rejected${vendor[0]?.toUpperCase()}${vendor.slice(1)}WebhooksAlarm`;
    this.alarms = props.webhookVendors.map((vendor) =>
      businessAlarm(this, alarmIdOf(vendor), {
        description: `Many ${vendor} webhooks rejected (bad signature, org or body): a rotated secret or an attack.`,
        metric: businessMetric(`ingest-${vendor}`, 'WebhooksRejected', 'Sum'),
        threshold: props.rejectedWebhookSpike ?? 10,
      }),
    );

    const everyAlarm = () => scope.node.findAll().filter((construct) => construct instanceof Alarm);
    const shown = everyAlarm();
    this.node.addValidation({
      validate: () =>
        everyAlarm()
          .filter((alarm) => !shown.includes(alarm))
          .map((alarm) => `alarm ${alarm.node.path} was created after the dashboard and is not on it`),
    });

    const dashboard = new Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName ?? 'revbridge' });
    dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: shown, width: 24 }),
      ...props.graphs.map(
        (graph) => new GraphWidget({ title: graph.title, left: [...graph.metrics], width: 12 }),
      ),
      new GraphWidget({
        title: 'Webhooks',
        left: props.webhookVendors.flatMap((vendor) =>
          ['WebhooksAccepted', 'WebhooksRejected', 'WebhooksFailed'].map((name) =>
            businessMetric(`ingest-${vendor}`, name, 'Sum'),
          ),
        ),
        width: 24,
      }),
    );
  }
}
