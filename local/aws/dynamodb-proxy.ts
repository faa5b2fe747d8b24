import { AwsServiceError, type JsonService } from './json-protocol';

/**
 * DynamoDB on the runtime's one AWS endpoint too: requests with `X-Amz-Target: DynamoDB_20120810.*`
 * are passed to dynalite (which runs in its own thread, on its own port) and its answer back. The
 * functions keep their direct `AWS_ENDPOINT_URL_DYNAMODB`; this is for clients given only the AWS
 * endpoint (the operator CLI's `--endpoint`), the way a deployed stage has one regional endpoint set.
 */
export class DynamoDbProxy implements JsonService {
  readonly targetPrefix = 'DynamoDB_20120810';
  readonly errorNamespace = 'com.amazonaws.dynamodb.v20120810';

  constructor(private readonly dynamoUrl: () => string) {}

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    const response = await fetch(this.dynamoUrl(), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `${this.targetPrefix}.${operation}`,
        // dynalite checks that a request is signed, not the signature.
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=local',
        'x-amz-date': '20200101T000000Z',
      },
      body: JSON.stringify(input),
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.ok) return body;
    const type = String(body.__type ?? 'InternalFailure');
    throw new AwsServiceError(
      type.slice(type.lastIndexOf('#') + 1),
      String(body.message ?? body.Message ?? 'DynamoDB request failed'),
      response.status,
    );
  }
}
