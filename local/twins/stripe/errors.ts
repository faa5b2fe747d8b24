import type { JsonObject } from './json';

/**
 * Stripe's error types. The API reference lists exactly these four
 * (https://docs.stripe.com/api/errors): rate limiting is an `invalid_request_error` with code
 * `rate_limit`, and the SDK picks its error class from the HTTP status, not from the type.
 */
export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error';

export interface StripeErrorOptions {
  status: number;
  type: StripeErrorType;
  message: string;
  code?: string;
  param?: string;
  declineCode?: string;
  /** Extra keys Stripe adds to some errors (card errors carry `charge`, `payment_intent`, ...). */
  extra?: JsonObject;
  /**
   * Whether an idempotent replay returns this error. Stripe saves a result only once the endpoint
   * started executing: a request that fails validation is not saved and may be retried with the same key
   * (https://docs.stripe.com/api/idempotent_requests).
   */
  saved?: boolean;
  headers?: Record<string, string>;
}

export class StripeApiError extends Error {
  override readonly name = 'StripeApiError';
  readonly status: number;
  readonly type: StripeErrorType;
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly declineCode: string | undefined;
  readonly extra: JsonObject;
  readonly saved: boolean;
  readonly headers: Record<string, string>;

  constructor(options: StripeErrorOptions) {
    super(options.message);
    this.status = options.status;
    this.type = options.type;
    this.code = options.code;
    this.param = options.param;
    this.declineCode = options.declineCode;
    this.extra = options.extra ?? {};
    this.saved = options.saved ?? false;
    this.headers = options.headers ?? {};
  }
}

/** The JSON body Stripe answers an error with: `{ error: { type, code, message, param, ... } }`. */
export function errorBody(error: StripeApiError, requestId: string): JsonObject {
  const body: JsonObject = {
    type: error.type,
    code: error.code ?? null,
    message: error.message,
    param: error.param ?? null,
  };
  if (error.code !== undefined)
    body.doc_url = `https://docs.stripe.com/error-codes/${error.code.replace(/_/g, '-')}`;
  if (error.declineCode !== undefined) body.decline_code = error.declineCode;
  body.request_log_url = `https://dashboard.stripe.com/test/logs/${requestId}`;
  return { error: { ...body, ...error.extra } };
}

export const invalidRequest = (
  message: string,
  param?: string,
  code?: string,
  status = 400,
): StripeApiError =>
  new StripeApiError({
    status,
    type: 'invalid_request_error',
    message,
    ...(param === undefined ? {} : { param }),
    ...(code === undefined ? {} : { code }),
  });

export const missingParam = (param: string): StripeApiError =>
  invalidRequest(`Missing required param: ${param}.`, param, 'parameter_missing');

export const unknownParam = (param: string): StripeApiError =>
  invalidRequest(
    `Received unknown parameter: ${param}. The Stripe twin serves a subset of the API; see local/twins/stripe.`,
    param,
    'parameter_unknown',
  );

/**
 * `No such customer: 'cus_x'`. A missing object named in the URL is a 404; one named by a body
 * parameter (`customer=cus_x`) is a 400 on that parameter, as Stripe answers.
 */
export const noSuch = (noun: string, id: string, param?: string): StripeApiError =>
  invalidRequest(
    `No such ${noun}: '${id}'`,
    param ?? 'id',
    'resource_missing',
    param === undefined ? 404 : 400,
  );

export const unrecognizedUrl = (method: string, path: string): StripeApiError =>
  invalidRequest(
    `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    undefined,
    undefined,
    404,
  );
