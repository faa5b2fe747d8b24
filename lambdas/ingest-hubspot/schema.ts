import * as z from 'zod/mini';
import { HUBSPOT_DEFAULT_WON_STAGES } from '../adapters/hubspot/map';
import { ENV } from '../shared/contracts/env';
import { busEnv } from '../shared/contracts/env-fields';
import { secretShape } from '../shared/contracts/secrets';
import { commaSeparated, nonEmpty, positiveIntFromString } from '../shared/env';

export const envSchema = z.object({
  ...busEnv,
  /** Secrets Manager id of the HubSpot app's client secret (see `clientSecretSchema`). */
  [ENV.HUBSPOT_CLIENT_SECRET_ID]: nonEmpty(),
  /**
   * The public URL in front of the gateway's `path` (scheme, host, and the stage or base path, e.g.
   * `https://abc123.execute-api.eu-west-1.amazonaws.com/prod` or `https://hooks.example.com`): the
   * signature covers the full URL HubSpot called, which the function cannot see.
   */
  [ENV.HUBSPOT_WEBHOOK_BASE_URL]: z.pipe(
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    z.transform((url: string) => url.replace(/\/+$/, '')),
  ),
  /** Internal values of the deal stages that count as won. @default closedwon */
  [ENV.HUBSPOT_WON_STAGES]: z._default(commaSeparated(), [...HUBSPOT_DEFAULT_WON_STAGES]),
  [ENV.MAX_BODY_BYTES]: positiveIntFromString(),
});

const secret = z.string().check(z.minLength(8));

/**
 * The client secret in Secrets Manager: the secret itself, or `{"clientSecrets": ["new", "old"]}`
 * while it is being rotated.
 */
export const clientSecretSchema = secretShape('clientSecrets', secret, { rotating: true });
