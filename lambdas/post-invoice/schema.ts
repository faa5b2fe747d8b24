import * as z from 'zod/mini';
import { documentMappingEnvField, erpConsumerEnvFields } from '../adapters/erp-flow-deps';

export const envSchema = z.object({
  ...erpConsumerEnvFields,
  /** JSON of `NetSuiteMapping`: subsidiary, currency ids, item ids. */
  NETSUITE_MAPPING: documentMappingEnvField,
});
