import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  fromProxyResult,
  notFound,
  type ProxyRequest,
  RouteMatcher,
  toProxyEvent,
} from '../../local/apigateway';

const NOW = Date.UTC(2026, 2, 9, 12, 34, 56);

const request = (overrides: Partial<ProxyRequest> = {}): ProxyRequest => ({
  method: 'POST',
  path: '/webhooks/stripe',
  headers: {},
  rawHeaders: [
    'Content-Type',
    'application/json',
    'Stripe-Signature',
    't=1,v1=abc',
    'X-Tag',
    'a',
    'X-Tag',
    'b',
  ],
  rawBody: Buffer.from('{"id":"evt_1","amount":"12€"}'),
  query: 'attempt=1&tag=x&tag=y&q=a+b%2Bc',
  sourceIp: '203.0.113.9',
  ...overrides,
});

const route = {
  resource: '/webhooks/{vendor}',
  pathParameters: { vendor: 'stripe' },
  stage: '$default',
  requestId: 'req-1',
};

describe('toProxyEvent', () => {
  it('builds the payload format 1.0 event of an HTTP API: headers, query strings, path parameters and request context', () => {
    const event = toProxyEvent(request(), route, { now: () => NOW });
    expect(event).toMatchObject({
      version: '1.0',
      resource: '/webhooks/{vendor}',
      path: '/webhooks/stripe',
      httpMethod: 'POST',
      pathParameters: { vendor: 'stripe' },
      stageVariables: null,
      body: '{"id":"evt_1","amount":"12€"}',
      isBase64Encoded: false,
    });
    // Header names lower-cased; a repeated header or query key comma-joined in the single-value map.
    expect(event.headers).toMatchObject({
      'content-type': 'application/json',
      'stripe-signature': 't=1,v1=abc',
      'x-tag': 'a,b',
      'x-forwarded-for': '203.0.113.9',
    });
    expect(event.headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(event.multiValueHeaders['x-tag']).toEqual(['a', 'b']);
    // Values are URL-decoded and `+` is a space.
    expect(event.queryStringParameters).toEqual({ attempt: '1', tag: 'x,y', q: 'a b+c' });
    expect(event.multiValueQueryStringParameters).toEqual({ attempt: ['1'], tag: ['x', 'y'], q: ['a b+c'] });
    expect(event.requestContext).toMatchObject({
      requestId: 'req-1',
      stage: '$default',
      resourceId: null,
      resourcePath: '/webhooks/{vendor}',
      httpMethod: 'POST',
      path: '/webhooks/stripe',
      requestTimeEpoch: NOW,
      requestTime: '09/Mar/2026:12:34:56 +0000',
      protocol: 'HTTP/1.1',
      identity: { sourceIp: '203.0.113.9', userAgent: null, apiKey: null },
    });
  });

  it('gives null query strings, path parameters and body when there are none', () => {
    const event = toProxyEvent(
      request({ method: 'get', path: '/health', query: '', rawBody: Buffer.alloc(0) }),
      { resource: '/health', pathParameters: null, stage: '$default' },
    );
    expect(event.httpMethod).toBe('GET');
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
    expect(event.pathParameters).toBeNull();
    expect(event.body).toBeNull();
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext.requestId).toMatch(/^[\w-]{16}=$/);
  });

  it.each([
    ['application/json', false],
    ['application/json; charset=utf-8', false],
    ['text/xml; charset=utf-8', false],
    ['application/vnd.api+json', false],
    ['application/soap+xml', false],
    ['application/octet-stream', true],
    ['image/png', true],
    ['', true],
  ])('a body of type %j is base64-encoded: %s', (contentType, encoded) => {
    const bytes = Buffer.from('<a>€</a>');
    const event = toProxyEvent(
      request({ rawHeaders: contentType ? ['Content-Type', contentType] : [], rawBody: bytes }),
      route,
    );
    expect(event.isBase64Encoded).toBe(encoded);
    expect(event.body).toBe(encoded ? bytes.toString('base64') : bytes.toString('utf8'));
    // Either way the function gets back the bytes that were sent (what lambdas/shared/http.ts does).
    expect(Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8')).toEqual(bytes);
  });

  it('falls back to Node’s parsed headers when raw headers are not given', () => {
    const { rawHeaders: _raw, ...parsedOnly } = request();
    const event = toProxyEvent(
      { ...parsedOnly, headers: { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] } },
      route,
    );
    expect(event.headers['content-type']).toBe('text/plain');
    expect(event.headers['set-cookie']).toBe('a=1,b=2');
    expect(event.multiValueHeaders['set-cookie']).toEqual(['a=1', 'b=2']);
  });
});

describe('fromProxyResult', () => {
  it('writes status, merged headers and body, defaulting Content-Type to application/json', () => {
    const response = fromProxyResult(
      {
        statusCode: 202,
        headers: { 'Set-Cookie': 'a=1', 'X-Request': 'r1' },
        multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] },
        body: '{"received":true}',
      },
      { requestId: 'req-2' },
    );
    expect(response.statusCode).toBe(202);
    expect(response.headers).toEqual({
      'Set-Cookie': ['a=1', 'b=2'],
      'X-Request': 'r1',
      'Content-Type': 'application/json',
      'Content-Length': '17',
      'apigw-requestid': 'req-2',
    });
    expect(response.body.toString()).toBe('{"received":true}');
  });

  it('accepts a numeric string statusCode and an empty body', () => {
    const response = fromProxyResult({ statusCode: '204', headers: { 'Content-Type': 'text/plain' } });
    expect(response.statusCode).toBe(204);
    expect(response.headers['Content-Type']).toBe('text/plain');
    expect(response.body.length).toBe(0);
  });

  it('decodes a base64 body whatever the Accept header (an HTTP API has no binary media types)', () => {
    const result = { statusCode: 200, body: Buffer.from('%PDF').toString('base64'), isBase64Encoded: true };
    expect(fromProxyResult(result).body.toString()).toBe('%PDF');
    expect(fromProxyResult({ ...result, isBase64Encoded: false }).body.toString()).toBe(result.body);
  });

  it.each([
    ['an object body', { statusCode: 200, body: { ok: true } }],
    ['no statusCode', { body: 'ok' }],
    ['an out-of-range statusCode', { statusCode: 1000, body: 'ok' }],
    ['an unexpected field', { statusCode: 200, body: 'ok', cookies: ['a=1'] }],
    ['a header object', { statusCode: 200, headers: { 'X-A': { nested: true } } }],
    ['a string', 'ok'],
    ['nothing', undefined],
  ])('answers 500 Internal Server Error for %s', (_case, result) => {
    const response = fromProxyResult(result, { requestId: 'req-3' });
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body.toString())).toEqual({ message: 'Internal Server Error' });
    expect(response.headers['apigw-requestid']).toBe('req-3');
    expect(response.gatewayError).toMatch(/^Malformed Lambda proxy response/);
  });
});

describe('RouteMatcher', () => {
  const matcher = new RouteMatcher([
    { method: 'ANY', resource: '/{proxy+}', name: 'catch-all' },
    { method: 'POST', resource: '/webhooks/{vendor}', name: 'webhook' },
    { method: 'POST', resource: '/webhooks/stripe', name: 'stripe' },
    { method: 'ANY', resource: '/webhooks/{vendor}', name: 'webhook-any' },
    { method: 'GET', resource: '/', name: 'root' },
  ]);

  it('prefers literal parts over {param} over {proxy+}, and a method over ANY', () => {
    expect(matcher.match('POST', '/webhooks/stripe')?.route.name).toBe('stripe');
    expect(matcher.match('post', '/webhooks/hubspot')).toMatchObject({
      route: { name: 'webhook' },
      pathParameters: { vendor: 'hubspot' },
    });
    expect(matcher.match('PUT', '/webhooks/hubspot')?.route.name).toBe('webhook-any');
    expect(matcher.match('GET', '/')).toMatchObject({ route: { name: 'root' }, pathParameters: null });
  });

  it('gives {proxy+} the rest of the path, not URL-decoded, and needs at least one segment', () => {
    expect(matcher.match('DELETE', '/a/b%20c/d')).toMatchObject({
      route: { name: 'catch-all' },
      pathParameters: { proxy: 'a/b%20c/d' },
    });
    expect(matcher.match('POST', '/')).toBeUndefined();
  });

  it('refuses a greedy variable that is not last', () => {
    expect(() => new RouteMatcher([{ method: 'GET', resource: '/{proxy+}/x' }])).toThrow(
      /must be the last part/,
    );
  });
});

describe('the adapter behind a real HTTP server', () => {
  it('carries a request through the matcher, a proxy handler and back', async () => {
    const matcher = new RouteMatcher([{ method: 'POST', resource: '/webhooks/{vendor}' }]);
    const seen: APIGatewayProxyEvent[] = [];
    const handler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      seen.push(event);
      return {
        statusCode: 200,
        multiValueHeaders: { 'X-Seen': ['1', '2'] },
        body: JSON.stringify({ vendor: event.pathParameters?.vendor }),
      };
    };
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const url = new URL(req.url ?? '/', 'http://local');
        const match = matcher.match(req.method ?? 'GET', url.pathname);
        const response = match
          ? fromProxyResult(
              await handler(
                toProxyEvent(
                  {
                    method: req.method ?? 'GET',
                    path: url.pathname,
                    headers: req.headers,
                    rawHeaders: req.rawHeaders,
                    rawBody: Buffer.concat(chunks),
                    query: url.search,
                  },
                  { resource: match.route.resource, pathParameters: match.pathParameters, stage: '$default' },
                ),
              ),
            )
          : notFound();
        res.writeHead(response.statusCode, response.headers);
        res.end(response.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ok = await fetch(`${base}/webhooks/netsuite?x=1`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"a":1}',
      });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ vendor: 'netsuite' });
      expect(ok.headers.get('x-seen')).toBe('1, 2');
      expect(seen[0]).toMatchObject({ body: '{"a":1}', queryStringParameters: { x: '1' } });
      expect(seen[0]?.headers['content-type']).toBe('application/json');

      const missing = await fetch(`${base}/nope`, { method: 'POST' });
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ message: 'Not Found' });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
