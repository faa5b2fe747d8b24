import * as z from 'zod/mini';
import type { CrmClient, Deal, DealFieldWriter } from '../domain/deal';
import { crmEnv } from '../shared/contracts/env-fields';
import { secretShape } from '../shared/contracts/secrets';
import { loadSecret } from '../shared/secrets';
import { HubSpotCrmClient } from './hubspot/crm-client';
import { SalesforceCrmClient } from './salesforce/crm-client';

/**
 * The CRM clients of a function that works on deals of either CRM, built from its environment. The
 * start consumer and the saga's steps share this, so a deal is read the same way by both.
 */

/** The CRM clients' environment (lib/vendor-environment.ts `crmEnvironment` sets it). */
export const crmEnvSchema = z.object(crmEnv);
export type CrmEnv = z.infer<typeof crmEnvSchema>;

/** A bare token, as the secret holds it: `"..."` or `{"accessToken":"..."}`. */
const tokenSchema = secretShape('accessToken');

/** On a 401 the client asks again with `refresh`: the secret is re-read at once instead of from cache. */
const tokenFrom = (secretId: string) => (options: { readonly refresh: boolean }) =>
  loadSecret(secretId, tokenSchema, options.refresh ? 0 : undefined);

/** Both CRM clients, as their own classes (for calls beyond `CrmClient`, e.g. account updates). */
export const crmClientsOf = (env: CrmEnv): { salesforce: SalesforceCrmClient; hubspot: HubSpotCrmClient } => {
  const salesforce = new SalesforceCrmClient({
    instanceUrl: env.SALESFORCE_INSTANCE_URL,
    accessToken: tokenFrom(env.SALESFORCE_ACCESS_TOKEN_SECRET_ID),
    defaultCurrency: env.SALESFORCE_DEFAULT_CURRENCY,
    ...(env.SALESFORCE_TAX_ID_FIELD ? { accountTaxIdField: env.SALESFORCE_TAX_ID_FIELD } : {}),
    ...(env.SALESFORCE_EMAIL_FIELD ? { accountEmailField: env.SALESFORCE_EMAIL_FIELD } : {}),
    ...(env.SALESFORCE_SUBSIDIARY_FIELD ? { subsidiaryField: env.SALESFORCE_SUBSIDIARY_FIELD } : {}),
    ...(env.SALESFORCE_AMENDMENT_OF_FIELD ? { amendmentOfField: env.SALESFORCE_AMENDMENT_OF_FIELD } : {}),
  });
  const [subsidiaryObject, subsidiaryName] = env.HUBSPOT_SUBSIDIARY_PROPERTY?.split('.') ?? [];
  const hubspot = new HubSpotCrmClient({
    baseUrl: env.HUBSPOT_BASE_URL,
    accessToken: tokenFrom(env.HUBSPOT_ACCESS_TOKEN_SECRET_ID),
    defaultCurrency: env.HUBSPOT_DEFAULT_CURRENCY,
    ...(env.HUBSPOT_TAX_ID_PROPERTY ? { companyTaxIdProperty: env.HUBSPOT_TAX_ID_PROPERTY } : {}),
    ...(env.HUBSPOT_EMAIL_PROPERTY ? { companyEmailProperty: env.HUBSPOT_EMAIL_PROPERTY } : {}),
    ...(env.HUBSPOT_AMENDMENT_OF_PROPERTY ? { amendmentOfProperty: env.HUBSPOT_AMENDMENT_OF_PROPERTY } : {}),
    ...(subsidiaryName && (subsidiaryObject === 'company' || subsidiaryObject === 'deal')
      ? { subsidiaryProperty: { object: subsidiaryObject, name: subsidiaryName } }
      : {}),
  });
  return { salesforce, hubspot };
};

export const crmClientsFromEnv = (env: CrmEnv): ((crm: Deal['crm']) => CrmClient & DealFieldWriter) => {
  const { salesforce, hubspot } = crmClientsOf(env);
  return (crm) => (crm === 'salesforce' ? salesforce : hubspot);
};
