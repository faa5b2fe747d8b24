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
