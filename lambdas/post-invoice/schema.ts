import * as z from 'zod/mini';
import { erpConsumerEnvFields } from '../adapters/erp-flow-deps';
import { jsonFromString, nonEmpty } from '../shared/env';

export const envSchema = z.object({
  ...erpConsumerEnvFields,
  /** JSON of `NetSuiteMapping`: subsidiary, currency ids, item ids. */
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
});
