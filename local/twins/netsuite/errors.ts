import type { TwinResponse } from '../common';

/**
 * NetSuite REST web services error codes the twin answers with. The body shape and the codes follow
 * "Error Handling in REST Web Services"
 * (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156570709583.html).
 */
export type NetSuiteErrorCode =
  | 'INVALID_LOGIN'
  | 'INVALID_VALUE'
  | 'INVALID_CONTENT'
  | 'USER_ERROR'
  | 'NONEXISTENT_ID'
  | 'CONCURRENCY_LIMIT_EXCEEDED'
  | 'THIS_RECORD_CANNOT_BE_DELETED_BECAUSE_IT_HAS_DEPENDENT_RECORDS'
  | 'METHOD_NOT_ALLOWED'
  | 'UNEXPECTED_ERROR';

export interface NetSuiteErrorDetail {
  detail: string;
  'o:errorCode': NetSuiteErrorCode;
  /** JSON path into the request body, e.g. `item.items[0].item`. */
  'o:errorPath'?: string;
  /** The part of the URL that is wrong. */
  'o:urlPath'?: string;
  'o:errorQueryParam'?: string;
  'o:errorHeader'?: string;
}

export interface NetSuiteErrorBody {
  type: string;
  title: string;
  status: number;
  'o:errorDetails': NetSuiteErrorDetail[];
}

const STATUS: Record<number, { title: string; type: string }> = {
  400: { title: 'Bad Request', type: 'https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1' },
  401: { title: 'Unauthorized', type: 'https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2' },
  404: { title: 'Not Found', type: 'https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5' },
  405: { title: 'Method Not Allowed', type: 'https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6' },
  429: { title: 'Too Many Requests', type: 'https://www.rfc-editor.org/rfc/rfc6585.html#section-4' },
  500: { title: 'Internal Server Error', type: 'https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1' },
  503: { title: 'Service Unavailable', type: 'https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.4' },
};

/** NetSuite labels its JSON with its own media types; errors are `type=error`. */
export const ERROR_CONTENT_TYPE = 'application/vnd.oracle.resource+json; type=error';

type Extras = Omit<NetSuiteErrorDetail, 'detail' | 'o:errorCode'>;

/** Thrown inside the twin's handlers; the router turns it into NetSuite's error response. */
export class NetSuiteError extends Error {
  override readonly name = 'NetSuiteError';

  constructor(
    readonly status: number,
    readonly code: NetSuiteErrorCode,
    readonly detail: string,
    readonly extras: Extras = {},
  ) {
    super(detail);
  }

  toResponse(): TwinResponse {
    return netSuiteErrorResponse(this.status, this.code, this.detail, this.extras);
  }
}

export function netSuiteErrorBody(
  status: number,
  code: NetSuiteErrorCode,
  detail: string,
  extras: Extras = {},
): NetSuiteErrorBody {
  const meta = STATUS[status] ?? { title: 'Error', type: 'https://www.rfc-editor.org/rfc/rfc9110.html' };
  return {
    type: meta.type,
    title: meta.title,
    status,
    'o:errorDetails': [{ detail, 'o:errorCode': code, ...extras }],
  };
}

export function netSuiteErrorResponse(
  status: number,
  code: NetSuiteErrorCode,
  detail: string,
  extras: Extras = {},
): TwinResponse {
  return {
    status,
    headers: { 'Content-Type': ERROR_CONTENT_TYPE },
    body: netSuiteErrorBody(status, code, detail, extras),
  };
}

export const invalidLogin = (): NetSuiteError =>
  new NetSuiteError(
    401,
    'INVALID_LOGIN',
    'Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.',
  );

/**
 * The account's concurrency governance rejected the request. RESTlets answer 400
 * SSS_REQUEST_LIMIT_EXCEEDED and SOAP answers WS_REQUEST_BLOCKED
 * (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/bridgehead_1525252812.html); REST web
 * services answer 429 Too Many Requests with no Retry-After, so a client must back off on its own.
 */
export const concurrencyLimitExceeded = (): NetSuiteError =>
  new NetSuiteError(429, 'CONCURRENCY_LIMIT_EXCEEDED', 'Concurrent request limit exceeded. Request blocked.');

export const nonexistentRecord = (urlPath: string): NetSuiteError =>
  new NetSuiteError(
    404,
    'NONEXISTENT_ID',
    'The record instance does not exist. Provide a valid record instance ID.',
    {
      'o:urlPath': urlPath,
    },
  );

/** NetSuite's wording for a mandatory field left empty. */
export const missingValue = (label: string, path: string): NetSuiteError =>
  new NetSuiteError(
    400,
    'USER_ERROR',
    `Error while accessing a resource. Please enter value(s) for: ${label}.`,
    {
      'o:errorPath': path,
    },
  );

/** NetSuite's wording for a reference to a record that does not exist (INVALID_CONTENT, with the path). */
export const invalidReference = (value: string, field: string, path: string): NetSuiteError =>
  new NetSuiteError(
    400,
    'INVALID_CONTENT',
    `Error while accessing a resource. You have entered an Invalid Field Value ${value} for the following field: ${field}`,
    { 'o:errorPath': path },
  );

export const invalidValue = (detail: string, path?: string): NetSuiteError =>
  new NetSuiteError(400, 'INVALID_VALUE', detail, path === undefined ? {} : { 'o:errorPath': path });
