import { randomBytes } from 'node:crypto';

/**
 * Turns what a proxy-integrated Lambda returned (payload format 1.0) into the HTTP response an HTTP
 * API (API Gateway v2) sends, or into the 500 it sends when the function failed or its result is
 * malformed.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html#http-api-develop-integrations-lambda.response
 */

export interface GatewayHttpResponse {
  readonly statusCode: number;
  /** Ready for `res.writeHead`; repeated headers are arrays. */
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
  /** Why the gateway answered on its own (malformed result, ...), for logs. */
  readonly gatewayError?: string;
}

export interface ProxyResultOptions {
  /** @default a random id */
  readonly requestId?: string;
}

const newRequestId = (): string => `${randomBytes(12).toString('base64url')}=`;

/**
 * The fields of format 1.0's response. Anything else is refused as malformed here, as the REST API
 * refuses it: stricter than needed if the HTTP API ignores extra fields, never looser.
 */
const ALLOWED_KEYS = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded']);

const gatewayResponse = (
  statusCode: number,
  message: string,
  requestId: string,
  gatewayError: string,
): GatewayHttpResponse => {
  const body = Buffer.from(JSON.stringify({ message }));
  return {
    statusCode,
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': String(body.length),
      'apigw-requestid': requestId,
    },
    body,
    gatewayError,
  };
};

/** What an HTTP API answers when the function fails or returns a malformed result. */
export const internalServerError = (
  reason: string,
  requestId: string = newRequestId(),
): GatewayHttpResponse => gatewayResponse(500, 'Internal Server Error', requestId, reason);

/** What an HTTP API answers for a method and path no route matches. */
export const notFound = (requestId: string = newRequestId()): GatewayHttpResponse =>
  gatewayResponse(404, 'Not Found', requestId, 'no route');

/** What an HTTP API answers for a body over its 10 MB payload quota. */
export const requestEntityTooLarge = (requestId: string = newRequestId()): GatewayHttpResponse =>
  gatewayResponse(413, 'Request Entity Too Large', requestId, 'payload over the quota');

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const scalar = (value: unknown): string | undefined =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : undefined;

class Malformed extends Error {}

const parseStatusCode = (value: unknown): number => {
  // The Lambda console's own blueprints return statusCode as a string, which API Gateway accepts.
  const code = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 100 || code > 599) {
    throw new Malformed('statusCode must be an integer HTTP status');
  }
  return code;
};

/**
 * Headers and multiValueHeaders are merged; a name/value pair given in both appears once.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#apigateway-multivalue-headers-and-parameters
 */
const mergeHeaders = (headers: unknown, multiValueHeaders: unknown): Map<string, string[]> => {
  const merged = new Map<string, string[]>();
  if (multiValueHeaders !== undefined && multiValueHeaders !== null) {
    if (!isRecord(multiValueHeaders)) throw new Malformed('multiValueHeaders must be an object');
    for (const [name, values] of Object.entries(multiValueHeaders)) {
      if (!Array.isArray(values)) throw new Malformed(`multiValueHeaders.${name} must be a list`);
      merged.set(
        name,
        values.map((value) => {
          const text = scalar(value);
          if (text === undefined) throw new Malformed(`multiValueHeaders.${name} must hold strings`);
          return text;
        }),
      );
    }
  }
  if (headers !== undefined && headers !== null) {
    if (!isRecord(headers)) throw new Malformed('headers must be an object');
    for (const [name, value] of Object.entries(headers)) {
      const text = scalar(value);
      if (text === undefined) throw new Malformed(`headers.${name} must be a string`);
      const values = merged.get(name) ?? [];
      if (!values.includes(text)) values.push(text);
      merged.set(name, values);
    }
  }
  return merged;
};

const headerValue = (headers: Map<string, string[]>, name: string): string | undefined => {
  for (const [key, values] of headers) if (key.toLowerCase() === name) return values[0];
  return undefined;
};

export const fromProxyResult = (result: unknown, options: ProxyResultOptions = {}): GatewayHttpResponse => {
  const requestId = options.requestId ?? newRequestId();
  try {
    if (!isRecord(result)) throw new Malformed('the result is not an object');
    const unexpected = Object.keys(result).filter((key) => !ALLOWED_KEYS.has(key));
    if (unexpected.length > 0) throw new Malformed(`unexpected field(s) ${unexpected.join(', ')}`);
    const statusCode = parseStatusCode(result.statusCode);
    if (result.body !== undefined && result.body !== null && typeof result.body !== 'string') {
      throw new Malformed('body must be a string');
    }
    if (result.isBase64Encoded !== undefined && typeof result.isBase64Encoded !== 'boolean') {
      throw new Malformed('isBase64Encoded must be a boolean');
    }
    const headers = mergeHeaders(result.headers, result.multiValueHeaders);
    const text = typeof result.body === 'string' ? result.body : '';
    // An HTTP API has no binary media types: a base64 body is always decoded.
    const body = result.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
    // As the REST API does, application/json when the function sets no Content-Type (the ingest
    // functions always set one).
    if (headerValue(headers, 'content-type') === undefined) headers.set('Content-Type', ['application/json']);
    for (const name of [...headers.keys()]) if (name.toLowerCase() === 'content-length') headers.delete(name);
    headers.set('Content-Length', [String(body.length)]);
    headers.set('apigw-requestid', [requestId]);
    const out: Record<string, string | string[]> = {};
    for (const [name, values] of headers) out[name] = values.length === 1 ? (values[0] ?? '') : values;
    return { statusCode, headers: out, body };
  } catch (error) {
    if (error instanceof Malformed) {
      return internalServerError(`Malformed Lambda proxy response: ${error.message}`, requestId);
    }
    throw error;
  }
};
