/**
 * The local runtime's settings: ports, the secrets it seeds, and which function environment variables
 * point at a vendor. Every value can be changed through the environment; the defaults are what the
 * vendor twins accept, so `npm run local` works with nothing set.
 */

export const env = (name: string, fallback: string, source: NodeJS.ProcessEnv = process.env): string =>
  source[name] && source[name] !== '' ? (source[name] as string) : fallback;

export const portFromEnv = (
  name: string,
  fallback: number,
  source: NodeJS.ProcessEnv = process.env,
): number => {
  const raw = source[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`${name} must be a port number (0-65535), got "${raw}"`);
  }
  return port;
};

export const DEFAULT_PORTS = {
  api: 4000,
  aws: 4566,
  stripe: 4010,
  netsuite: 4020,
  salesforce: 4030,
  hubspot: 4040,
} as const;

export type TwinName = 'stripe' | 'netsuite' | 'salesforce' | 'hubspot';

/** Local defaults for vendor credentials: the twins accept exactly these. */
export const localSecrets = (source: NodeJS.ProcessEnv = process.env) => ({
  stripeWebhookSecret: env('STRIPE_WEBHOOK_SECRET', 'whsec_revbridge_local_secret', source),
  stripeApiKey: env('STRIPE_API_KEY', 'sk_test_revbridge_local', source),
  hubspotClientSecret: env('HUBSPOT_CLIENT_SECRET', 'revbridge-local-hubspot-secret', source),
  hubspotAccessToken: env('HUBSPOT_ACCESS_TOKEN', 'revbridge-local-hs-token', source),
  salesforceAccessToken: env('SALESFORCE_ACCESS_TOKEN', 'revbridge-local-sf-token', source),
  salesforcePathToken: env('SALESFORCE_PATH_TOKEN', 'revbridge-local-salesforce-path-token', source),
  netsuite: {
    accountId: env('NETSUITE_ACCOUNT_ID', 'TSTDRV1234567', source),
    consumerKey: env('NETSUITE_CONSUMER_KEY', 'revbridge-local-consumer-key', source),
    consumerSecret: env('NETSUITE_CONSUMER_SECRET', 'revbridge-local-consumer-secret', source),
    tokenId: env('NETSUITE_TOKEN_ID', 'revbridge-local-token-id', source),
    tokenSecret: env('NETSUITE_TOKEN_SECRET', 'revbridge-local-token-secret', source),
  },
});

/**
 * The value each secret of the template gets locally, by the construct id that declared it. A secret
 * not listed here is seeded with a placeholder and reported at start-up.
 */
export const secretSeeds = (source: NodeJS.ProcessEnv = process.env): Record<string, string> => {
  const secrets = localSecrets(source);
  return {
    StripeWebhookSecret: secrets.stripeWebhookSecret,
    NetSuiteCredentials: JSON.stringify(secrets.netsuite),
    HubSpotClientSecret: secrets.hubspotClientSecret,
    StripeApiKey: secrets.stripeApiKey,
    SalesforceAccessToken: secrets.salesforceAccessToken,
    SalesforcePathToken: secrets.salesforcePathToken,
    HubSpotAccessToken: secrets.hubspotAccessToken,
  };
};

/**
 * Custom fields the local CRM twins are created with: the ones the dev stage's CRM configuration
 * (cdk.json `salesforce.*Field`, `hubspot.*Property`) and the saga's write-back read and write. A real
 * org or portal is set up with them once; the twins reject unknown fields just as strictly.
 */
export const crmTwinCustomFields = {
  salesforce: {
    Opportunity: [
      'Billing_Customer_Id__c',
      'Subscription_Id__c',
      'ERP_Customer_Id__c',
      'Sales_Order_Id__c',
      'Revbridge_Status__c',
      // Flow 5 (cdk.json `subscriptionSync.salesforce`).
      'Subscription_Status__c',
      { name: 'Contract_Value__c', type: 'currency' },
    ],
    Account: [
      'Tax_Id__c',
      'Billing_Email__c',
      'Subsidiary__c',
      // The dunning flag (cdk.json `dunning.salesforce`).
      { name: 'Amount_Past_Due__c', type: 'currency' },
      { name: 'Payment_Attempts__c', type: 'double' },
      { name: 'Next_Payment_Retry__c', type: 'date' },
      'Failed_Invoice_Id__c',
    ],
  },
  hubspot: {
    deals: [
      'revbridge_billing_customer_id',
      'revbridge_subscription_id',
      'revbridge_erp_customer_id',
      'revbridge_sales_order_id',
      'revbridge_status',
      // Flow 5 (cdk.json `subscriptionSync.hubspot`).
      'revbridge_subscription_status',
      { name: 'revbridge_contract_value', type: 'number' },
    ],
    companies: [
      'tax_id',
      'billing_email',
      'subsidiary',
      // The dunning flag (cdk.json `dunning.hubspot`).
      { name: 'revbridge_amount_past_due', type: 'number' },
      { name: 'revbridge_payment_attempts', type: 'number' },
      { name: 'revbridge_next_payment_retry', type: 'date' },
      'revbridge_failed_invoice_id',
    ],
  },
} as const;

/**
 * The prices the local Stripe twin starts with, one per lookup key of the dev stage's quote-to-cash
 * catalog (cdk.json `quoteToCash.catalog`; a test keeps the two in step). The catalog names prices by
 * lookup key, so the twin's generated price ids never need to be known in advance.
 */
export const stripeCatalogSeed: readonly {
  readonly product: { readonly id: string; readonly name: string };
  readonly prices: readonly {
    readonly lookupKey: string;
    readonly currency: string;
    readonly unitAmount: number;
  }[];
}[] = [
  {
    product: { id: 'prod_revbridge_platform', name: 'Platform' },
    prices: [
      { lookupKey: 'platform_monthly_usd', currency: 'usd', unitAmount: 120_000 },
      { lookupKey: 'platform_monthly_gbp', currency: 'gbp', unitAmount: 95_000 },
      { lookupKey: 'platform_monthly_eur', currency: 'eur', unitAmount: 110_000 },
    ],
  },
  {
    product: { id: 'prod_revbridge_seat', name: 'Seat' },
    prices: [
      { lookupKey: 'seat_monthly_usd', currency: 'usd', unitAmount: 2_500 },
      { lookupKey: 'seat_monthly_gbp', currency: 'gbp', unitAmount: 2_000 },
      { lookupKey: 'seat_monthly_eur', currency: 'eur', unitAmount: 2_300 },
    ],
  },
];

/** Function environment variables that hold a vendor's base URL: locally they point at the twin. */
export const VENDOR_URL_VARIABLES: Readonly<Record<string, TwinName>> = {
  NETSUITE_BASE_URL: 'netsuite',
  STRIPE_API_BASE_URL: 'stripe',
  SALESFORCE_INSTANCE_URL: 'salesforce',
  HUBSPOT_BASE_URL: 'hubspot',
};

/**
 * Function environment variables that hold revbridge's own public URL (a vendor signs it): locally
 * they point at the local API.
 */
export const PUBLIC_URL_VARIABLES: readonly string[] = ['HUBSPOT_WEBHOOK_BASE_URL'];

/**
 * The NetSuite twin's account concurrency limit. It matches the dev stage's `netsuite.concurrencyLimit`
 * so a consumer configured above the account's real limit is rejected locally as it would be in NetSuite.
 */
export const netsuiteConcurrencyLimit = (source: NodeJS.ProcessEnv = process.env): number =>
  intFromEnv('NETSUITE_CONCURRENCY_LIMIT', 10, source);

/**
 * How long the NetSuite twin holds each request, `min-max` ms (`NETSUITE_PROCESSING_MS`, e.g.
 * `150-250` for a real account's latency); undefined keeps the twin's fast default.
 */
export const netsuiteProcessingMs = (
  source: NodeJS.ProcessEnv = process.env,
): { min: number; max: number } | undefined => {
  const raw = source.NETSUITE_PROCESSING_MS;
  if (raw === undefined || raw === '') return undefined;
  const match = /^(\d+)-(\d+)$/.exec(raw);
  if (!match || Number(match[1]) > Number(match[2])) {
    throw new Error(`NETSUITE_PROCESSING_MS must be "<min>-<max>" milliseconds, e.g. 150-250 (got "${raw}")`);
  }
  return { min: Number(match[1]), max: Number(match[2]) };
};

export function intFromEnv(name: string, fallback: number, source: NodeJS.ProcessEnv = process.env): number {
  const raw = source[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}
