import * as z from 'zod/mini';
import { erpConsumerEnvFields } from '../adapters/erp-flow-deps';
import { ENV } from '../shared/contracts/env';
import { mappingEnvField, netsuiteDocumentMappingSchema } from '../shared/contracts/mappings';

export const envSchema = z.object({
  ...erpConsumerEnvFields,
  /** JSON of `NetSuiteMapping`: subsidiary, currency ids, item ids. */
  [ENV.NETSUITE_MAPPING]: mappingEnvField(netsuiteDocumentMappingSchema),
});
