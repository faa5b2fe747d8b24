import * as z from 'zod/mini';
import { crmEnvSchema } from '../adapters/crm-clients';
import { erpConsumerEnvFields } from '../adapters/erp-flow-deps';
import { jsonFromString, nonEmpty, positiveIntFromString } from '../shared/env';

/**
 * What the flow needs from the stage configuration (lib/config.ts `subscriptionSync`, plus the
 * quote-to-cash catalog that says which ERP item a Stripe price is); validated at synth, re-read here.
 */
export const mappingSchema = z.object({
  catalog: z.record(
    z.string(),
    z.object({ netsuiteItemId: nonEmpty(), stripeLookupKeys: z.record(z.string(), nonEmpty()) }),
  ),
  salesforce: z.object({ statusField: nonEmpty(), contractValueField: nonEmpty() }),
  hubspot: z.object({ statusProperty: nonEmpty(), contractValueProperty: nonEmpty() }),
  effectiveDateField: nonEmpty(),
});
export type SubscriptionSyncMapping = z.infer<typeof mappingSchema>;

export const envSchema = z.extend(crmEnvSchema, {
  ...erpConsumerEnvFields,
  STRIPE_API_BASE_URL: z.url(),
  STRIPE_API_KEY_SECRET_ID: nonEmpty(),
  STRIPE_TIMEOUT_MS: positiveIntFromString(),
  SUBSCRIPTION_SYNC_MAPPING: z.pipe(jsonFromString(), mappingSchema),
});
