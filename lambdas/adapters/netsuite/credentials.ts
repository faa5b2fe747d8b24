import * as z from 'zod/mini';
import { nonEmpty } from '../../shared/env';
import { loadSecret } from '../../shared/secrets';
import type { NetSuiteCredentials } from './client';

/** The NetSuite secret: token-based auth for one account (README: "Deploying"). */
export const netSuiteSecretSchema = z.object({
  accountId: nonEmpty(),
  consumerKey: nonEmpty(),
  consumerSecret: nonEmpty(),
  tokenId: nonEmpty(),
  tokenSecret: nonEmpty(),
});

/** Reads the credentials from Secrets Manager, cached for 5 minutes (a rotated token is picked up). */
export const netSuiteCredentialsFrom = (secretId: string) => (): Promise<NetSuiteCredentials> =>
  loadSecret(secretId, netSuiteSecretSchema);
