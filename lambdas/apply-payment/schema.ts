import * as z from 'zod/mini';
import { jsonFromString, nonEmpty, positiveIntFromString } from '../shared/env';

// The same NetSuite account and credentials as flow 2: one secret shape, read by both consumers.

export const envSchema = z.object({
  EVENT_BUS_NAME: nonEmpty(),
  IDEMPOTENCY_TABLE_NAME: nonEmpty(),
  LINKS_TABLE_NAME: nonEmpty(),
  EXCEPTIONS_TABLE_NAME: nonEmpty(),
  QUEUE_URL: nonEmpty(),
  NETSUITE_BASE_URL: z.url(),
  NETSUITE_SECRET_ID: nonEmpty(),
  NETSUITE_TIMEOUT_MS: positiveIntFromString(),
  /** JSON of the part of `NetSuiteMapping` a payment needs: subsidiary and currency ids. */
  NETSUITE_MAPPING: z.pipe(
    jsonFromString(),
    z.object({
      subsidiaryId: nonEmpty(),
      currencyIds: z.record(z.string(), z.string()),
    }),
  ),
});
