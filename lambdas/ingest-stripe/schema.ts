import * as z from 'zod/mini';
import { nonEmpty, positiveIntFromString } from '../shared/env';

export const envSchema = z.object({
  EVENT_BUS_NAME: nonEmpty(),
  STRIPE_WEBHOOK_SECRET_ID: nonEmpty(),
  /** Stripe account the webhooks come from (`acct_...`), part of each canonical event's source. */
  STRIPE_ACCOUNT_ID: nonEmpty(),
  MAX_BODY_BYTES: positiveIntFromString(),
});

/**
 * The webhook secret in Secrets Manager: either the `whsec_...` string itself, or
 * `{"webhookSecrets": ["whsec_new", "whsec_old"]}` while a secret is being rolled.
 */
export const webhookSecretSchema = z.union([
  z.pipe(
    z.string().check(z.startsWith('whsec_')),
    z.transform((secret: string) => [secret]),
  ),
  z.pipe(
    z.object({ webhookSecrets: z.array(z.string().check(z.startsWith('whsec_'))).check(z.minLength(1)) }),
    z.transform((value: { webhookSecrets: string[] }) => value.webhookSecrets),
  ),
]);
