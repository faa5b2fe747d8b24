import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { BusinessDashboard } from '../constructs/business-dashboard';
import { EventBackbone } from '../constructs/event-backbone';
import { ExceptionsTable } from '../constructs/exceptions-table';
import { IdempotencyTable } from '../constructs/idempotency-table';
import { LinksTable } from '../constructs/links-table';
import { QueueConsumer } from '../constructs/queue-consumer';
import { RevbridgeFunction } from '../constructs/revbridge-function';
import { WebhookApi } from '../constructs/webhook-api';

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
    for (const secret of [stripeWebhookSecret, netsuiteCredentials, hubspotClientSecret]) {
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
    const ingestStripe = new RevbridgeFunction(this, 'IngestStripe', {
      feature: 'ingest-stripe',
      logRetention,
      timeout: Duration.seconds(10),
      environment: {
        STRIPE_ACCOUNT_ID: config.stripe.accountId,
        MAX_BODY_BYTES: String(config.webhooks.maxBodyBytes),
        STRIPE_WEBHOOK_SECRET_ID: stripeWebhookSecret.secretArn,
      },
    });
    stripeWebhookSecret.grantRead(ingestStripe);
    backbone.grantPublish(ingestStripe);
    webhooks.addVendor('stripe', ingestStripe);

    // CRM ingress: won deals become `crm.deal.won` on the bus.
    const ingestSalesforce = new RevbridgeFunction(this, 'IngestSalesforce', {
      feature: 'ingest-salesforce',
      logRetention,
      timeout: Duration.seconds(10),
      environment: {
        SALESFORCE_ORG_ID: config.salesforce.orgId,
        SALESFORCE_WON_STAGES: config.salesforce.wonStages.join(','),
        MAX_BODY_BYTES: String(config.webhooks.maxBodyBytes),
      },
    });
    backbone.grantPublish(ingestSalesforce);
    webhooks.addVendor('salesforce', ingestSalesforce);

    const ingestHubspot = new RevbridgeFunction(this, 'IngestHubspot', {
      feature: 'ingest-hubspot',
      logRetention,
      timeout: Duration.seconds(10),
      environment: {
        HUBSPOT_CLIENT_SECRET_ID: hubspotClientSecret.secretArn,
        HUBSPOT_WEBHOOK_BASE_URL: config.hubspot.webhookBaseUrl ?? webhooks.publicBaseUrl,
        HUBSPOT_WON_STAGES: config.hubspot.wonStages.join(','),
        MAX_BODY_BYTES: String(config.webhooks.maxBodyBytes),
      },
    });
    hubspotClientSecret.grantRead(ingestHubspot);
    backbone.grantPublish(ingestHubspot);
    webhooks.addVendor('hubspot', ingestHubspot);

    const postInvoice = new RevbridgeFunction(this, 'PostInvoice', {
      feature: 'post-invoice',
      logRetention,
      timeout: Duration.seconds(60),
      environment: {
        NETSUITE_BASE_URL: config.netsuite.baseUrl,
        NETSUITE_TIMEOUT_MS: String(config.netsuite.timeoutMs),
        NETSUITE_SECRET_ID: netsuiteCredentials.secretArn,
        NETSUITE_MAPPING: JSON.stringify({
          subsidiaryId: config.netsuite.subsidiaryId,
          currencyIds: config.netsuite.currencyIds,
          productItemIds: config.netsuite.productItemIds,
          defaultItemId: config.netsuite.defaultItemId,
          taxItemId: config.netsuite.taxItemId,
          adjustmentItemId: config.netsuite.adjustmentItemId,
        }),
      },
    });
    netsuiteCredentials.grantRead(postInvoice);
    idempotency.bind(postInvoice);
    links.bind(postInvoice, 'readwrite');
    exceptions.bind(postInvoice);
    backbone.grantPublish(postInvoice);
    const invoices = new QueueConsumer(this, 'PostInvoiceConsumer', {
      fn: postInvoice,
      maxReceiveCount: config.queues.maxReceiveCount,
      batchSize: config.queues.batchSize,
      // Each invocation makes one NetSuite request at a time, so this bounds the account's load.
      maxConcurrency: config.netsuite.concurrencyLimit,
      maxMessageAge: Duration.seconds(config.queues.maxMessageAgeSeconds),
    });
    backbone.routeToQueue(
      'InvoiceFinalizedRule',
      { source: ['revbridge.stripe'], detailType: ['billing.invoice.finalized'] },
      invoices.queue,
      'Finalized billing invoices to the ERP posting consumer',
    );

    new BusinessDashboard(this, 'Business', {
      dashboardName: `revbridge-${config.stage}`,
      syncLatencyObjective: Duration.seconds(config.syncLatencyObjectiveSeconds),
      platformAlarms: [invoices.dlqAlarm, invoices.ageAlarm, backbone.targetDlqAlarm],
    });
  }
}
