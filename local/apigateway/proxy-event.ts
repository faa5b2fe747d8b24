import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';

/**
 * Builds the event an HTTP API (API Gateway v2) Lambda proxy integration with payload format 1.0
 * passes to the function: the REST API's proxy event, with the HTTP API's differences (header names
 * lower-cased, a repeated header or query key comma-joined in the single-value maps, `version`,
 * no `resourceId`, the body's encoding decided by its content type).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */

export type HeaderValues = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface ProxyRequest {
  readonly method: string;
  /**
   * The path as received, percent-encoded, without the query string (e.g. `/webhooks/stripe`): what
   * `event.path` holds. On a named stage (not `$default`) an HTTP API keeps the stage in it.
   */
  readonly path: string;
  /** Node's `req.headers`; used when `rawHeaders` is not given. */
  readonly headers: HeaderValues;
  /** Node's `req.rawHeaders`: keeps repeated headers in the client's order. */
  readonly rawHeaders?: readonly string[];
  readonly rawBody: Buffer;
  /** The raw query string (without `?`), `URLSearchParams`, or already-split values. */
  readonly query: string | URLSearchParams | HeaderValues;
  /** @default '127.0.0.1' */
  readonly sourceIp?: string;
}

export interface ProxyRoute {
  /** The route's path, e.g. `/webhooks/{vendor}` or `/{proxy+}`. */
  readonly resource: string;
  readonly pathParameters: Readonly<Record<string, string>> | null;
  /** `$default`, or the stage's name. */
  readonly stage: string;
  /** @default a random id */
  readonly requestId?: string;
}

export interface ProxyEventOptions {
  /** @default '000000000000' */
  readonly accountId?: string;
  /** @default 'local' */
  readonly apiId?: string;
  readonly stageVariables?: Readonly<Record<string, string>> | null;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * The content types an HTTP API passes to the function as UTF-8 text; any other body, or one without
 * a Content-Type, arrives base64-encoded (`isBase64Encoded: true`). HTTP APIs have no binary media
 * types setting. https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads
 */
const TEXT_MEDIA_TYPE = /^(text\/[^;]+|application\/(json|[^;]+\+json|xml|[^;]+\+xml|javascript))$/;

/** Whether an HTTP API passes a body of this Content-Type as text. */
export const isTextMediaType = (contentType: string | undefined): boolean => {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return TEXT_MEDIA_TYPE.test(mediaType);
};

const headerPairs = (request: ProxyRequest): [string, string][] => {
  if (request.rawHeaders) {
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
      pairs.push([(request.rawHeaders[i] ?? '').toLowerCase(), request.rawHeaders[i + 1] ?? '']);
    }
    return pairs;
  }
  return Object.entries(request.headers).flatMap(([name, value]): [string, string][] =>
    value === undefined
      ? []
      : typeof value === 'string'
        ? [[name.toLowerCase(), value]]
        : value.map((v): [string, string] => [name.toLowerCase(), v]),
  );
};

/**
 * Query string values arrive URL-decoded (a `+` as a space), as `URLSearchParams` decodes them.
 */
const queryPairs = (query: ProxyRequest['query']): [string, string][] => {
  if (typeof query === 'string')
    return [...new URLSearchParams(query.startsWith('?') ? query.slice(1) : query)];
  if (query instanceof URLSearchParams) return [...query];
  return Object.entries(query).flatMap(([name, value]): [string, string][] =>
    value === undefined
      ? []
      : typeof value === 'string'
        ? [[name, value]]
        : value.map((v): [string, string] => [name, v]),
  );
};

const group = (pairs: readonly [string, string][]) => {
  if (pairs.length === 0) return { single: null, multi: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of pairs) {
    // Payload format 1.0 on an HTTP API: a repeated name's values comma-joined (the REST API kept the last).
    single[name] = single[name] === undefined ? value : `${single[name]},${value}`;
    const values = multi[name] ?? [];
    values.push(value);
    multi[name] = values;
  }
  return { single, multi };
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestTime` is in CLF format, e.g. `09/Apr/2015:12:34:56 +0000`. */
const clfTime = (epochMs: number): string => {
  const date = new Date(epochMs);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
};

const traceId = (epochMs: number): string =>
  `Root=1-${Math.floor(epochMs / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

const findHeader = (pairs: readonly [string, string][], name: string): string | undefined =>
  pairs.findLast(([key]) => key === name)?.[1];

/** The REST API's proxy event, as an HTTP API sends it with payload format 1.0. */
export type HttpApiProxyEvent = APIGatewayProxyEvent & { readonly version: '1.0' };

export const toProxyEvent = (
  request: ProxyRequest,
  route: ProxyRoute,
  options: ProxyEventOptions = {},
): HttpApiProxyEvent => {
  const now = (options.now ?? Date.now)();
  const sourceIp = request.sourceIp ?? '127.0.0.1';
  const pairs = headerPairs(request);
  // Headers API Gateway adds on the way in, unless the client already sent them.
  const added: [string, string][] = [
    ['x-amzn-trace-id', traceId(now)],
    ['x-forwarded-for', sourceIp],
    ['x-forwarded-port', '443'],
    ['x-forwarded-proto', 'https'],
  ];
  for (const [name, value] of added) {
    if (findHeader(pairs, name) === undefined) pairs.push([name, value]);
  }
  const headers = group(pairs);
  const query = group(queryPairs(request.query));
  const contentType = findHeader(pairs, 'content-type');
  const binary = !isTextMediaType(contentType);
  const hasBody = request.rawBody.length > 0;
  const requestId = route.requestId ?? `${randomBytes(12).toString('base64url')}=`;
  const method = request.method.toUpperCase();
  return {
    version: '1.0',
    resource: route.resource,
    path: request.path,
    httpMethod: method,
    headers: headers.single ?? {},
    multiValueHeaders: headers.multi ?? {},
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multi,
    pathParameters:
      route.pathParameters && Object.keys(route.pathParameters).length > 0
        ? { ...route.pathParameters }
        : null,
    stageVariables: options.stageVariables ? { ...options.stageVariables } : null,
    requestContext: {
      // An HTTP API has routes, not REST resources: the field is there, null.
      resourceId: null as unknown as string,
      resourcePath: route.resource,
      httpMethod: method,
      extendedRequestId: randomBytes(8).toString('base64url'),
      requestTime: clfTime(now),
      path: request.path,
      accountId: options.accountId ?? '000000000000',
      protocol: 'HTTP/1.1',
      stage: route.stage,
      domainPrefix: options.apiId ?? 'local',
      requestTimeEpoch: now,
      requestId,
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        sourceIp,
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent: findHeader(pairs, 'user-agent') ?? null,
        user: null,
        // Not in an HTTP API's identity (no API keys); null here for the shared REST/HTTP event type.
        apiKey: null,
        apiKeyId: null,
        clientCert: null,
      },
      domainName: `${options.apiId ?? 'local'}.execute-api.localhost`,
      apiId: options.apiId ?? 'local',
      authorizer: { claims: null, scopes: null },
    },
    // A text type passes as UTF-8 text; anything else base64-encoded (see TEXT_MEDIA_TYPE).
    body: hasBody ? request.rawBody.toString(binary ? 'base64' : 'utf8') : null,
    isBase64Encoded: hasBody && binary,
  };
};
