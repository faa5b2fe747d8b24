import * as z from 'zod/mini';
import { describeIssues } from '../domain/events';
import { type ReconciliationWindow, reconciliationWindowSchema } from '../domain/reconciliation';
import { ENV } from '../shared/contracts/env';
import {
  busEnv,
  crmEnv,
  exceptionsEnv,
  linksEnv,
  netsuiteEnv,
  stripeApiEnv,
} from '../shared/contracts/env-fields';
import {
  mappingEnvField,
  netsuiteCurrencyMappingSchema,
  reconciliationConfigSchema,
} from '../shared/contracts/mappings';
import { nonEmpty } from '../shared/env';

export const envSchema = z.object({
  ...busEnv,
  ...linksEnv,
  ...exceptionsEnv,
  ...crmEnv,
  [ENV.OPEN_DIFFERENCES_TABLE_NAME]: nonEmpty(),
  /** Comma-separated internal values of the HubSpot deal stages that count as won. */
  [ENV.HUBSPOT_WON_STAGES]: nonEmpty(),
  [ENV.CHECKPOINT_TABLE_NAME]: nonEmpty(),
  ...netsuiteEnv,
  /** JSON: the currency ids, to read ERP amounts back in ISO currencies. */
  [ENV.NETSUITE_MAPPING]: mappingEnvField(netsuiteCurrencyMappingSchema),
  ...stripeApiEnv,
  /** JSON of the stage's `reconciliation` section. */
  [ENV.RECONCILIATION_CONFIG]: mappingEnvField(reconciliationConfigSchema),
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
