import { randomUUID } from 'node:crypto';
import { isBinaryMediaType } from './proxy-event';

/**
 * Turns what a proxy-integrated Lambda returned into the HTTP response API Gateway (REST, v1)
 * sends, or into the 502 it sends when the result is malformed.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-output-format
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
  /** The API's `BinaryMediaTypes`; with `accept` they decide whether a base64 body is decoded. */
  readonly binaryMediaTypes?: readonly string[];
  /** The request's Accept header: API Gateway looks at its first media type. */
  readonly accept?: string;
  /** @default a random UUID */
  readonly requestId?: string;
}

/** The fields a proxy result may have; REST APIs reject anything else as malformed. */
const ALLOWED_KEYS = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded']);

const gatewayResponse = (
  statusCode: number,
  message: string,
  errorType: string,
  requestId: string,
  gatewayError: string,
): GatewayHttpResponse => {
  const body = Buffer.from(JSON.stringify({ message }));
  return {
    statusCode,
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': String(body.length),
      'x-amzn-RequestId': requestId,
      'x-amzn-ErrorType': errorType,
    },
    body,
    gatewayError,
  };
};

/** What API Gateway answers when the integration fails or returns a malformed result. */
export const internalServerError = (reason: string, requestId: string = randomUUID()): GatewayHttpResponse =>
  gatewayResponse(502, 'Internal server error', 'InternalServerErrorException', requestId, reason);

/** What a REST API answers for a path or method it has no resource for. */
export const missingAuthenticationToken = (requestId: string = randomUUID()): GatewayHttpResponse =>
  gatewayResponse(
    403,
    'Missing Authentication Token',
    'MissingAuthenticationTokenException',
    requestId,
    'no route',
  );

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
  const requestId = options.requestId ?? randomUUID();
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
    // A base64 body is decoded only when the client's first Accept type is a binary media type.
    // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html
    const firstAccept = options.accept?.split(',')[0];
    const decode =
      result.isBase64Encoded === true && isBinaryMediaType(firstAccept, options.binaryMediaTypes ?? []);
    const body = decode ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
    // REST APIs answer application/json when the function sets no Content-Type.
    if (headerValue(headers, 'content-type') === undefined) headers.set('Content-Type', ['application/json']);
    for (const name of [...headers.keys()]) if (name.toLowerCase() === 'content-length') headers.delete(name);
    headers.set('Content-Length', [String(body.length)]);
    headers.set('x-amzn-RequestId', [requestId]);
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
