import * as z from 'zod/mini';
import { erpConsumerEnvFields } from '../adapters/erp-flow-deps';
import { jsonFromString, nonEmpty } from '../shared/env';

export const envSchema = z.object({
  ...erpConsumerEnvFields,
  /** JSON of the part of `NetSuiteMapping` a payment needs: subsidiary and currency ids. */
  NETSUITE_MAPPING: z.pipe(
    jsonFromString(),
    z.object({
      subsidiaryId: nonEmpty(),
      currencyIds: z.record(z.string(), z.string()),
    }),
  ),
});
