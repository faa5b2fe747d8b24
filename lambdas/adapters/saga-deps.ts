import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { QuoteToCashMapping } from '../shared/contracts/mappings';
import type { SagaDeps } from '../shared/saga-failure';
import { documentClient } from './aws/documents';
import { eventBridgePublisher } from './aws/event-publisher';
import { dynamoExceptionsRepository } from './aws/exceptions-repository';
import { type CrmEnv, crmClientsFromEnv } from './crm-clients';
import { type ErpFlowEnv, netSuiteClientFromEnv } from './erp-flow-deps';
import { StripePriceCatalog } from './stripe/price-catalog';
import { stripeApiKeyFrom } from './stripe/sdk';

/** What a saga's steps function is given by the stack (the stack's `saga`): CRM, Stripe, NetSuite, tables, bus. */
export type SagaEnv = CrmEnv &
  Omit<ErpFlowEnv, 'LINKS_TABLE_NAME'> & {
    readonly STRIPE_API_BASE_URL: string;
    readonly STRIPE_API_KEY_SECRET_ID: string;
    readonly STRIPE_TIMEOUT_MS: number;
    readonly QUOTE_TO_CASH_MAPPING: QuoteToCashMapping;
  };

/**
 * The adapters every saga's steps function builds at cold start, one way for all sagas: the ports of
 * `SagaDeps`, and the clients its own steps are built on (Stripe's options, the leased NetSuite client,
 * the DocumentClient).
 */
export const sagaDepsFromEnv = (env: SagaEnv) => {
  const documents = documentClient();
  const stripe = {
    apiKey: stripeApiKeyFrom(env.STRIPE_API_KEY_SECRET_ID),
    baseUrl: env.STRIPE_API_BASE_URL,
    timeoutMs: env.STRIPE_TIMEOUT_MS,
  };
  const deps: SagaDeps = {
    crm: crmClientsFromEnv(env),
    prices: new StripePriceCatalog(stripe),
    exceptions: dynamoExceptionsRepository(documents, env.EXCEPTIONS_TABLE_NAME),
    publisher: eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME),
    mapping: env.QUOTE_TO_CASH_MAPPING,
  };
  return {
    deps,
    documents,
    stripe,
    // The saga's NetSuite requests hold the account's leases like every flow's.
    netsuite: netSuiteClientFromEnv(env, documents),
  };
};
