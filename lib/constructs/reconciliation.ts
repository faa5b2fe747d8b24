import { CfnOutput, Duration } from 'aws-cdk-lib';
import { type Alarm, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/contracts/env';
import { businessAlarm, businessMetric } from './alarms';
import { EventFlow, type FlowPlatform } from './event-flow';
import { RevbridgeFunction } from './revbridge-function';
import { SecureTable } from './secure-table';

export interface ReconciliationProps {
  readonly platform: FlowPlatform;
  /** The stage's `reconciliation` section. */
  readonly config: {
    readonly scheduleMinutes: number;
    readonly windowDays: number;
    readonly settleMinutes: number;
    readonly creditMemos: boolean;
    readonly erpConcurrency: number;
  };
  /** ISO code → NetSuite currency internal id, to read ERP amounts back. */
  readonly currencyIds: Readonly<Record<string, string>>;
  /** The Stripe account re-driven events name as their source (`acct_...`). */
  readonly stripeAccountId: string;
  /** The Salesforce org re-driven deal events name as their source. */
  readonly salesforceOrgId: string;
  /** Internal values of the HubSpot deal stages that count as won (Salesforce says `IsWon` itself). */
  readonly hubspotWonStages: readonly string[];
  /**
   * A run's Lambda budget; a window that takes longer continues from its checkpoint on the next call.
   * @default 15 minutes (Lambda's maximum)
   */
  readonly timeout?: Duration;
}

/** The feature folder of the scheduled function; its metrics carry this `service` dimension. */
const FEATURE = 'reconcile';

/**
 * Flow 6: a scheduled function that compares billing with the ERP for a window (its input names one
 * on demand: `{"from": "...", "to": "..."}`), keeping its place in a checkpoint table; every difference
 * is a metric by kind and an exception whose stored event, replayed, reaches the re-drive flow, which
 * re-fetches billing's current state and puts a fresh canonical event on the bus. The alarm fires while
 * the last run's differences are open.
 */
export class Reconciliation extends Construct {
  readonly fn: RevbridgeFunction;
  readonly redrive: EventFlow;
  readonly openDifferencesAlarm: Alarm;

  constructor(scope: Construct, id: string, props: ReconciliationProps) {
    super(scope, id);
    const platform = props.platform.props;
    const { config } = props;

    // A handful of small items (a cursor and counters per run): nothing to retain.
    const checkpoints = new SecureTable(this, 'Checkpoints', { retain: false });
    // The differences still open, re-checked by every run: rebuilt by the next runs if lost.
    const openDifferences = new SecureTable(this, 'OpenDifferences', { retain: false });

    this.fn = new RevbridgeFunction(this, 'Function', {
      feature: FEATURE,
      logRetention: platform.logRetention,
      timeout: props.timeout ?? Duration.minutes(15),
      memorySize: 512,
      environment: {
        ...platform.stripe.environment,
        // Won deals are listed in the CRMs and re-read there when re-checked.
        ...platform.crm.environment,
        [ENV.HUBSPOT_WON_STAGES]: props.hubspotWonStages.join(','),
        [ENV.OPEN_DIFFERENCES_TABLE_NAME]: openDifferences.tableName,
        [ENV.CHECKPOINT_TABLE_NAME]: checkpoints.tableName,
        [ENV.RECONCILIATION_CONFIG]: JSON.stringify(config),
      },
    });
    // NetSuite's environment and credentials, and the account's leases: reconciliation holds at most
    // `erpConcurrency` of them, so it shares the account's limit with the flows instead of adding to it.
    props.platform.grantNetSuite(this.fn, { currencyIds: props.currencyIds });
    for (const secret of [...platform.stripe.secrets, ...platform.crm.secrets]) secret.grantRead(this.fn);
    checkpoints.grant(this.fn, 'dynamodb:GetItem', 'dynamodb:PutItem');
    openDifferences.grant(this.fn, 'dynamodb:PutItem', 'dynamodb:Scan', 'dynamodb:DeleteItem');
    platform.links.bind(this.fn, 'read');
    platform.exceptions.bind(this.fn);
    // It closes the exceptions of differences that went away, and reads whether a person resolved one.
    platform.exceptions.grantResolve(this.fn);
    platform.exceptions.table.grant(this.fn, 'dynamodb:GetItem');
    platform.backbone.grantPublish(this.fn);

    new Rule(this, 'Schedule', {
      description: 'Scheduled reconciliation of billing against the ERP',
      schedule: Schedule.rate(Duration.minutes(config.scheduleMinutes)),
      targets: [
        // Delivery is retried like every rule target's; what is not delivered lands in the bus's target DLQ.
        new LambdaFunction(this.fn, {
          event: RuleTargetInput.fromObject({ scheduled: true }),
          deadLetterQueue: platform.backbone.targetDlq,
          maxEventAge: Duration.hours(24),
          retryAttempts: 185,
        }),
      ],
    });

    this.redrive = new EventFlow(this, 'Redrive', {
      platform: props.platform,
      feature: 'redrive-difference',
      description: 'Replayed reconciliation differences to the re-drive flow',
      events: { sources: ['revbridge.revbridge'], detailTypes: ['ops.reconciliation.difference'] },
      stripe: true,
      // Won-deal differences re-read the deal from its CRM.
      crm: true,
      links: 'readwrite',
      environment: {
        [ENV.STRIPE_ACCOUNT_ID]: props.stripeAccountId,
        [ENV.SALESFORCE_ORG_ID]: props.salesforceOrgId,
      },
    });
    // The re-drive forgets the stale link of the record it re-posts (and nothing else).
    platform.links.table.grant(this.redrive.fn, 'dynamodb:DeleteItem');

    const open = businessMetric(FEATURE, 'ReconciliationOpenDifferences', 'Maximum').with({
      period: Duration.minutes(Math.max(5, config.scheduleMinutes)),
    });
    this.openDifferencesAlarm = businessAlarm(this, 'OpenDifferencesAlarm', {
      description:
        'Differences between the CRM, billing and the ERP are still open after the last reconciliation run (each run re-checks them and closes those gone): `revbridge exceptions list --flow reconcile` shows them, `revbridge exceptions replay <id>` re-drives one.',
      metric: open,
      threshold: 1,
      // The metric is what stays open after each run (every run re-checks the open differences): a
      // period without a run keeps the last run's verdict, so the alarm stays on until they are closed.
      treatMissingData: TreatMissingData.IGNORE,
    });
    props.platform.addGraph({
      title: 'Reconciliation',
      metrics: [
        open,
        businessMetric(FEATURE, 'ReconciliationInvoicesCompared', 'Sum').with({
          period: Duration.minutes(Math.max(5, config.scheduleMinutes)),
        }),
      ],
    });

    // What the operator CLI (`revbridge reconcile --from --to`) invokes.
    new CfnOutput(this, 'FunctionName', {
      key: 'ReconciliationFunctionName',
      value: this.fn.functionName,
      description: 'Reconciliation function: invoke with {"from": ISO time, "to": ISO time}',
    });
    new CfnOutput(this, 'FunctionArn', { key: 'ReconciliationFunctionArn', value: this.fn.functionArn });
  }
}
