import type * as z from 'zod/mini';
import { ENV } from '../lambdas/shared/contracts/env';
import {
  dunningMappingSchema,
  netsuiteCurrencyMappingSchema,
  netsuiteDocumentMappingSchema,
  netsuitePaymentMappingSchema,
  netsuiteSagaMappingSchema,
  prorationBehaviorSchema,
  quoteToCashMappingSchema,
  reconciliationConfigSchema,
  subscriptionSyncMappingSchema,
} from '../lambdas/shared/contracts/mappings';
import type { StageConfig } from './config';

/**
 * What the stack hands the functions from the stage's configuration: the variable names and the
 * mapping schemas are the contract the handlers read them with (lambdas/shared/contracts).
 */

const optional = (name: string, value: string | undefined) => (value ? { [name]: value } : {});

/** The environment the CRM clients read (lambdas/adapters/crm-clients.ts), from the stage's config. */
export const crmEnvironment = (
  config: StageConfig,
  secretIds: { readonly salesforceAccessToken: string; readonly hubspotAccessToken: string },
): Record<string, string> => ({
  [ENV.SALESFORCE_INSTANCE_URL]: config.salesforce.instanceUrl,
  [ENV.SALESFORCE_ACCESS_TOKEN_SECRET_ID]: secretIds.salesforceAccessToken,
  [ENV.SALESFORCE_DEFAULT_CURRENCY]: config.salesforce.defaultCurrency,
  ...optional(ENV.SALESFORCE_TAX_ID_FIELD, config.salesforce.accountTaxIdField),
  ...optional(ENV.SALESFORCE_EMAIL_FIELD, config.salesforce.accountEmailField),
  ...optional(ENV.SALESFORCE_SUBSIDIARY_FIELD, config.salesforce.subsidiaryField),
  ...optional(ENV.SALESFORCE_AMENDMENT_OF_FIELD, config.salesforce.amendmentOfField),
  [ENV.HUBSPOT_BASE_URL]: config.hubspot.apiBaseUrl,
  [ENV.HUBSPOT_ACCESS_TOKEN_SECRET_ID]: secretIds.hubspotAccessToken,
  [ENV.HUBSPOT_DEFAULT_CURRENCY]: config.hubspot.defaultCurrency,
  ...optional(ENV.HUBSPOT_TAX_ID_PROPERTY, config.hubspot.companyTaxIdProperty),
  ...optional(ENV.HUBSPOT_EMAIL_PROPERTY, config.hubspot.companyEmailProperty),
  ...optional(ENV.HUBSPOT_SUBSIDIARY_PROPERTY, config.hubspot.subsidiaryProperty),
  ...optional(ENV.HUBSPOT_AMENDMENT_OF_PROPERTY, config.hubspot.amendmentOfProperty),
});

/** Each flow's `NETSUITE_MAPPING`, the part of the stage's `netsuite` section it needs. */
export const netsuiteMappings = (config: Pick<StageConfig, 'netsuite' | 'quoteToCash'>) => {
  const { netsuite } = config;
  const document = {
    subsidiaryId: netsuite.subsidiaryId,
    currencyIds: netsuite.currencyIds,
    productItemIds: netsuite.productItemIds,
    defaultItemId: netsuite.defaultItemId,
    taxItemId: netsuite.taxItemId,
    adjustmentItemId: netsuite.adjustmentItemId,
  };
  return {
    /** Invoices and credit memos. */
    document,
    /** Cash application. */
    payment: { subsidiaryId: netsuite.subsidiaryId, currencyIds: netsuite.currencyIds },
    /** The quote-to-cash saga: the document mapping and the subsidiary routing. */
    saga: {
      ...document,
      subsidiaryIds: Object.fromEntries(
        Object.entries(config.quoteToCash.subsidiaries).map(([key, value]) => [
          key,
          value.netsuiteSubsidiaryId,
        ]),
      ),
    },
  };
};

/** `DUNNING_MAPPING`, from the stage's `dunning` section. */
export const dunningMapping = ({ dunning }: Pick<StageConfig, 'dunning'>) => ({
  salesforce: {
    amountDue: dunning.salesforce.amountDueField,
    attemptCount: dunning.salesforce.attemptCountField,
    nextRetryDate: dunning.salesforce.nextRetryDateField,
    ...optional('invoiceId', dunning.salesforce.invoiceIdField),
  },
  hubspot: {
    amountDue: dunning.hubspot.amountDueProperty,
    attemptCount: dunning.hubspot.attemptCountProperty,
    nextRetryDate: dunning.hubspot.nextRetryDateProperty,
    ...optional('invoiceId', dunning.hubspot.invoiceIdProperty),
  },
});

/** `SUBSCRIPTION_SYNC_MAPPING`: the stage's `subscriptionSync` section and the quote-to-cash catalog. */
export const subscriptionSyncMapping = (config: Pick<StageConfig, 'quoteToCash' | 'subscriptionSync'>) => ({
  catalog: config.quoteToCash.catalog,
  ...config.subscriptionSync,
});

/**
 * Checks what the stack will hand the functions against the schemas the handlers parse it with at cold
 * start (lib/config.ts reports these with the rest, at synth): a mapping the stage's schema accepts but
 * a handler would refuse fails `cdk synth`, not the function's first cold start.
 */
export const contractProblems = (config: StageConfig): { path: (string | number)[]; message: string }[] => {
  const mappings = netsuiteMappings(config);
  const checks: [string, z.ZodMiniType, unknown][] = [
    [ENV.NETSUITE_MAPPING, netsuiteDocumentMappingSchema, mappings.document],
    [ENV.NETSUITE_MAPPING, netsuitePaymentMappingSchema, mappings.payment],
    [ENV.NETSUITE_MAPPING, netsuiteSagaMappingSchema, mappings.saga],
    [ENV.QUOTE_TO_CASH_MAPPING, quoteToCashMappingSchema, config.quoteToCash],
    [ENV.AMENDMENT_PRORATION_BEHAVIOR, prorationBehaviorSchema, config.amendment.prorationBehavior],
    [ENV.DUNNING_MAPPING, dunningMappingSchema, dunningMapping(config)],
    [ENV.SUBSCRIPTION_SYNC_MAPPING, subscriptionSyncMappingSchema, subscriptionSyncMapping(config)],
    [ENV.NETSUITE_MAPPING, netsuiteCurrencyMappingSchema, { currencyIds: config.netsuite.currencyIds }],
    [ENV.RECONCILIATION_CONFIG, reconciliationConfigSchema, config.reconciliation],
  ];
  return checks.flatMap(([name, schema, value]) => {
    const result = schema.safeParse(value);
    return result.success
      ? []
      : result.error.issues.map((issue) => ({
          path: [name, ...issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key))],
          message: issue.message,
        }));
  });
};
