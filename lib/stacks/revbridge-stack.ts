import * as path from 'node:path';
import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { netsuiteConcurrencyShares, type StageConfig } from '../config';
import { BusinessDashboard } from '../constructs/business-dashboard';
import { EventBackbone } from '../constructs/event-backbone';
import { ExceptionsTable } from '../constructs/exceptions-table';
import { IdempotencyTable } from '../constructs/idempotency-table';
import { LinksTable } from '../constructs/links-table';
import { QueueConsumer } from '../constructs/queue-consumer';
import { RevbridgeFunction } from '../constructs/revbridge-function';
import { WebhookApi } from '../constructs/webhook-api';
import { Workflow } from '../constructs/workflow';

const STATE_MACHINES = path.join(__dirname, '..', '..', 'statemachines');

export interface RevbridgeStackProps extends StackProps {
  readonly config: StageConfig;
}

/** Composition only: every architectural job lives in its construct. */
export class RevbridgeStack extends Stack {
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

    // Values are set by the operator after the first deploy (see README); never in code or context.
    const stripeWebhookSecret = new Secret(this, 'StripeWebhookSecret', {
      description:
        'Stripe webhook signing secret: "whsec_..." or {"webhookSecrets":["whsec_new","whsec_old"]}',
    });
    const netsuiteCredentials = new Secret(this, 'NetSuiteCredentials', {
      description:
        'NetSuite token-based auth: {"accountId","consumerKey","consumerSecret","tokenId","tokenSecret"}',
    });
    const hubspotClientSecret = new Secret(this, 'HubSpotClientSecret', {
      description: 'HubSpot app client secret (signs webhooks): "..." or {"clientSecrets":["new","old"]}',
    });
    // API credentials of the quote-to-cash saga (write access to billing and the CRMs).
    const stripeApiKey = new Secret(this, 'StripeApiKey', {
      description: 'Stripe secret or restricted key for the saga: "rk_live_..." or {"apiKey":"..."}',
    });
    const salesforceAccessToken = new Secret(this, 'SalesforceAccessToken', {
      description: 'Salesforce access token of the integration user: "..." or {"accessToken":"..."}',
    });
    const hubspotAccessToken = new Secret(this, 'HubSpotAccessToken', {
      description: 'HubSpot private app token (crm.objects.deals/companies/line_items): "pat-..."',
    });
    // Salesforce outbound messages are not signed: their endpoint URL carries this token. Secrets
    // Manager generates it at deploy; the operator reads it once to configure the outbound message.
    const salesforcePathToken = new Secret(this, 'SalesforcePathToken', {
      description:
        'Token in the Salesforce outbound message URL (/webhooks/salesforce/<token>): generated; {"pathTokens":["new","old"]} while moving to a new one',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    for (const secret of [
      salesforcePathToken,
      stripeWebhookSecret,
      netsuiteCredentials,
      hubspotClientSecret,
      stripeApiKey,
      salesforceAccessToken,
      hubspotAccessToken,
    ]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SMG4',
        reason:
          'Vendor-issued credentials are rotated in the vendor console, then put here; the functions re-read them within 5 minutes.',
      });
    }

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
        environment: { ...environment, MAX_BODY_BYTES: String(config.webhooks.maxBodyBytes) },
      });
      for (const secret of secrets) secret.grantRead(fn);
      backbone.grantPublish(fn);
      webhooks.addVendor(vendor, fn, route);
      return fn;
    };

    /**
     * A queue consumer of one kind of canonical event: its queue and DLQ, the rule that feeds it, and
     * what every consumer may touch (idempotency records, exceptions, the bus).
     */
    const eventConsumer = (
      id: string,
      fn: RevbridgeFunction,
      route: { rule: string; sources: string[]; detailType: string; description: string },
      options: { maxConcurrency: number; maxReceiveCount?: number },
    ) => {
      idempotency.bind(fn);
      exceptions.bind(fn);
      backbone.grantPublish(fn);
      const consumer = new QueueConsumer(this, id, {
        fn,
        maxReceiveCount: options.maxReceiveCount ?? config.queues.maxReceiveCount,
        batchSize: config.queues.batchSize,
        maxConcurrency: options.maxConcurrency,
        maxMessageAge: Duration.seconds(config.queues.maxMessageAgeSeconds),
      });
      backbone.routeToQueue(
        route.rule,
        { source: route.sources, detailType: [route.detailType] },
        consumer.queue,
        route.description,
      );
      return consumer;
    };

    const netsuiteEnvironment = (mapping: Record<string, unknown>) => ({
      NETSUITE_BASE_URL: config.netsuite.baseUrl,
      NETSUITE_TIMEOUT_MS: String(config.netsuite.timeoutMs),
      NETSUITE_SECRET_ID: netsuiteCredentials.secretArn,
      NETSUITE_MAPPING: JSON.stringify(mapping),
    });
    const invoiceMapping = {
      subsidiaryId: config.netsuite.subsidiaryId,
      currencyIds: config.netsuite.currencyIds,
      productItemIds: config.netsuite.productItemIds,
      defaultItemId: config.netsuite.defaultItemId,
      taxItemId: config.netsuite.taxItemId,
      adjustmentItemId: config.netsuite.adjustmentItemId,
    };
    vendorIngest(
      'IngestStripe',
      'stripe',
      { STRIPE_ACCOUNT_ID: config.stripe.accountId, STRIPE_WEBHOOK_SECRET_ID: stripeWebhookSecret.secretArn },
      [stripeWebhookSecret],
    );
    // CRM ingress: won deals become `crm.deal.won` on the bus.
    vendorIngest(
      'IngestSalesforce',
      'salesforce',
      {
        SALESFORCE_ORG_ID: config.salesforce.orgId,
        SALESFORCE_WON_STAGES: config.salesforce.wonStages.join(','),
        SALESFORCE_PATH_TOKEN_SECRET_ID: salesforcePathToken.secretArn,
      },
      [salesforcePathToken],
      { pathToken: true },
    );
    vendorIngest(
      'IngestHubspot',
      'hubspot',
      {
        HUBSPOT_CLIENT_SECRET_ID: hubspotClientSecret.secretArn,
        HUBSPOT_WEBHOOK_BASE_URL: config.hubspot.webhookBaseUrl ?? webhooks.publicBaseUrl,
        HUBSPOT_WON_STAGES: config.hubspot.wonStages.join(','),
      },
      [hubspotClientSecret],
    );

    // Flows 2 and 3 share the NetSuite account's concurrency limit: each consumer gets its share, and
    // each invocation makes one NetSuite request at a time, so together they stay within the limit.
    const netsuiteShares = netsuiteConcurrencyShares(config.netsuite.concurrencyLimit);

    // Flow 2, invoice finalized → ERP receivable.
    const postInvoice = new RevbridgeFunction(this, 'PostInvoice', {
      feature: 'post-invoice',
      logRetention,
      timeout: Duration.seconds(60),
      environment: netsuiteEnvironment(invoiceMapping),
    });
    netsuiteCredentials.grantRead(postInvoice);
    links.bind(postInvoice, 'readwrite');
    const invoices = eventConsumer(
      'PostInvoiceConsumer',
      postInvoice,
      {
        rule: 'InvoiceFinalizedRule',
        sources: ['revbridge.stripe'],
        detailType: 'billing.invoice.finalized',
        description: 'Finalized billing invoices to the ERP posting consumer',
      },
      { maxConcurrency: netsuiteShares.postInvoice },
    );

    // Flow 3, invoice paid → cash application: a customer payment applied to the posted ERP invoice.
    const applyPayment = new RevbridgeFunction(this, 'ApplyPayment', {
      feature: 'apply-payment',
      logRetention,
      timeout: Duration.seconds(60),
      environment: netsuiteEnvironment({
        subsidiaryId: config.netsuite.subsidiaryId,
        currencyIds: config.netsuite.currencyIds,
      }),
    });
    netsuiteCredentials.grantRead(applyPayment);
    links.bind(applyPayment, 'readwrite');
    const payments = eventConsumer(
      'ApplyPaymentConsumer',
      applyPayment,
      {
        rule: 'InvoicePaidRule',
        sources: ['revbridge.stripe'],
        detailType: 'billing.invoice.paid',
        description: 'Paid billing invoices to the ERP cash application consumer',
      },
      // A payment may have to wait for its invoice to be posted (3 s doubling per receive): ten
      // receives give it ~25 minutes before the DLQ.
      {
        maxConcurrency: netsuiteShares.applyPayment,
        maxReceiveCount: Math.max(config.queues.maxReceiveCount, 10),
      },
    );

    // Flow 1, deal won → contract activated: a consumer starts one saga per deal version.
    const optional = (name: string, value: string | undefined) => (value ? { [name]: value } : {});
    const crmEnvironment = {
      SALESFORCE_INSTANCE_URL: config.salesforce.instanceUrl,
      SALESFORCE_ACCESS_TOKEN_SECRET_ID: salesforceAccessToken.secretArn,
      SALESFORCE_DEFAULT_CURRENCY: config.salesforce.defaultCurrency,
      ...optional('SALESFORCE_TAX_ID_FIELD', config.salesforce.accountTaxIdField),
      ...optional('SALESFORCE_EMAIL_FIELD', config.salesforce.accountEmailField),
      ...optional('SALESFORCE_SUBSIDIARY_FIELD', config.salesforce.subsidiaryField),
      HUBSPOT_BASE_URL: config.hubspot.apiBaseUrl,
      HUBSPOT_ACCESS_TOKEN_SECRET_ID: hubspotAccessToken.secretArn,
      HUBSPOT_DEFAULT_CURRENCY: config.hubspot.defaultCurrency,
      ...optional('HUBSPOT_TAX_ID_PROPERTY', config.hubspot.companyTaxIdProperty),
      ...optional('HUBSPOT_EMAIL_PROPERTY', config.hubspot.companyEmailProperty),
      ...optional('HUBSPOT_SUBSIDIARY_PROPERTY', config.hubspot.subsidiaryProperty),
    };
    const q2c = config.quoteToCash;
    const sagaSteps = new RevbridgeFunction(this, 'QuoteToCashSteps', {
      feature: 'quote-to-cash',
      logRetention,
      // A step makes up to three vendor calls of at most `timeoutMs` each; the Task times out at 75 s.
      timeout: Duration.seconds(60),
      memorySize: 512,
      environment: {
        ...crmEnvironment,
        STRIPE_API_BASE_URL: config.stripe.apiBaseUrl,
        STRIPE_API_KEY_SECRET_ID: stripeApiKey.secretArn,
        STRIPE_TIMEOUT_MS: String(config.stripe.timeoutMs),
        ...netsuiteEnvironment({
          ...invoiceMapping,
          subsidiaryIds: Object.fromEntries(
            Object.entries(q2c.subsidiaries).map(([key, value]) => [key, value.netsuiteSubsidiaryId]),
          ),
        }),
        QUOTE_TO_CASH_MAPPING: JSON.stringify(q2c),
      },
    });
    for (const secret of [stripeApiKey, netsuiteCredentials, salesforceAccessToken, hubspotAccessToken]) {
      secret.grantRead(sagaSteps);
    }
    links.bind(sagaSteps, 'readwrite');
    exceptions.bind(sagaSteps);
    backbone.grantPublish(sagaSteps);
    const quoteToCash = new Workflow(this, 'QuoteToCash', {
      workflowName: 'quote-to-cash',
      definitionFile: path.join(STATE_MACHINES, 'quote-to-cash.asl.json'),
      functions: { StepsFunctionArn: sagaSteps },
      bus: backbone.bus,
      logRetention,
    });

    const startDealSaga = new RevbridgeFunction(this, 'StartDealSaga', {
      feature: 'start-deal-saga',
      logRetention,
      timeout: Duration.seconds(30),
      environment: { ...crmEnvironment, STATE_MACHINE_ARN: quoteToCash.stateMachine.stateMachineArn },
    });
    salesforceAccessToken.grantRead(startDealSaga);
    hubspotAccessToken.grantRead(startDealSaga);
    quoteToCash.stateMachine.grantStartExecution(startDealSaga);
    const dealsWon = eventConsumer(
      'StartDealSagaConsumer',
      startDealSaga,
      {
        rule: 'DealWonRule',
        sources: ['revbridge.salesforce', 'revbridge.hubspot'],
        detailType: 'crm.deal.won',
        description: 'Won CRM deals to the quote-to-cash saga starter',
      },
      // Each message is one CRM read; won deals are rare, so the CRMs' API limits are never close.
      { maxConcurrency: 2 },
    );

    // Flow 4, payment failed → dunning signal: the CRM account flagged, one exception per invoice,
    // cleared when the invoice is paid. One queue carries both event types, so one customer's state
    // is written by one flow.
    const dunningConfig = config.dunning;
    const flagDunning = new RevbridgeFunction(this, 'FlagDunning', {
      feature: 'flag-dunning',
      logRetention,
      timeout: Duration.seconds(30),
      environment: {
        ...crmEnvironment,
        DUNNING_MAPPING: JSON.stringify({
          salesforce: {
            amountDue: dunningConfig.salesforce.amountDueField,
            attemptCount: dunningConfig.salesforce.attemptCountField,
            nextRetryDate: dunningConfig.salesforce.nextRetryDateField,
            ...optional('invoiceId', dunningConfig.salesforce.invoiceIdField),
          },
          hubspot: {
            amountDue: dunningConfig.hubspot.amountDueProperty,
            attemptCount: dunningConfig.hubspot.attemptCountProperty,
            nextRetryDate: dunningConfig.hubspot.nextRetryDateProperty,
            ...optional('invoiceId', dunningConfig.hubspot.invoiceIdProperty),
          },
        }),
      },
    });
    salesforceAccessToken.grantRead(flagDunning);
    hubspotAccessToken.grantRead(flagDunning);
    links.bind(flagDunning, 'readwrite');
    exceptions.grantResolve(flagDunning);
    const dunning = eventConsumer(
      'FlagDunningConsumer',
      flagDunning,
      {
        rule: 'PaymentFailedRule',
        sources: ['revbridge.stripe'],
        detailType: 'billing.payment.failed',
        description: 'Failed billing payments to the dunning consumer',
      },
      // Payment failures and payments are one CRM write each at most.
      { maxConcurrency: 2 },
    );
    backbone.routeToQueue(
      'InvoicePaidToDunningRule',
      { source: ['revbridge.stripe'], detailType: ['billing.invoice.paid'] },
      dunning.queue,
      'Paid billing invoices to the dunning consumer, to clear a flag',
    );

    new BusinessDashboard(this, 'Business', {
      dashboardName: `revbridge-${config.stage}`,
      syncLatencyObjective: Duration.seconds(config.syncLatencyObjectiveSeconds),
      paymentsFailedSpike: config.dunning.paymentsFailedSpike,
      platformAlarms: [
        invoices.dlqAlarm,
        invoices.ageAlarm,
        payments.dlqAlarm,
        payments.ageAlarm,
        backbone.targetDlqAlarm,
        dealsWon.dlqAlarm,
        dealsWon.ageAlarm,
        dunning.dlqAlarm,
        dunning.ageAlarm,
        quoteToCash.failedAlarm,
        quoteToCash.timedOutAlarm,
      ],
    });
  }
}
