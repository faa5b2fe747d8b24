import * as z from 'zod/mini';
import { crmEnvSchema } from '../adapters/crm-clients';
import { jsonFromString, nonEmpty } from '../shared/env';

/** Salesforce API names (no relationship paths: these are the Account's own fields). */
const salesforceField = () => z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'an API name'));
/** HubSpot property internal names. */
const hubspotProperty = () => z.string().check(z.regex(/^[a-z0-9_]+$/, 'a property internal name'));

const fieldsOf = <T extends z.ZodMiniType>(name: () => T) =>
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
  salesforce: fieldsOf(salesforceField),
  hubspot: fieldsOf(hubspotProperty),
});
export type DunningMapping = z.infer<typeof dunningMappingSchema>;

export const envSchema = z.extend(crmEnvSchema, {
  IDEMPOTENCY_TABLE_NAME: nonEmpty(),
  EXCEPTIONS_TABLE_NAME: nonEmpty(),
  LINKS_TABLE_NAME: nonEmpty(),
  EVENT_BUS_NAME: nonEmpty(),
  QUEUE_URL: nonEmpty(),
  DUNNING_MAPPING: z.pipe(jsonFromString(), dunningMappingSchema),
});
