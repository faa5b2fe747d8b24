import * as z from 'zod/mini';
import { crmEnvSchema } from '../adapters/crm-clients';
import { nonEmpty, positiveIntFromString } from '../shared/env';

export const envSchema = z.extend(crmEnvSchema, {
  EVENT_BUS_NAME: nonEmpty(),
  IDEMPOTENCY_TABLE_NAME: nonEmpty(),
  LINKS_TABLE_NAME: nonEmpty(),
  EXCEPTIONS_TABLE_NAME: nonEmpty(),
  QUEUE_URL: nonEmpty(),
  STRIPE_API_BASE_URL: z.url(),
  STRIPE_API_KEY_SECRET_ID: nonEmpty(),
  STRIPE_TIMEOUT_MS: positiveIntFromString(),
  /** The Stripe account re-driven events name as their source, as ingest-stripe's do. */
  STRIPE_ACCOUNT_ID: nonEmpty(),
  /** The Salesforce org re-driven deal events name as their source, as ingest-salesforce's do. */
  SALESFORCE_ORG_ID: nonEmpty(),
});
