import * as z from 'zod/mini';
import { erpConsumerEnvFields } from '../adapters/erp-flow-deps';
import { ENV } from '../shared/contracts/env';
import { crmEnv, stripeApiEnv } from '../shared/contracts/env-fields';
import { mappingEnvField, subscriptionSyncMappingSchema } from '../shared/contracts/mappings';

/**
 * What the flow needs from the stage configuration (lib/config.ts `subscriptionSync`, plus the
 * quote-to-cash catalog that says which ERP item a Stripe price is); validated at synth, re-read here.
 */
export {
  type SubscriptionSyncMapping,
  subscriptionSyncMappingSchema as mappingSchema,
} from '../shared/contracts/mappings';

export const envSchema = z.object({
  ...crmEnv,
  ...erpConsumerEnvFields,
  ...stripeApiEnv,
  [ENV.SUBSCRIPTION_SYNC_MAPPING]: mappingEnvField(subscriptionSyncMappingSchema),
});
