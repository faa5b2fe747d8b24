import * as z from 'zod/mini';
import { erpConsumerEnvFields } from '../adapters/erp-flow-deps';
import { ENV } from '../shared/contracts/env';
import { mappingEnvField, netsuitePaymentMappingSchema } from '../shared/contracts/mappings';

export const envSchema = z.object({
  ...erpConsumerEnvFields,
  /** JSON of the part of `NetSuiteMapping` a payment needs: subsidiary and currency ids. */
  [ENV.NETSUITE_MAPPING]: mappingEnvField(netsuitePaymentMappingSchema),
});
