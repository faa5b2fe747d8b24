import { networkError } from '../shared/errors';

export interface BearerRequest {
  /** Vendor name for error messages, e.g. `HubSpot`. */
  readonly vendor: string;
  /** What the call is for, e.g. `read deal`. */
  readonly what: string;
  readonly url: string;
  readonly method: string;
  readonly body?: unknown;
  readonly timeoutMs: number;
  readonly fetchImpl: typeof fetch;
  /** The current token; `refresh: true` asks for a fresh one (after a 401). */
  readonly accessToken: (options: { refresh: boolean }) => Promise<string>;
}

const attempt = async (request: BearerRequest, refresh: boolean): Promise<Response> => {
  const token = await request.accessToken({ refresh });
  try {
    return await request.fetchImpl(request.url, {
      method: request.method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (error) {
    throw networkError(`${request.vendor} ${request.what} did not answer`, error);
  }
};

/**
 * One JSON call with a bearer token, as the CRM APIs take it. A 401 gets exactly one more try with
 * a refreshed token (tokens expire, or were rotated in Secrets Manager); any other status is the
 * caller's to classify.
 */
export const sendWithBearer = async (request: BearerRequest): Promise<Response> => {
  const response = await attempt(request, false);
  if (response.status !== 401) return response;
  await response.body?.cancel();
  return attempt(request, true);
};
