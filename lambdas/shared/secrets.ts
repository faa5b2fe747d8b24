import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type * as z from 'zod/mini';
import { describeIssues } from '../domain/events';
import { TransientError } from './errors';

/**
 * Secrets are read from Secrets Manager on first use and cached for `maxAgeSeconds`, so a rotated
 * secret is picked up without a redeploy while a warm function makes no call per request.
 */
const DEFAULT_MAX_AGE_SECONDS = 300;

export const loadSecret = async <S extends z.ZodMiniType>(
  secretId: string,
  schema: S,
  maxAgeSeconds = DEFAULT_MAX_AGE_SECONDS,
): Promise<z.infer<S>> => {
  let raw: unknown;
  try {
    raw = await getSecret(secretId, { maxAge: maxAgeSeconds });
  } catch (error) {
    throw new TransientError('could not read secret', { code: 'SecretUnavailable' }, { cause: error });
  }
  if (typeof raw !== 'string') {
    throw new TransientError('secret has no string value', { code: 'SecretUnavailable' });
  }
  let parsed: unknown = raw;
  if (raw.trimStart().startsWith('{')) {
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new TransientError('secret is not valid JSON', { code: 'SecretMalformed' });
    }
  }
  const result = schema.safeParse(parsed);
  // Only field names are reported, never values: the message may reach a log.
  if (!result.success) {
    throw new TransientError(`secret has the wrong shape: ${describeIssues(result.error.issues)}`, {
      code: 'SecretMalformed',
    });
  }
  return result.data;
};
