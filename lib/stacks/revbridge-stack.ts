import * as path from 'node:path';
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/contracts/env';
import type { StageConfig } from '../config';
import { exceptionOpened } from '../constructs/alarms';
import { BusinessDashboard } from '../constructs/business-dashboard';
import { ConcurrencyLeases } from '../constructs/concurrency-leases';
import { EventBackbone } from '../constructs/event-backbone';
import { EventFlow, FlowPlatform } from '../constructs/event-flow';
import { ExceptionsTable } from '../constructs/exceptions-table';
import { IdempotencyTable } from '../constructs/idempotency-table';
import { LinksTable } from '../constructs/links-table';
import { OperatorOutputs } from '../constructs/operator-outputs';
import { Reconciliation } from '../constructs/reconciliation';
import { RevbridgeFunction } from '../constructs/revbridge-function';
import { vendorSecrets } from '../constructs/vendor-secrets';
import { WebhookApi } from '../constructs/webhook-api';
import { Workflow } from '../constructs/workflow';
import {
  crmEnvironment,
  dunningMapping,
  netsuiteMappings,
  subscriptionSyncMapping,
} from '../vendor-environment';

const STATE_MACHINES = path.join(__dirname, '..', '..', 'statemachines');

export interface RevbridgeStackProps extends StackProps {
  readonly config: StageConfig;
}

/**
 * Composition only: every architectural job lives in its construct. The stack reads as the shared parts,
 * the webhook routes, then the flows, one construct each, and the dashboard last.
 */
export class RevbridgeStack extends Stack {
  /** Every queue-consumer flow of the stack (the reconciliation's re-drive too), in the order made. */
  readonly flows: readonly EventFlow[];

  constructor(scope: Construct, id: string, props: RevbridgeStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = config.logRetentionDays as RetentionDays;

    const backbone = new EventBackbone(this, 'Events', {
      busName: `revbridge-${config.stage}`,
      archiveRetention: Duration.days(config.archiveRetentionDays),
      retain: config.retainData,
    });
    const idempotency = new IdempotencyTable(this, 'Idempotency', { retain: config.retainData });
    const links = new LinksTable(this, 'Links');
    const exceptions = new ExceptionsTable(this, 'Exceptions');

    const {
      stripeWebhookSecret,
      netsuiteCredentials,
      hubspotClientSecret,
      stripeApiKey,
      salesforceAccessToken,
      hubspotAccessToken,
      salesforcePathToken,
    } = vendorSecrets(this);

    const webhooks = new WebhookApi(this, 'Webhooks', {
      rateLimit: config.webhooks.rateLimit,
      burstLimit: config.webhooks.burstLimit,
      logRetention,
    });

    /** A vendor's webhook route: its ingest function may read its secrets and publish, nothing else. */
    const vendorIngest = (
      id: string,
      vendor: string,
      environment: Record<string, string>,
      secrets: readonly Secret[] = [],
      route: { pathToken?: boolean } = {},
    ) => {
      const fn = new RevbridgeFunction(this, id, {
        feature: `ingest-${vendor}`,
        logRetention,
        timeout: Duration.seconds(10),
        environment: { ...environment, [ENV.MAX_BODY_BYTES]: String(config.webhooks.maxBodyBytes) },
      });
      for (const secret of secrets) secret.grantRead(fn);
      backbone.grantPublish(fn);
      webhooks.addVendor(vendor, fn, route);
      return fn;
    };

    // What each flow is told of NetSuite; lib/config.ts checked it against the handlers' schemas.
    const netsuiteMapping = netsuiteMappings(config);
    vendorIngest(
      'IngestStripe',
      'stripe',
      {
        [ENV.STRIPE_ACCOUNT_ID]: config.stripe.accountId,
        [ENV.STRIPE_WEBHOOK_SECRET_ID]: stripeWebhookSecret.secretArn,
      },
      [stripeWebhookSecret],
    );
    // CRM ingress: won deals become `crm.deal.won` on the bus.
    vendorIngest(
      'IngestSalesforce',
      'salesforce',
      {
        [ENV.SALESFORCE_ORG_ID]: config.salesforce.orgId,
        [ENV.SALESFORCE_WON_STAGES]: config.salesforce.wonStages.join(','),
        [ENV.SALESFORCE_PATH_TOKEN_SECRET_ID]: salesforcePathToken.secretArn,
      },
      [salesforcePathToken],
      { pathToken: true },
    );
    vendorIngest(
      'IngestHubspot',
      'hubspot',
      {
        [ENV.HUBSPOT_CLIENT_SECRET_ID]: hubspotClientSecret.secretArn,
        [ENV.HUBSPOT_WEBHOOK_BASE_URL]: config.hubspot.webhookBaseUrl ?? webhooks.publicBaseUrl,
        [ENV.HUBSPOT_WON_STAGES]: config.hubspot.wonStages.join(','),
      },
      [hubspotClientSecret],
    );

    const platform = new FlowPlatform({
      logRetention,
      backbone,
      idempotency,
      links,
      exceptions,
      queues: {
        maxReceiveCount: config.queues.maxReceiveCount,
        batchSize: config.queues.batchSize,
        maxMessageAge: Duration.seconds(config.queues.maxMessageAgeSeconds),
      },
      netsuite: {
        environment: (mapping) => ({
          [ENV.NETSUITE_BASE_URL]: config.netsuite.baseUrl,
          [ENV.NETSUITE_TIMEOUT_MS]: String(config.netsuite.timeoutMs),
          [ENV.NETSUITE_SECRET_ID]: netsuiteCredentials.secretArn,
          [ENV.NETSUITE_MAPPING]: JSON.stringify(mapping),
        }),
        secrets: [netsuiteCredentials],
        // Every function that calls NetSuite holds a lease while it does: together, within the limit.
        concurrencyLimit: config.netsuite.concurrencyLimit,
        leases: new ConcurrencyLeases(this, 'ConcurrencyLeases'),
      },
      stripe: {
        environment: {
          [ENV.STRIPE_API_BASE_URL]: config.stripe.apiBaseUrl,
          [ENV.STRIPE_API_KEY_SECRET_ID]: stripeApiKey.secretArn,
          [ENV.STRIPE_TIMEOUT_MS]: String(config.stripe.timeoutMs),
        },
        secrets: [stripeApiKey],
      },
      crm: {
        environment: crmEnvironment(config, {
          salesforceAccessToken: salesforceAccessToken.secretArn,
          hubspotAccessToken: hubspotAccessToken.secretArn,
        }),
        secrets: [salesforceAccessToken, hubspotAccessToken],
      },
    });

    // Flow 2, invoice finalized → ERP receivable.
    new EventFlow(this, 'PostInvoice', {
      platform,
      feature: 'post-invoice',
      description: 'Finalized billing invoices to the ERP posting consumer',
      events: { sources: ['revbridge.stripe'], detailTypes: ['billing.invoice.finalized'] },
      ruleId: 'InvoiceFinalizedRule',
      netsuite: { mapping: netsuiteMapping.document },
      links: 'readwrite',
      alarms: [
        {
          id: 'InvoicePostingFailedAlarm',
          description: exceptionOpened('An invoice could not be posted to the ERP'),
          metricName: 'InvoicePostingFailed',
          threshold: 1,
        },
        {
          id: 'SyncLatencyAlarm',
          description: `Invoices take longer than ${config.syncLatencyObjectiveSeconds} s (p99) to reach the ERP.`,
          metricName: 'SyncLatency',
          statistic: 'p99',
          threshold: config.syncLatencyObjectiveSeconds * 1000,
          evaluationPeriods: 2,
          above: true,
        },
      ],
      graphs: [
        { title: 'Invoices posted to the ERP', metrics: ['InvoicesPosted', 'InvoicePostingFailed'] },
        {
          title: 'Invoice sync latency (ms)',
          metrics: [
            { name: 'SyncLatency', statistic: 'p50' },
            { name: 'SyncLatency', statistic: 'p99' },
          ],
        },
      ],
    });

    // Flow 3, invoice paid → cash application: a customer payment applied to the posted ERP invoice.
    new EventFlow(this, 'ApplyPayment', {
      platform,
      feature: 'apply-payment',
      description: 'Paid billing invoices to the ERP cash application consumer',
      events: { sources: ['revbridge.stripe'], detailTypes: ['billing.invoice.paid'] },
      ruleId: 'InvoicePaidRule',
      netsuite: { mapping: netsuiteMapping.payment },
      links: 'readwrite',
      // A payment may have to wait for its invoice to be posted (3 s doubling per receive): ten
      // receives give it ~25 minutes before the DLQ.
      maxReceiveCount: Math.max(config.queues.maxReceiveCount, 10),
      alarms: [
        {
          id: 'PaymentApplicationFailedAlarm',
          description: exceptionOpened('A payment could not be applied in the ERP'),
          metricName: 'PaymentApplicationFailed',
          threshold: 1,
        },
      ],
      graphs: [
        {
          title: 'Payments applied in the ERP',
          metrics: ['PaymentsApplied', 'PaymentApplicationFailed', { name: 'SyncLatency', statistic: 'p99' }],
        },
      ],
    });

    /**
     * A saga: one steps function for all its steps (why one: lambdas/quote-to-cash/handler.ts), with
     * the vendor secrets, links, exceptions and bus its steps use, and its Standard workflow from
     * `statemachines/<feature>.asl.json`.
     */
    const saga = (
      id: string,
      feature: string,
      netsuiteMapping: Readonly<Record<string, unknown>>,
      environment: Record<string, string>,
    ) => {
      const steps = new RevbridgeFunction(this, `${id}Steps`, {
        feature,
        logRetention,
        // A step makes up to three vendor calls of at most `timeoutMs` each; the Task times out at 75 s.
        timeout: Duration.seconds(60),
        memorySize: 512,
        environment: {
          ...platform.props.crm.environment,
          ...platform.props.stripe.environment,
          ...environment,
        },
      });
      platform.grantNetSuite(steps, netsuiteMapping);
      for (const secret of [stripeApiKey, salesforceAccessToken, hubspotAccessToken]) secret.grantRead(steps);
      links.bind(steps, 'readwrite');
      exceptions.bind(steps);
      backbone.grantPublish(steps);
      return new Workflow(this, id, {
        workflowName: feature,
        definitionFile: path.join(STATE_MACHINES, `${feature}.asl.json`),
        functions: { StepsFunctionArn: steps },
        bus: backbone.bus,
        logRetention,
      });
    };
    // Flow 4, payment failed → dunning signal: the customer's CRM account flagged, one exception per
    // invoice, both cleared when the invoice is paid. Both event types share one queue, so one flow
    // owns a customer's dunning state (kept in the links table, with conditional writes).
    const { dunning } = config;
    const flagDunning = new EventFlow(this, 'FlagDunning', {
      platform,
      feature: 'flag-dunning',
      description: 'Failed and paid billing invoices to the dunning consumer (CRM flag and exception)',
      events: {
        sources: ['revbridge.stripe'],
        detailTypes: ['billing.payment.failed', 'billing.invoice.paid'],
      },
      crm: true,
      links: 'readwrite',
      timeout: Duration.seconds(30),
      environment: { [ENV.DUNNING_MAPPING]: JSON.stringify(dunningMapping(config)) },
      alarms: [
        {
          id: 'PaymentsFailedSpikeAlarm',
          description:
            'Many customer payments failed in 5 minutes: more likely a card processor or billing problem than the customers. Each failing invoice has an open exception and a flag on its CRM account.',
          metricName: 'PaymentsFailed',
          threshold: dunning.paymentsFailedSpike,
        },
      ],
      graphs: [
        { title: 'Dunning: payments failed and recovered', metrics: ['PaymentsFailed', 'PaymentsRecovered'] },
        {
          title: 'Dunning: amount at risk and recovered (minor units)',
          metrics: ['AmountAtRisk', 'AmountRecovered'],
        },
      ],
    });
    // It resolves the exceptions it opened once their invoice is paid.
    exceptions.grantResolve(flagDunning.fn);

    // Flow 5a, credit note → ERP credit memo: created from and applied to the posted ERP invoice; a
    // voided credit note voids the memo. Stripe is read for the products of the invoice lines credited.
    new EventFlow(this, 'PostCreditMemo', {
      platform,
      feature: 'post-credit-memo',
      description: 'Billing credit notes to ERP credit memos',
      events: {
        sources: ['revbridge.stripe'],
        detailTypes: ['billing.credit_note.created', 'billing.credit_note.voided'],
      },
      netsuite: { mapping: netsuiteMapping.document },
      stripe: true,
      links: 'readwrite',
      // A credit note may wait for its invoice, a void for its memo (3 s doubling per receive): ten
      // receives give it ~25 minutes before the DLQ.
      maxReceiveCount: Math.max(config.queues.maxReceiveCount, 10),
      alarms: [
        {
          id: 'CreditMemoPostingFailedAlarm',
          description: exceptionOpened('A credit note could not be posted or voided in the ERP'),
          metricName: 'CreditMemoPostingFailed',
          threshold: 1,
        },
      ],
      graphs: [
        {
          title: 'Credit memos in the ERP',
          metrics: ['CreditMemosPosted', 'CreditMemosVoided', 'CreditMemoPostingFailed'],
        },
      ],
    });

    // Flow 1, deal won → contract activated: a Standard workflow per deal version.
    const q2c = config.quoteToCash;
    const quoteToCash = saga('QuoteToCash', 'quote-to-cash', netsuiteMapping.saga, {
      [ENV.QUOTE_TO_CASH_MAPPING]: JSON.stringify(q2c),
    });

    // Flow 7, a won amendment or upsell of an active contract → subscription items and sales order
    // changed. The sales order change reads and writes lines only: no NetSuite mapping beyond the catalog.
    const amendContract = saga(
      'AmendContract',
      'amend-contract',
      {},
      {
        [ENV.QUOTE_TO_CASH_MAPPING]: JSON.stringify(q2c),
        [ENV.AMENDMENT_PRORATION_BEHAVIOR]: config.amendment.prorationBehavior,
      },
    );

    // The starter reads the deal from its CRM (one read per message; won deals are rare, so the CRMs'
    // API limits are never close) and starts one saga per deal version.
    const startDealSaga = new EventFlow(this, 'StartDealSaga', {
      platform,
      feature: 'start-deal-saga',
      description: 'Won CRM deals to the saga starter (quote-to-cash, or the amendment saga)',
      events: { sources: ['revbridge.salesforce', 'revbridge.hubspot'], detailTypes: ['crm.deal.won'] },
      ruleId: 'DealWonRule',
      crm: true,
      timeout: Duration.seconds(30),
      environment: {
        [ENV.STATE_MACHINE_ARN]: quoteToCash.stateMachine.stateMachineArn,
        [ENV.AMENDMENT_STATE_MACHINE_ARN]: amendContract.stateMachine.stateMachineArn,
      },
    });
    quoteToCash.stateMachine.grantStartExecution(startDealSaga.fn);
    amendContract.stateMachine.grantStartExecution(startDealSaga.fn);

    // Flow 5, subscription changed or canceled → ERP sales order change, CRM status and contract value.
    new EventFlow(this, 'SyncSubscription', {
      platform,
      feature: 'sync-subscription',
      description: 'Changed and canceled billing subscriptions to the sales order change consumer',
      events: {
        sources: ['revbridge.stripe'],
        detailTypes: ['billing.subscription.updated', 'billing.subscription.canceled'],
      },
      ruleId: 'SubscriptionChangedRule',
      // Sales orders are read and patched by external id: no mapping.
      netsuite: { mapping: {} },
      stripe: true,
      crm: true,
      links: 'read',
      environment: {
        [ENV.SUBSCRIPTION_SYNC_MAPPING]: JSON.stringify(subscriptionSyncMapping(config)),
      },
      alarms: [
        {
          id: 'SubscriptionSyncFailedAlarm',
          description: exceptionOpened('A subscription change could not be applied to the ERP sales order'),
          metricName: 'SubscriptionSyncFailed',
          threshold: 1,
        },
      ],
      graphs: [
        {
          title: 'Subscription changes in the ERP',
          metrics: ['SalesOrdersChanged', 'SubscriptionSyncFailed'],
        },
      ],
    });

    // Flow 6, reconciliation: scheduled, with its re-drive flow.
    new Reconciliation(this, 'Reconciliation', {
      platform,
      config: config.reconciliation,
      currencyIds: config.netsuite.currencyIds,
      stripeAccountId: config.stripe.accountId,
      salesforceOrgId: config.salesforce.orgId,
      hubspotWonStages: config.hubspot.wonStages,
    });

    this.flows = platform.flows;

    // Last: the dashboard shows every alarm created above.
    new BusinessDashboard(this, 'Business', {
      dashboardName: `revbridge-${config.stage}`,
      webhookVendors: ['stripe', 'salesforce', 'hubspot'],
      graphs: platform.graphs,
    });
    new OperatorOutputs(this, 'Operator');
  }
}
