import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  type Resource,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface WebhookApiProps {
  /** @default 'live' */
  readonly stageName?: string;
  /** Steady-state requests per second across the stage. @default 50 */
  readonly rateLimit?: number;
  /** @default 100 */
  readonly burstLimit?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * The public entry point for vendor webhooks: `POST /webhooks/<vendor>`, one route per vendor, each
 * to that vendor's ingest function. Every media type is declared binary so the function receives the
 * exact bytes the vendor signed (base64-encoded by the gateway). Throttled per stage, access-logged.
 */
export class WebhookApi extends Construct {
  readonly api: RestApi;
  readonly stageName: string;
  private readonly webhooks: Resource;

  constructor(scope: Construct, id: string, props: WebhookApiProps = {}) {
    super(scope, id);
    this.stageName = props.stageName ?? 'live';
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new RestApi(this, 'Api', {
      description: 'revbridge vendor webhooks',
      endpointTypes: [EndpointType.REGIONAL],
      binaryMediaTypes: ['*/*'],
      cloudWatchRole: false,
      deployOptions: {
        stageName: this.stageName,
        throttlingRateLimit: props.rateLimit ?? 50,
        throttlingBurstLimit: props.burstLimit ?? 100,
        tracingEnabled: true,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
      },
    });
    this.webhooks = this.api.root.addResource('webhooks');

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions::AwsSolutions-APIG2',
      reason:
        'Each ingest function validates the raw body after verifying its signature; a gateway model would parse the body before the signature is checked.',
    });
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions::AwsSolutions-APIG6',
      reason:
        'Access logs are on. Execution logs need an account-wide API Gateway CloudWatch role, which an application stack should not own.',
    });
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions::AwsSolutions-APIG3',
      reason:
        'Stage throttling and the body size limit bound abuse; attach an organisation WAF web ACL to the stage where policy requires one.',
    });
  }

  /**
   * The URL vendors call, built from the API id and stage name rather than `api.url`: a function that
   * needs it (HubSpot signs it) would otherwise depend on the stage, which depends on the function.
   */
  get publicBaseUrl(): string {
    const stack = Stack.of(this);
    return `https://${this.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${this.stageName}`;
  }

  /** Adds `POST /webhooks/<vendor>` to the vendor's ingest function. */
  /**
   * `POST /webhooks/<vendor>`, or with `pathToken`, only `POST /webhooks/<vendor>/{token}`: for a
   * vendor that does not sign its requests (Salesforce outbound messages), the URL carries a secret the
   * ingest function compares; a request without one never reaches a function (API Gateway answers 403).
   */
  addVendor(vendor: string, fn: IFunction, options: { pathToken?: boolean } = {}): void {
    const resource = this.webhooks.addResource(vendor);
    const method = (options.pathToken ? resource.addResource('{token}') : resource).addMethod(
      'POST',
      new LambdaIntegration(fn, { proxy: true }),
    );
    // Vendors cannot sign in to IAM or Cognito: every request is authenticated by the vendor's
    // signature (HMAC over the raw body with a shared secret) or the secret path token, checked by
    // the ingest function.
    const how = options.pathToken
      ? 'the secret token in the endpoint URL (compared in constant time) and the organization id'
      : "the vendor's signature";
    for (const rule of ['AwsSolutions-APIG4', 'AwsSolutions-COG4']) {
      Validations.of(method).acknowledge({
        id: `AwsSolutions::${rule}`,
        reason: `${vendor} webhooks are authenticated by ${how}, verified in the ingest function.`,
      });
    }
  }
}
