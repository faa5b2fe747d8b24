import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The DynamoDB DocumentClient every repository works through, built one way: undefined attributes are
 * dropped on write (optional fields of a record are absent, not an error). A function builds it once
 * at cold start and hands it to each repository; the endpoint comes from `AWS_ENDPOINT_URL_DYNAMODB`
 * (or the client given, for the operator CLI and the tests).
 */
export const documentClient = (client: DynamoDBClient = new DynamoDBClient({})): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
