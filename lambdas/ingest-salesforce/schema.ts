import * as z from 'zod/mini';
import { SALESFORCE_DEFAULT_WON_STAGES } from '../adapters/salesforce/map';
import { hasValidSuffix } from '../adapters/salesforce/record-id';
import { ENV } from '../shared/contracts/env';
import { busEnv } from '../shared/contracts/env-fields';
import { secretShape } from '../shared/contracts/secrets';
import { commaSeparated, nonEmpty, positiveIntFromString } from '../shared/env';

const organizationId = z
  .string()
  .check(
    z.refine(
      (id: string) =>
        /^00D[a-zA-Z0-9]{12}$/.test(id) || (/^00D[a-zA-Z0-9]{15}$/.test(id) && hasValidSuffix(id)),
      'must be a Salesforce organization id (00D..., 15 characters, or 18 with a valid case-safe suffix)',
    ),
  );

export const envSchema = z.object({
  ...busEnv,
  /** The org whose outbound messages are accepted (Setup → Company Information), 15 or 18 characters. */
  [ENV.SALESFORCE_ORG_ID]: organizationId,
  /**
   * Secrets Manager id of the shared path token. When set, every request must carry the token (as the
   * `{token}` path parameter or the `token` query parameter of the outbound message's endpoint URL).
   */
  [ENV.SALESFORCE_PATH_TOKEN_SECRET_ID]: z.optional(nonEmpty()),
  /** Stage names that count as won when a message does not send `IsWon`. @default Closed Won */
  [ENV.SALESFORCE_WON_STAGES]: z._default(commaSeparated(), [...SALESFORCE_DEFAULT_WON_STAGES]),
  [ENV.MAX_BODY_BYTES]: positiveIntFromString(),
});

const token = z.string().check(z.minLength(16, 'must be at least 16 characters'));

/**
 * The path token in Secrets Manager: the token itself, or `{"pathTokens": ["new", "old"]}` while the
 * endpoint URL configured in Salesforce moves from one token to the next.
 */
export const pathTokenSecretSchema = secretShape('pathTokens', token, { rotating: true });
