import * as z from 'zod/mini';
import { ENV } from '../shared/contracts/env';
import { busEnv, crmEnv, exceptionsEnv, linksEnv, queueConsumerEnv } from '../shared/contracts/env-fields';
import { dunningMappingSchema, mappingEnvField } from '../shared/contracts/mappings';

export { type DunningMapping, dunningMappingSchema } from '../shared/contracts/mappings';

export const envSchema = z.object({
  ...crmEnv,
  ...queueConsumerEnv,
  ...exceptionsEnv,
  ...linksEnv,
  ...busEnv,
  [ENV.DUNNING_MAPPING]: mappingEnvField(dunningMappingSchema),
});
