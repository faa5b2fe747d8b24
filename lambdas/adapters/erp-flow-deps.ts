import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { eventBridgePublisher } from './aws/event-publisher';
import { dynamoExceptionsRepository } from './aws/exceptions-repository';
import { dynamoLinksRepository } from './aws/links-repository';
import { NetSuiteClient } from './netsuite/client';
import { netSuiteCredentialsFrom } from './netsuite/credentials';

/** The environment every billing-to-ERP consumer gets from the stack. */
export interface ErpFlowEnv {
  readonly NETSUITE_BASE_URL: string;
  readonly NETSUITE_TIMEOUT_MS: number;
  readonly NETSUITE_SECRET_ID: string;
  readonly LINKS_TABLE_NAME: string;
  readonly EXCEPTIONS_TABLE_NAME: string;
  readonly EVENT_BUS_NAME: string;
}

/** What the billing-to-ERP flows work with: the NetSuite client, the links and exceptions, the bus. */
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
    links: dynamoLinksRepository(documents, env.LINKS_TABLE_NAME),
    exceptions: dynamoExceptionsRepository(documents, env.EXCEPTIONS_TABLE_NAME),
    publisher: eventBridgePublisher(new EventBridgeClient({}), env.EVENT_BUS_NAME),
  };
};
