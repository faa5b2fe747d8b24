import {
  classify,
  httpError,
  isPermanent,
  isRetryableStatus,
  isTransient,
  networkError,
  PermanentError,
  parseRetryAfter,
  safeMessage,
  TransientError,
} from '../../lambdas/shared/errors';

describe('the error taxonomy', () => {
  it('names errors with literals a state machine can match, whatever the bundle does to class names', () => {
    expect(new TransientError('busy', { code: 'Busy' }).name).toBe('TransientError');
    expect(new PermanentError('bad', { code: 'Bad' }).name).toBe('PermanentError');
  });

  it('recognizes an error by its name, so a copy from another bundle still classifies', () => {
    const foreign = Object.assign(new Error('x'), { name: 'PermanentError' });
    expect(isPermanent(foreign)).toBe(true);
    expect(isTransient(foreign)).toBe(false);
    expect(classify(foreign)).toBe('permanent');
  });

  it('treats an unknown error, or a thrown non-error, as transient', () => {
    expect(classify(new TypeError('oops'))).toBe('transient');
    expect(classify('a string')).toBe('transient');
    expect(classify(new TransientError('busy', { code: 'Busy' }))).toBe('transient');
  });

  it('keeps the code, status and wait of a transient error', () => {
    const error = new TransientError('slow down', { code: 'RateLimited', status: 429, retryAfterSeconds: 7 });
    expect([error.code, error.status, error.retryAfterSeconds]).toEqual(['RateLimited', 429, 7]);
  });

  it('gives a safe message without the stack, the payload or the text of an unknown error', () => {
    expect(safeMessage(new PermanentError('no customer', { code: 'MissingCustomer' }))).toBe(
      'PermanentError: MissingCustomer: no customer',
    );
    expect(safeMessage(new SyntaxError('Unexpected token s in JSON at "secret-value"'))).toBe('SyntaxError');
    expect(safeMessage(Object.assign(new Error('field data.id missing'), { name: 'EnvelopeError' }))).toBe(
      'EnvelopeError: field data.id missing',
    );
    expect(safeMessage({ password: 'x' })).toBe('UnknownError');
  });
});

describe('Retry-After', () => {
  it('reads delta-seconds, rounding up and never below zero', () => {
    expect(parseRetryAfter('2.1')).toBe(3);
    expect(parseRetryAfter('-5')).toBe(0);
  });

  it('reads an HTTP-date as the seconds until it', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
  });

  it('gives undefined when the header is absent or unreadable', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('vendor HTTP errors', () => {
  it('retries 408, 429 and 5xx and nothing else', () => {
    expect([400, 401, 403, 404, 408, 409, 422, 429, 500, 503].filter(isRetryableStatus)).toEqual([
      408, 429, 500, 503,
    ]);
  });

  it('makes a 4xx permanent with the vendor code and status', () => {
    const error = httpError('rejected', { status: 422, code: 'INVALID_FIELD' });
    expect(error).toBeInstanceOf(PermanentError);
    expect([error.code, error.status]).toEqual(['INVALID_FIELD', 422]);
  });

  it('makes a 429 transient with the wait the vendor asked for', () => {
    const error = httpError('throttled', { status: 429, code: 'rate_limit', retryAfter: '12' });
    expect(error).toBeInstanceOf(TransientError);
    expect((error as TransientError).retryAfterSeconds).toBe(12);
  });

  it('leaves the wait unset when a 5xx names none', () => {
    const error = httpError('down', { status: 503, code: 'Unavailable' }) as TransientError;
    expect(error).toBeInstanceOf(TransientError);
    expect(error.retryAfterSeconds).toBeUndefined();
    expect(Object.hasOwn(error, 'retryAfterSeconds')).toBe(true);
  });

  it('forces a retry for a 4xx the vendor uses to say it is busy', () => {
    const error = httpError('limit', { status: 403, code: 'REQUEST_LIMIT_EXCEEDED' }, true);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.status).toBe(403);
  });

  it('calls a fetch timeout Timeout and any other fetch failure NetworkError, keeping the cause', () => {
    const timeout = { name: 'TimeoutError', message: 'timed out' };
    expect(networkError('t', timeout).code).toBe('Timeout');
    expect(networkError('t', timeout).cause).toBe(timeout);
    expect(networkError('n', new TypeError('fetch failed')).code).toBe('NetworkError');
    expect(networkError('n', undefined).code).toBe('NetworkError');
  });
});
