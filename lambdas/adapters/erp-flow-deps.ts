import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  busEnv,
  exceptionsEnv,
  linksEnv,
  netsuiteEnv,
  queueConsumerEnv,
} from '../shared/contracts/env-fields';
import { dynamoConcurrencyLeases } from './aws/concurrency-leases';
import { documentClient } from './aws/documents';
import { eventBridgePublisher } from './aws/event-publisher';
import { dynamoExceptionsRepository } from './aws/exceptions-repository';
import { dynamoLinksRepository } from './aws/links-repository';
import { NetSuiteClient } from './netsuite/client';
import { netSuiteCredentialsFrom } from './netsuite/credentials';

/**
 * The environment fields every billing-to-ERP queue consumer gets from the stack (`EventFlow` with
 * `netsuite` and `links`); each consumer adds its own `NETSUITE_MAPPING` (lambdas/shared/contracts/mappings).
 */
export const erpConsumerEnvFields = {
  ...busEnv,
  ...queueConsumerEnv,
  ...linksEnv,
  ...exceptionsEnv,
  ...netsuiteEnv,
};

/** The environment every billing-to-ERP consumer gets from the stack. */
export interface ErpFlowEnv {
  readonly NETSUITE_BASE_URL: string;
  readonly NETSUITE_TIMEOUT_MS: number;
  readonly NETSUITE_SECRET_ID: string;
  readonly LINKS_TABLE_NAME: string;
  readonly EXCEPTIONS_TABLE_NAME: string;
  readonly EVENT_BUS_NAME: string;
  readonly CONCURRENCY_LEASES_TABLE_NAME: string;
  readonly NETSUITE_CONCURRENCY_LIMIT: number;
}

/**
 * The NetSuite client every function that calls NetSuite uses: its credentials from Secrets Manager,
 * and the account's concurrency leases (one per request in flight) shared with every other caller.
 */
export const netSuiteClientFromEnv = (
  env: Pick<
    ErpFlowEnv,
    | 'NETSUITE_BASE_URL'
    | 'NETSUITE_TIMEOUT_MS'
    | 'NETSUITE_SECRET_ID'
    | 'CONCURRENCY_LEASES_TABLE_NAME'
    | 'NETSUITE_CONCURRENCY_LIMIT'
  >,
  documents: DynamoDBDocumentClient,
): NetSuiteClient =>
  new NetSuiteClient({
    baseUrl: env.NETSUITE_BASE_URL,
    timeoutMs: env.NETSUITE_TIMEOUT_MS,
    credentials: netSuiteCredentialsFrom(env.NETSUITE_SECRET_ID),
    leases: dynamoConcurrencyLeases(documents, env.CONCURRENCY_LEASES_TABLE_NAME, {
      resource: 'netsuite',
      limit: env.NETSUITE_CONCURRENCY_LIMIT,
      leaseMs: env.NETSUITE_TIMEOUT_MS + 30_000,
    }),
  });

/** What the billing-to-ERP flows work with: the NetSuite client, the links and exceptions, the bus. */
export const erpFlowDeps = (env: ErpFlowEnv) => {
  const documents = documentClient();
  return {
    netsuite: netSuiteClientFromEnv(env, documents),
    links: dynamoLinksRepository(documents, env.LINKS_TABLE_NAME),
    exceptions: dynamoExceptionsRepository(documents, env.EXCEPTIONS_TABLE_NAME),
    publisher: eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME),
  };
};
