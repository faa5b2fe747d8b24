import * as z from 'zod/mini';
import { PRORATION_BEHAVIORS } from '../../domain/amendment';
import { jsonFromString, nonEmpty } from '../env';

/**
 * The configuration the stack hands a function as JSON in its environment, one schema per shape.
 * lib/config.ts checks the stage's configuration against these at synth (`contractProblems`), and the
 * handlers parse their environment with the same schemas at cold start: one schema, two moments.
 * zod/mini, since every handler that reads a mapping bundles it.
 */

const ids = () => z.record(z.string(), z.string());

/** `NETSUITE_MAPPING` of a flow that posts billing documents (invoices, credit memos): `NetSuiteMapping`. */
export const netsuiteDocumentMappingSchema = z.object({
  subsidiaryId: nonEmpty(),
  currencyIds: ids(),
  productItemIds: ids(),
  defaultItemId: nonEmpty(),
  taxItemId: nonEmpty(),
  adjustmentItemId: nonEmpty(),
});

/** `NETSUITE_MAPPING` of cash application: the part of `NetSuiteMapping` a payment needs. */
export const netsuitePaymentMappingSchema = z.pick(netsuiteDocumentMappingSchema, {
  subsidiaryId: true,
  currencyIds: true,
});

/** `NETSUITE_MAPPING` of reconciliation: the currency ids, to read ERP amounts back in ISO currencies. */
export const netsuiteCurrencyMappingSchema = z.pick(netsuiteDocumentMappingSchema, { currencyIds: true });

/** `NETSUITE_MAPPING` of the quote-to-cash saga; `subsidiaryIds` is its routing, key → NetSuite id. */
export const netsuiteSagaMappingSchema = z.extend(netsuiteDocumentMappingSchema, { subsidiaryIds: ids() });

const catalogSchema = z.record(
  z.string(),
  z.object({ netsuiteItemId: nonEmpty(), stripeLookupKeys: z.record(z.string(), nonEmpty()) }),
);

/** `QUOTE_TO_CASH_MAPPING`: the stage's `quoteToCash` section (the sagas' catalog and subsidiaries). */
export const quoteToCashMappingSchema = z.object({
  catalog: catalogSchema,
  subsidiaries: z.record(
    z.string(),
    z.object({
      netsuiteSubsidiaryId: nonEmpty(),
      currencies: z.array(z.string()),
      requireTaxId: z.boolean(),
    }),
  ),
  defaultSubsidiaryByCurrency: z.record(z.string(), z.string()),
});
export type QuoteToCashMapping = z.infer<typeof quoteToCashMappingSchema>;

/** `AMENDMENT_PRORATION_BEHAVIOR`: how Stripe bills an amendment mid-period. */
export const prorationBehaviorSchema = z.enum(PRORATION_BEHAVIORS);

/**
 * `SUBSCRIPTION_SYNC_MAPPING`: the stage's `subscriptionSync` section plus the quote-to-cash catalog
 * (which ERP item a Stripe price is).
 */
export const subscriptionSyncMappingSchema = z.object({
  catalog: catalogSchema,
  salesforce: z.object({ statusField: nonEmpty(), contractValueField: nonEmpty() }),
  hubspot: z.object({ statusProperty: nonEmpty(), contractValueProperty: nonEmpty() }),
  effectiveDateField: nonEmpty(),
});
export type SubscriptionSyncMapping = z.infer<typeof subscriptionSyncMappingSchema>;

/** Salesforce API names (no relationship paths: these are the Account's own fields). */
const salesforceField = () => z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'an API name'));
/** HubSpot property internal names. */
const hubspotProperty = () => z.string().check(z.regex(/^[a-z0-9_]+$/, 'a property internal name'));

const dunningFieldsOf = <T extends z.ZodMiniType>(name: () => T) =>
  z.object({
    /** What is owed on the failing invoices, in the currency's major units (a Currency or Number field). */
    amountDue: name(),
    /** Collection attempts of the latest failing invoice (a Number field). */
    attemptCount: name(),
    /** When the billing system retries next, `YYYY-MM-DD` (a Date field); cleared when it will not. */
    nextRetryDate: name(),
    /** The failing invoice's billing id (a Text field). */
    invoiceId: z.optional(name()),
  });

/** `DUNNING_MAPPING`: where each CRM shows the flag, from the stage's `dunning` section. */
export const dunningMappingSchema = z.object({
  salesforce: dunningFieldsOf(salesforceField),
  hubspot: dunningFieldsOf(hubspotProperty),
});
export type DunningMapping = z.infer<typeof dunningMappingSchema>;

/** `RECONCILIATION_CONFIG`: the stage's `reconciliation` section, what the function reads of it. */
export const reconciliationConfigSchema = z.object({
  windowDays: z.int(),
  settleMinutes: z.int(),
  creditMemos: z.boolean(),
  erpConcurrency: z.int(),
});

/** An environment variable holding one of the mappings above as JSON. */
export const mappingEnvField = <S extends z.ZodMiniType>(schema: S) => z.pipe(jsonFromString(), schema);
