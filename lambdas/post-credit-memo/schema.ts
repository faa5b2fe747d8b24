import * as z from 'zod/mini';
import { documentMappingEnvField, erpConsumerEnvFields } from '../adapters/erp-flow-deps';
import { nonEmpty, positiveIntFromString } from '../shared/env';

export const envSchema = z.object({
  ...erpConsumerEnvFields,
  /** JSON of `NetSuiteMapping`, the invoice's: subsidiary, currency ids, item ids. */
  NETSUITE_MAPPING: documentMappingEnvField,
  /** Stripe, to learn the products of the invoice lines a credit note credits. */
  STRIPE_API_BASE_URL: z.url(),
  STRIPE_API_KEY_SECRET_ID: nonEmpty(),
  STRIPE_TIMEOUT_MS: positiveIntFromString(),
});
