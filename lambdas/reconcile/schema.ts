import * as z from 'zod/mini';
import { crmEnvSchema } from '../adapters/crm-clients';
import { describeIssues } from '../domain/events';
import { type ReconciliationWindow, reconciliationWindowSchema } from '../domain/reconciliation';
import { jsonFromString, nonEmpty, positiveIntFromString } from '../shared/env';

export const envSchema = z.extend(crmEnvSchema, {
  EVENT_BUS_NAME: nonEmpty(),
  OPEN_DIFFERENCES_TABLE_NAME: nonEmpty(),
  /** Comma-separated internal values of the HubSpot deal stages that count as won. */
  HUBSPOT_WON_STAGES: nonEmpty(),
  LINKS_TABLE_NAME: nonEmpty(),
  EXCEPTIONS_TABLE_NAME: nonEmpty(),
  CHECKPOINT_TABLE_NAME: nonEmpty(),
  NETSUITE_BASE_URL: z.url(),
  NETSUITE_SECRET_ID: nonEmpty(),
  NETSUITE_TIMEOUT_MS: positiveIntFromString(),
  CONCURRENCY_LEASES_TABLE_NAME: nonEmpty(),
  NETSUITE_CONCURRENCY_LIMIT: positiveIntFromString(),
  /** JSON: the currency ids, to read ERP amounts back in ISO currencies. */
  NETSUITE_MAPPING: z.pipe(jsonFromString(), z.object({ currencyIds: z.record(z.string(), z.string()) })),
  STRIPE_API_BASE_URL: z.url(),
  STRIPE_API_KEY_SECRET_ID: nonEmpty(),
  STRIPE_TIMEOUT_MS: positiveIntFromString(),
  /** JSON of the stage's `reconciliation` section. */
  RECONCILIATION_CONFIG: z.pipe(
    jsonFromString(),
    z.object({
      windowDays: z.int(),
      settleMinutes: z.int(),
      creditMemos: z.boolean(),
      erpConcurrency: z.int(),
    }),
  ),
});

/**
 * What the function is invoked with: a window on demand (`revbridge reconcile --from --to`), or
 * anything else (the schedule's `{"scheduled": true}`, an EventBridge scheduled event) for the default
 * window, continuing an unfinished scheduled run first.
 */
export const parseInput = (input: unknown): ReconciliationWindow | null => {
  const asked = typeof input === 'object' && input !== null && ('from' in input || 'to' in input);
  if (!asked) return null;
  const result = reconciliationWindowSchema.safeParse(input);
  if (!result.success) throw new Error(`invalid window: ${describeIssues(result.error.issues)}`);
  if (!(Date.parse(result.data.from) < Date.parse(result.data.to)))
    throw new Error('invalid window: from must be before to');
  return result.data;
};
