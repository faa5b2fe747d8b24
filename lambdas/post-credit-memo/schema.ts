import * as z from 'zod/mini';
import { erpConsumerEnvFields } from '../adapters/erp-flow-deps';
import { ENV } from '../shared/contracts/env';
import { stripeApiEnv } from '../shared/contracts/env-fields';
import { mappingEnvField, netsuiteDocumentMappingSchema } from '../shared/contracts/mappings';

export const envSchema = z.object({
  ...erpConsumerEnvFields,
  /** JSON of `NetSuiteMapping`, the invoice's: subsidiary, currency ids, item ids. */
  [ENV.NETSUITE_MAPPING]: mappingEnvField(netsuiteDocumentMappingSchema),
  /** Stripe, to learn the products of the invoice lines a credit note credits. */
  ...stripeApiEnv,
});
