import type { StageConfig } from './config';

const optional = (name: string, value: string | undefined) => (value ? { [name]: value } : {});

/** The environment the CRM clients read (lambdas/adapters/crm-clients.ts), from the stage's config. */
export const crmEnvironment = (
  config: StageConfig,
  secretIds: { readonly salesforceAccessToken: string; readonly hubspotAccessToken: string },
): Record<string, string> => ({
  SALESFORCE_INSTANCE_URL: config.salesforce.instanceUrl,
  SALESFORCE_ACCESS_TOKEN_SECRET_ID: secretIds.salesforceAccessToken,
  SALESFORCE_DEFAULT_CURRENCY: config.salesforce.defaultCurrency,
  ...optional('SALESFORCE_TAX_ID_FIELD', config.salesforce.accountTaxIdField),
  ...optional('SALESFORCE_EMAIL_FIELD', config.salesforce.accountEmailField),
  ...optional('SALESFORCE_SUBSIDIARY_FIELD', config.salesforce.subsidiaryField),
  HUBSPOT_BASE_URL: config.hubspot.apiBaseUrl,
  HUBSPOT_ACCESS_TOKEN_SECRET_ID: secretIds.hubspotAccessToken,
  HUBSPOT_DEFAULT_CURRENCY: config.hubspot.defaultCurrency,
  ...optional('HUBSPOT_TAX_ID_PROPERTY', config.hubspot.companyTaxIdProperty),
  ...optional('HUBSPOT_EMAIL_PROPERTY', config.hubspot.companyEmailProperty),
  ...optional('HUBSPOT_SUBSIDIARY_PROPERTY', config.hubspot.subsidiaryProperty),
});
