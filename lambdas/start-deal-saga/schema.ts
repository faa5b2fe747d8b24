import * as z from 'zod/mini';
import { ENV } from '../shared/contracts/env';
import { busEnv, crmEnv, exceptionsEnv, queueConsumerEnv } from '../shared/contracts/env-fields';
import { nonEmpty } from '../shared/env';

export const envSchema = z.object({
  ...crmEnv,
  ...queueConsumerEnv,
  ...exceptionsEnv,
  ...busEnv,
  [ENV.STATE_MACHINE_ARN]: nonEmpty(),
  /** The amendment saga's state machine. */
  [ENV.AMENDMENT_STATE_MACHINE_ARN]: nonEmpty(),
});
