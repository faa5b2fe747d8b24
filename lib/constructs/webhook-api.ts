import { CfnOutput, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface WebhookApiProps {
  /** Steady-state requests per second, for each route. @default 50 */
  readonly rateLimit?: number;
  /** @default 100 */
  readonly burstLimit?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * One JSON line per request, from the HTTP API's `$context` variables (not the REST API's: HTTP APIs
 * have no `resourcePath` or `identity.caller`). https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    ip: '$context.identity.sourceIp',
    requestTime: '$context.requestTime',
    httpMethod: '$context.httpMethod',
    routeKey: '$context.routeKey',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    integrationStatus: '$context.integrationStatus',
    integrationLatency: '$context.integrationLatency',
    error: '$context.error.message',
  }),
);

/**
 * The public entry point for vendor webhooks: an HTTP API (API Gateway v2; README "Cost" says why not
 * the REST API) with `POST /webhooks/<vendor>`, one route per vendor, each to that vendor's ingest
 * function with payload format 1.0, the REST API's proxy event. Served on the `$default` stage, so
 * `event.path` is the route's path as the REST API gave it (a named stage would prefix it, and HubSpot's
 * signed URL would be rebuilt wrong). Throttled per route, access-logged.
 *
 * Bodies: an HTTP API passes text types (`application/json`, `text/xml`: what Stripe, HubSpot and
 * Salesforce send) as UTF-8 text and base64-encodes the rest; either way `rawBody` in
 * lambdas/shared/http.ts gets back the bytes the vendor signed. The gateway refuses a body over 10 MB
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html); the ingest
 * functions refuse anything over their own `MAX_BODY_BYTES` with 413.
 */
export class WebhookApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: WebhookApiProps = {}) {
    super(scope, id);
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new HttpApi(this, 'Api', {
      description: 'revbridge vendor webhooks',
      createDefaultStage: false,
    });
    this.stage = new HttpStage(this, 'Stage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 50, burstLimit: props.burstLimit ?? 100 },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
    });
    // The output the REST API's `Endpoint` had, at the same construct path, so its logical id is unchanged.
    new CfnOutput(this.api, 'Endpoint', {
      value: this.publicBaseUrl,
      description: 'the webhook API; vendors call <this>/webhooks/<vendor>',
    });
  }

  /**
   * The URL vendors call, built from the API id rather than the stage's URL: a function that needs it
   * (HubSpot signs it) would otherwise depend on the stage, which depends on the function's route.
   */
  get publicBaseUrl(): string {
    const stack = Stack.of(this);
    return `https://${this.api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
  }

  /**
   * `POST /webhooks/<vendor>`, or with `pathToken`, only `POST /webhooks/<vendor>/{token}`: for a
   * vendor that does not sign its requests (Salesforce outbound messages), the URL carries a secret the
   * ingest function compares; a request without one never reaches a function (the HTTP API answers 404).
   */
  addVendor(vendor: string, fn: IFunction, options: { pathToken?: boolean } = {}): void {
    const path = options.pathToken ? `/webhooks/${vendor}/{token}` : `/webhooks/${vendor}`;
    const routes = this.api.addRoutes({
      path,
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration(`${vendor}Integration`, fn, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_1_0,
      }),
    });
    // Vendors cannot sign in to IAM, Cognito or a JWT issuer: every request is authenticated by the
    // vendor's signature (HMAC over the raw body with a shared secret) or the secret path token,
    // checked by the ingest function.
    const how = options.pathToken
      ? 'the secret token in the endpoint URL (compared in constant time) and the organization id'
      : "the vendor's signature";
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason: `${vendor} webhooks are authenticated by ${how}, verified in the ingest function.`,
      });
    }
  }
}
