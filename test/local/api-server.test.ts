import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { BillingMeter } from '../../local/aws/billing-meter';
import { ApiServer, httpApiRoutes } from '../../local/runtime/api-server';
import type { PhysicalResource } from '../../local/runtime/intrinsics';
import type { InvokeResult, LambdaHost } from '../../local/runtime/lambda-host';
import type { CfnResource, CfnTemplate } from '../../local/runtime/template';

/** An HTTP API as `cdk synth` writes it: the API, its stage, and per route an integration. */
const httpApiTemplate = (
  routes: Record<string, { fn: string; payload?: string; type?: string }>,
  stageName = '$default',
): CfnTemplate => {
  const resources: Record<string, CfnResource> = {
    Api: { Type: 'AWS::ApiGatewayV2::Api', Properties: { ProtocolType: 'HTTP' } },
    Stage: { Type: 'AWS::ApiGatewayV2::Stage', Properties: { ApiId: { Ref: 'Api' }, StageName: stageName } },
  };
  for (const [index, [routeKey, { fn, payload = '1.0', type = 'AWS_PROXY' }]] of Object.entries(
    routes,
  ).entries()) {
    resources[fn] = { Type: 'AWS::Lambda::Function', Properties: {} };
    resources[`Integration${index}`] = {
      Type: 'AWS::ApiGatewayV2::Integration',
      Properties: {
        ApiId: { Ref: 'Api' },
        IntegrationType: type,
        IntegrationUri: { 'Fn::GetAtt': [fn, 'Arn'] },
        PayloadFormatVersion: payload,
      },
    };
    resources[`Route${index}`] = {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: {
        ApiId: { Ref: 'Api' },
        RouteKey: routeKey,
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: `Integration${index}` }]] },
      },
    };
  }
  return { Resources: resources };
};

const physical = (template: CfnTemplate): Map<string, PhysicalResource> =>
  new Map(Object.keys(template.Resources).map((id) => [id, { ref: `fn-${id}`, attributes: {} }]));

describe('httpApiRoutes', () => {
  it('reads each route key and the function its proxy integration invokes', () => {
    const template = httpApiTemplate({
      'POST /webhooks/stripe': { fn: 'IngestStripe' },
      'POST /webhooks/salesforce/{token}': { fn: 'IngestSalesforce' },
      $default: { fn: 'Fallback' },
    });
    const api = httpApiRoutes(template, physical(template));
    expect(api.stage).toBe('$default');
    expect(api.routes).toEqual([
      {
        method: 'POST',
        resource: '/webhooks/stripe',
        routeKey: 'POST /webhooks/stripe',
        functionName: 'fn-IngestStripe',
      },
      {
        method: 'POST',
        resource: '/webhooks/salesforce/{token}',
        routeKey: 'POST /webhooks/salesforce/{token}',
        functionName: 'fn-IngestSalesforce',
      },
    ]);
    expect(api.fallback).toMatchObject({ routeKey: '$default', functionName: 'fn-Fallback' });
  });

  it('refuses payload format 2.0, which would give the functions a different event', () => {
    const template = httpApiTemplate({ 'POST /webhooks/stripe': { fn: 'IngestStripe', payload: '2.0' } });
    expect(() => httpApiRoutes(template, physical(template))).toThrow(/payload format 2\.0; only 1\.0/);
  });

  it('refuses an integration that is not a Lambda proxy', () => {
    const template = httpApiTemplate({ 'POST /webhooks/stripe': { fn: 'IngestStripe', type: 'HTTP_PROXY' } });
    expect(() => httpApiRoutes(template, physical(template))).toThrow(/only Lambda proxy integrations/);
  });
});

describe('ApiServer', () => {
  const seen: { functionName: string; event: APIGatewayProxyEvent }[] = [];
  let answer: (event: APIGatewayProxyEvent) => InvokeResult = () => ({
    ok: true,
    result: { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"received":true}' },
    durationMs: 1,
  });
  const lambda = {
    invoke: async (functionName: string, event: unknown) => {
      seen.push({ functionName, event: event as APIGatewayProxyEvent });
      return answer(event as APIGatewayProxyEvent);
    },
  } as unknown as LambdaHost;

  const serve = async (template: CfnTemplate, meter?: BillingMeter) => {
    const api = new ApiServer(template, physical(template), lambda, () => ({}), undefined, meter);
    const server: Server = createServer((req, res) => void api.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  };

  beforeEach(() => {
    seen.length = 0;
  });

  it('gives the function the route path as event.path on $default, with its path parameters', async () => {
    const { base, close } = await serve(
      httpApiTemplate({ 'POST /webhooks/salesforce/{token}': { fn: 'IngestSalesforce' } }),
    );
    try {
      const response = await fetch(`${base}/webhooks/salesforce/abc`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml; charset=utf-8' },
        body: '<x/>',
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('apigw-requestid')).toMatch(/=$/);
      expect(seen[0]).toMatchObject({
        functionName: 'fn-IngestSalesforce',
        event: {
          version: '1.0',
          resource: '/webhooks/salesforce/{token}',
          path: '/webhooks/salesforce/abc',
          pathParameters: { token: 'abc' },
          body: '<x/>',
          isBase64Encoded: false,
          requestContext: { stage: '$default' },
        },
      });
    } finally {
      await close();
    }
  });

  it('keeps a named stage in event.path, as an HTTP API does', async () => {
    const { base, close } = await serve(
      httpApiTemplate({ 'POST /webhooks/stripe': { fn: 'IngestStripe' } }, 'live'),
    );
    try {
      expect((await fetch(`${base}/live/webhooks/stripe`, { method: 'POST', body: '{}' })).status).toBe(200);
      expect(seen[0]?.event).toMatchObject({
        path: '/live/webhooks/stripe',
        requestContext: { stage: 'live' },
      });
    } finally {
      await close();
    }
  });

  it('answers 404 for no route, 413 over 10 MB and 500 for a function error, calling no function for the first two', async () => {
    const meter = new BillingMeter();
    const { base, close } = await serve(
      httpApiTemplate({ 'POST /webhooks/stripe': { fn: 'IngestStripe' } }),
      meter,
    );
    try {
      const missing = await fetch(`${base}/webhooks/salesforce`, { method: 'POST', body: '<x/>' });
      expect({ status: missing.status, body: await missing.json() }).toEqual({
        status: 404,
        body: { message: 'Not Found' },
      });
      const wrongMethod = await fetch(`${base}/webhooks/stripe`, { method: 'PUT', body: '{}' });
      expect(wrongMethod.status).toBe(404);
      const tooLarge = await fetch(`${base}/webhooks/stripe`, {
        method: 'POST',
        body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20),
      });
      expect({ status: tooLarge.status, body: await tooLarge.json() }).toEqual({
        status: 413,
        body: { message: 'Request Entity Too Large' },
      });
      expect(seen).toEqual([]);

      answer = () => ({
        ok: false,
        error: { errorType: 'Error', errorMessage: 'boom', stack: [] },
        durationMs: 1,
      });
      const failed = await fetch(`${base}/webhooks/stripe`, { method: 'POST', body: '{}' });
      expect({ status: failed.status, body: await failed.json() }).toEqual({
        status: 500,
        body: { message: 'Internal Server Error' },
      });
      // Billed: the request that reached a route, one per 512 KB.
      expect(meter.usage()['apigateway.requests'].get('POST /webhooks/stripe')).toBe(1);
    } finally {
      await close();
    }
  });
});
