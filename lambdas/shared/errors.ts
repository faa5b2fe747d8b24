/**
 * The one error taxonomy shared by Lambda, SQS and Step Functions.
 *
 * `name` is a string literal (not `this.constructor.name`) so minified bundles keep it and state
 * machines can match it in Retry/Catch `ErrorEquals`.
 */

export interface ErrorDetails {
  /** Machine-readable reason, safe to show to a vendor or a CRM owner. */
  readonly code: string;
  /** Seconds the remote side asked us to wait (HTTP `Retry-After`). */
  readonly retryAfterSeconds?: number;
  /** Remote HTTP status, when the error came from an API call. */
  readonly status?: number;
}

/** Throttling, 5xx, timeouts: retrying with backoff can help. */
export class TransientError extends Error {
  override readonly name = 'TransientError' as const;
  readonly code: string;
  readonly retryAfterSeconds: number | undefined;
  readonly status: number | undefined;

  constructor(message: string, details: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.code = details.code;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.status = details.status;
  }
}

/** A contract or data problem: retrying cannot help, an exception is opened at once. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError' as const;
  readonly code: string;
  readonly status: number | undefined;

  constructor(message: string, details: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.code = details.code;
    this.status = details.status;
  }
}

export const isTransient = (error: unknown): error is TransientError =>
  error instanceof Error && error.name === 'TransientError';

export const isPermanent = (error: unknown): error is PermanentError =>
  error instanceof Error && error.name === 'PermanentError';

/** Unknown errors are treated as transient: a retry is cheap, losing an invoice is not. */
export const classify = (error: unknown): 'transient' | 'permanent' =>
  isPermanent(error) ? 'permanent' : 'transient';

/** A message that is safe to log or show: no stack, no payload, never the cause's text. */
export const safeMessage = (error: unknown): string => {
  if (isTransient(error) || isPermanent(error)) return `${error.name}: ${error.code}: ${error.message}`;
  // Envelope errors name fields, never values. Others (a JSON SyntaxError quotes the input) keep only their name.
  if (error instanceof Error && error.name === 'EnvelopeError') return `${error.name}: ${error.message}`;
  if (error instanceof Error) return error.name;
  return 'UnknownError';
};

/**
 * Seconds a server asked us to wait, from an HTTP `Retry-After` value: delta-seconds or an HTTP-date
 * (RFC 9110 §10.2.3). `undefined` when the header is absent or unreadable.
 */
export const parseRetryAfter = (
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined => {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
};

/** The rule every vendor client shares: 408, 429 and 5xx can pass on a retry; any other status cannot. */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 429 || status >= 500;

/**
 * The error for a vendor's non-2xx answer, carrying the vendor's own error code. `transient` forces a
 * retry for vendor codes that mean "busy" on a 4xx (Salesforce's REQUEST_LIMIT_EXCEEDED is a 403).
 */
export const httpError = (
  message: string,
  answer: { readonly status: number; readonly code: string; readonly retryAfter?: string | null },
  transient = false,
): TransientError | PermanentError => {
  const { status, code } = answer;
  if (!transient && !isRetryableStatus(status)) return new PermanentError(message, { code, status });
  const retryAfterSeconds = parseRetryAfter(answer.retryAfter);
  return new TransientError(message, {
    code,
    status,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  });
};

/**
 * `fetch` itself failed: a timeout (`AbortSignal.timeout` rejects with a `TimeoutError` DOMException,
 * which is not an `Error` in every realm, hence the duck typing) or the network. A retry can help either.
 */
export const networkError = (message: string, cause: unknown): TransientError => {
  const name = typeof cause === 'object' && cause !== null ? (cause as { name?: unknown }).name : undefined;
  return new TransientError(
    message,
    { code: name === 'TimeoutError' ? 'Timeout' : 'NetworkError' },
    { cause },
  );
};
