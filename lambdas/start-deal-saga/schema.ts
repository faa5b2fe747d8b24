import * as z from 'zod/mini';
import { crmEnvSchema } from '../adapters/crm-clients';
import { nonEmpty } from '../shared/env';

export const envSchema = z.extend(crmEnvSchema, {
  IDEMPOTENCY_TABLE_NAME: nonEmpty(),
  EXCEPTIONS_TABLE_NAME: nonEmpty(),
  EVENT_BUS_NAME: nonEmpty(),
  QUEUE_URL: nonEmpty(),
  STATE_MACHINE_ARN: nonEmpty(),
  /** The amendment saga's state machine. */
  AMENDMENT_STATE_MACHINE_ARN: nonEmpty(),
});
