import * as z from 'zod/mini';
import { erpConsumerEnvFields } from '../adapters/erp-flow-deps';
import { jsonFromString, nonEmpty, positiveIntFromString } from '../shared/env';

export const envSchema = z.object({
  ...erpConsumerEnvFields,
  /** JSON of `NetSuiteMapping` (the invoice's): subsidiary, currency ids, item ids. */
  NETSUITE_MAPPING: z.pipe(
    jsonFromString(),
    z.object({
      subsidiaryId: nonEmpty(),
      currencyIds: z.record(z.string(), z.string()),
      productItemIds: z.record(z.string(), z.string()),
      defaultItemId: nonEmpty(),
      taxItemId: nonEmpty(),
      adjustmentItemId: nonEmpty(),
    }),
  ),
  /** Stripe, to learn the products of the invoice lines a credit note credits. */
  STRIPE_API_BASE_URL: z.url(),
  STRIPE_API_KEY_SECRET_ID: nonEmpty(),
  STRIPE_TIMEOUT_MS: positiveIntFromString(),
});
