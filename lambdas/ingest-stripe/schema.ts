import * as z from 'zod/mini';
import { ENV } from '../shared/contracts/env';
import { busEnv } from '../shared/contracts/env-fields';
import { secretShape } from '../shared/contracts/secrets';
import { nonEmpty, positiveIntFromString } from '../shared/env';

export const envSchema = z.object({
  ...busEnv,
  [ENV.STRIPE_WEBHOOK_SECRET_ID]: nonEmpty(),
  /** Stripe account the webhooks come from (`acct_...`), part of each canonical event's source. */
  [ENV.STRIPE_ACCOUNT_ID]: nonEmpty(),
  [ENV.MAX_BODY_BYTES]: positiveIntFromString(),
});

/**
 * The webhook secret in Secrets Manager: either the `whsec_...` string itself, or
 * `{"webhookSecrets": ["whsec_new", "whsec_old"]}` while a secret is being rolled.
 */
export const webhookSecretSchema = secretShape('webhookSecrets', z.string().check(z.startsWith('whsec_')), {
  rotating: true,
});
