import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';

/**
 * Builds the event a REST API (v1) Lambda proxy integration passes to the function.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
 */

export type HeaderValues = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface ProxyRequest {
  readonly method: string;
  /**
   * The resource path as received, percent-encoded, without the stage and without the query
   * string (e.g. `/webhooks/stripe`): what `event.path` holds.
   */
  readonly path: string;
  /** Node's `req.headers`; used when `rawHeaders` is not given. */
  readonly headers: HeaderValues;
  /** Node's `req.rawHeaders`: keeps the client's casing and repeated headers, as API Gateway does. */
  readonly rawHeaders?: readonly string[];
  readonly rawBody: Buffer;
  /** The raw query string (without `?`), `URLSearchParams`, or already-split values. */
  readonly query: string | URLSearchParams | HeaderValues;
  /** @default '127.0.0.1' */
  readonly sourceIp?: string;
}

export interface ProxyRoute {
  /** The resource template, e.g. `/webhooks/{vendor}` or `/{proxy+}`. */
  readonly resource: string;
  readonly pathParameters: Readonly<Record<string, string>> | null;
  readonly stage: string;
  /** @default a random UUID */
  readonly requestId?: string;
}

export interface ProxyEventOptions {
  /** The API's `BinaryMediaTypes`; `~1` (CloudFormation's escaped `/`) is accepted. */
  readonly binaryMediaTypes?: readonly string[];
  /** @default '000000000000' */
  readonly accountId?: string;
  /** @default 'local' */
  readonly apiId?: string;
  readonly stageVariables?: Readonly<Record<string, string>> | null;
  /** @default Date.now */
  readonly now?: () => number;
}

/** `*` in a binary media type matches anything, e.g. `*\/*` or `image/*`. */
const mediaTypePattern = (mediaType: string): RegExp => {
  const normalized = mediaType.replaceAll('~1', '/').trim().toLowerCase();
  const escaped = normalized.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
  return new RegExp(`^${escaped}$`);
};

/** Whether a Content-Type (or Accept) value is one of the API's binary media types. */
export const isBinaryMediaType = (
  contentType: string | undefined,
  binaryMediaTypes: readonly string[],
): boolean => {
  if (!contentType) return false;
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    mediaType.length > 0 && binaryMediaTypes.some((pattern) => mediaTypePattern(pattern).test(mediaType))
  );
};

const headerPairs = (request: ProxyRequest): [string, string][] => {
  if (request.rawHeaders) {
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
      pairs.push([request.rawHeaders[i] ?? '', request.rawHeaders[i + 1] ?? '']);
    }
    return pairs;
  }
  return Object.entries(request.headers).flatMap(([name, value]): [string, string][] =>
    value === undefined
      ? []
      : typeof value === 'string'
        ? [[name, value]]
        : value.map((v): [string, string] => [name, v]),
  );
};

/**
 * REST APIs URL-decode query string values (a `+` arrives as a space), as `URLSearchParams` does.
 * The single-value map keeps the last value of a repeated key.
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
    single[name] = value;
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
  pairs.findLast(([key]) => key.toLowerCase() === name)?.[1];

export const toProxyEvent = (
  request: ProxyRequest,
  route: ProxyRoute,
  options: ProxyEventOptions = {},
): APIGatewayProxyEvent => {
  const now = (options.now ?? Date.now)();
  const sourceIp = request.sourceIp ?? '127.0.0.1';
  const pairs = headerPairs(request);
  // Headers API Gateway adds on the way in, unless the client already sent them.
  const added: [string, string][] = [
    ['X-Amzn-Trace-Id', traceId(now)],
    ['X-Forwarded-For', sourceIp],
    ['X-Forwarded-Port', '443'],
    ['X-Forwarded-Proto', 'https'],
  ];
  for (const [name, value] of added) {
    if (findHeader(pairs, name.toLowerCase()) === undefined) pairs.push([name, value]);
  }
  const headers = group(pairs);
  const query = group(queryPairs(request.query));
  const contentType = findHeader(pairs, 'content-type');
  const binary = isBinaryMediaType(contentType, options.binaryMediaTypes ?? []);
  const hasBody = request.rawBody.length > 0;
  const requestId = route.requestId ?? randomUUID();
  const method = request.method.toUpperCase();
  return {
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
      resourceId: randomBytes(3).toString('hex'),
      resourcePath: route.resource,
      httpMethod: method,
      extendedRequestId: randomBytes(8).toString('base64url'),
      requestTime: clfTime(now),
      path: `/${route.stage}${request.path}`,
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
        apiKey: null,
        apiKeyId: null,
        clientCert: null,
      },
      domainName: `${options.apiId ?? 'local'}.execute-api.localhost`,
      apiId: options.apiId ?? 'local',
      authorizer: null,
    },
    // With a binary media type the gateway base64-encodes the payload; otherwise it passes UTF-8 text.
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html
    body: hasBody ? request.rawBody.toString(binary ? 'base64' : 'utf8') : null,
    isBase64Encoded: hasBody && binary,
  };
};
