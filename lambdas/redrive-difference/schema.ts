import * as z from 'zod/mini';
import { ENV } from '../shared/contracts/env';
import {
  busEnv,
  crmEnv,
  exceptionsEnv,
  linksEnv,
  queueConsumerEnv,
  stripeApiEnv,
} from '../shared/contracts/env-fields';
import { nonEmpty } from '../shared/env';

export const envSchema = z.object({
  ...busEnv,
  ...queueConsumerEnv,
  ...linksEnv,
  ...exceptionsEnv,
  ...stripeApiEnv,
  /** The Stripe account re-driven events name as their source, as ingest-stripe's do. */
  [ENV.STRIPE_ACCOUNT_ID]: nonEmpty(),
  /** The Salesforce org re-driven deal events name as their source, as ingest-salesforce's do. */
  [ENV.SALESFORCE_ORG_ID]: nonEmpty(),
  ...crmEnv,
});
