import { Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/**
 * The vendors' credentials, one Secrets Manager secret each, created in the given scope (the stack, so
 * their logical ids never move and a value the operator set survives an upgrade). Values are set by
 * the operator after the first deploy (see README); never in code or context. The Salesforce path
 * token is the exception: Secrets Manager generates it at deploy.
 */
export const vendorSecrets = (scope: Construct) => {
  const secret = (id: string, description: string) => new Secret(scope, id, { description });
  const secrets = {
    stripeWebhookSecret: secret(
      'StripeWebhookSecret',
      'Stripe webhook signing secret: "whsec_..." or {"webhookSecrets":["whsec_new","whsec_old"]}',
    ),
    netsuiteCredentials: secret(
      'NetSuiteCredentials',
      'NetSuite token-based auth: {"accountId","consumerKey","consumerSecret","tokenId","tokenSecret"}',
    ),
    hubspotClientSecret: secret(
      'HubSpotClientSecret',
      'HubSpot app client secret (signs webhooks): "..." or {"clientSecrets":["new","old"]}',
    ),
    // API credentials of the flows that write to billing and the CRMs.
    stripeApiKey: secret(
      'StripeApiKey',
      'Stripe secret or restricted key for the saga: "rk_live_..." or {"apiKey":"..."}',
    ),
    salesforceAccessToken: secret(
      'SalesforceAccessToken',
      'Salesforce access token of the integration user: "..." or {"accessToken":"..."}',
    ),
    hubspotAccessToken: secret(
      'HubSpotAccessToken',
      'HubSpot private app token (crm.objects.deals/companies/line_items): "pat-..."',
    ),
    // Salesforce outbound messages are not signed: their endpoint URL carries this token. The operator
    // reads it once to configure the outbound message.
    salesforcePathToken: new Secret(scope, 'SalesforcePathToken', {
      description:
        'Token in the Salesforce outbound message URL (/webhooks/salesforce/<token>): generated; {"pathTokens":["new","old"]} while moving to a new one',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    }),
  };
  for (const value of Object.values(secrets)) {
    Validations.of(value).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason:
        'Vendor-issued credentials are rotated in the vendor console, then put here; the functions re-read them within 5 minutes.',
    });
  }
  return secrets;
};
