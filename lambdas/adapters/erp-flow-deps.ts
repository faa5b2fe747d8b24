import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { jsonFromString, nonEmpty, positiveIntFromString } from '../shared/env';
import { dynamoConcurrencyLeases } from './aws/concurrency-leases';
import { eventBridgePublisher } from './aws/event-publisher';
import { dynamoExceptionsRepository } from './aws/exceptions-repository';
import { dynamoLinksRepository } from './aws/links-repository';
import { NetSuiteClient } from './netsuite/client';
import { netSuiteCredentialsFrom } from './netsuite/credentials';

/**
 * The environment fields every billing-to-ERP queue consumer gets from the stack (the stack's
 * `eventConsumer` and `netsuiteEnvironment`); each consumer adds its own `NETSUITE_MAPPING`.
 */
export const erpConsumerEnvFields = {
  EVENT_BUS_NAME: nonEmpty(),
  IDEMPOTENCY_TABLE_NAME: nonEmpty(),
  LINKS_TABLE_NAME: nonEmpty(),
  EXCEPTIONS_TABLE_NAME: nonEmpty(),
  QUEUE_URL: nonEmpty(),
  NETSUITE_BASE_URL: z.url(),
  NETSUITE_SECRET_ID: nonEmpty(),
  NETSUITE_TIMEOUT_MS: positiveIntFromString(),
  CONCURRENCY_LEASES_TABLE_NAME: nonEmpty(),
  NETSUITE_CONCURRENCY_LIMIT: positiveIntFromString(),
};

/** `NETSUITE_MAPPING` of a flow that posts billing documents (invoices, credit memos): JSON of `NetSuiteMapping`. */
export const documentMappingEnvField = z.pipe(
  jsonFromString(),
  z.object({
    subsidiaryId: nonEmpty(),
    currencyIds: z.record(z.string(), z.string()),
    productItemIds: z.record(z.string(), z.string()),
    defaultItemId: nonEmpty(),
    taxItemId: nonEmpty(),
    adjustmentItemId: nonEmpty(),
  }),
);

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
 * What the billing-to-ERP flows work with: the NetSuite client and the account's concurrency leases
 * (shared with every other function that calls NetSuite), the links and exceptions, the bus.
 */
export const erpFlowDeps = (env: ErpFlowEnv) => {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    netsuite: new NetSuiteClient({
      baseUrl: env.NETSUITE_BASE_URL,
      timeoutMs: env.NETSUITE_TIMEOUT_MS,
      credentials: netSuiteCredentialsFrom(env.NETSUITE_SECRET_ID),
    }),
    netsuiteLeases: dynamoConcurrencyLeases(documents, env.CONCURRENCY_LEASES_TABLE_NAME, {
      resource: 'netsuite',
      limit: env.NETSUITE_CONCURRENCY_LIMIT,
      leaseMs: 90_000,
    }),
    links: dynamoLinksRepository(documents, env.LINKS_TABLE_NAME),
    exceptions: dynamoExceptionsRepository(documents, env.EXCEPTIONS_TABLE_NAME),
    publisher: eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME),
  };
};
