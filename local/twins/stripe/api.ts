import type { TwinRequest, TwinResponse } from '../common';
import { makeEmit } from './context';
import { errorBody, invalidRequest, StripeApiError, unrecognizedUrl } from './errors';
import { canonicalParams, FormParseError, type ParamMap, Params, parseForm } from './form';
import { IdempotencyCache } from './idempotency';
import type { JsonObject } from './json';
import { applyExpand } from './listing';
import { expanderFor, routes } from './routes';
import type { Store } from './store';
import type { StripeWebhooks } from './webhooks';

/** One API request as the twin saw it, for tests that assert how a client talks to Stripe. */
export interface StripeRequestLogEntry {
  requestId: string;
  method: string;
  path: string;
  status: number;
  idempotencyKey: string | null;
  replayed: boolean;
  stripeVersion: string | null;
  at: number;
}

export interface ApiOptions {
  store: Store;
  webhooks: StripeWebhooks;
  apiKey: string;
  apiVersion: string;
  requestLog: StripeRequestLogEntry[];
}

const JSON_HEADERS = { 'Content-Type': 'application/json' } as const;
const API_VERSION = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;

/** Stripe's body for the 429s, 5xxs and refusals (4xx) the fault injector produces. */
export function stripeVendorError(store: Store, status: number, retryAfterSeconds?: number): TwinResponse {
  const requestId = store.requestId();
  const refused = status >= 400 && status < 500 && status !== 429;
  const error =
    status === 429
      ? invalidRequest(
          'Request rate limit exceeded. Learn more about rate limits here https://docs.stripe.com/rate-limits.',
          undefined,
          'rate_limit',
          429,
        )
      : refused
        ? invalidRequest(
            'The request was refused by a rule on this account.',
            undefined,
            'request_refused',
            status,
          )
        : new StripeApiError({ status, type: 'api_error', message: 'An unknown error occurred' });
  return {
    status,
    headers: {
      ...JSON_HEADERS,
      'Request-Id': requestId,
      // The official SDKs retry when Stripe says so (https://docs.stripe.com/error-low-level#server-errors).
      'Stripe-Should-Retry': refused ? 'false' : 'true',
      ...(retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) }),
    },
    body: errorBody(error, requestId),
  };
}

function authenticate(header: string | undefined, apiKey: string): void {
  if (header === undefined || header.trim() === '') {
    throw invalidRequest(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      undefined,
      undefined,
      401,
    );
  }
  const [scheme = '', value = ''] = header.trim().split(/\s+/, 2);
  // Stripe takes the key as a Bearer token or as the Basic-auth user name (`curl -u sk_test_...:`).
  const key =
    scheme.toLowerCase() === 'bearer'
      ? value
      : scheme.toLowerCase() === 'basic'
        ? (Buffer.from(value, 'base64').toString('utf8').split(':')[0] ?? '')
        : '';
  if (key !== apiKey) {
    const masked =
      key.length > 4
        ? `${key.slice(0, Math.min(8, key.length - 4))}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`
        : key;
    throw invalidRequest(`Invalid API Key provided: ${masked}`, undefined, undefined, 401);
  }
}

function readParams(req: TwinRequest): ParamMap {
  const pairs: Array<[string, string]> = [...req.query.entries()];
  if (req.rawBody.length > 0) {
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.startsWith('application/x-www-form-urlencoded')) {
      throw invalidRequest(
        `Invalid request: Stripe's v1 API takes application/x-www-form-urlencoded bodies, not '${contentType}'.`,
      );
    }
    pairs.push(...new URLSearchParams(req.rawBody.toString('utf8')).entries());
  }
  try {
    return parseForm(pairs);
  } catch (error) {
    if (error instanceof FormParseError) throw invalidRequest(`Invalid request: ${error.message}`);
    throw error;
  }
}

/**
 * The request pipeline in front of the routes: authentication, `Stripe-Version`, parameter parsing,
 * idempotent replay, atomic execution (events are only published when the request's changes stand),
 * `expand[]`, and Stripe's error bodies and headers.
 */
export function createApiHandler(options: ApiOptions): (req: TwinRequest) => Promise<TwinResponse> {
  const { store, webhooks, apiKey, apiVersion, requestLog } = options;
  const idempotency = new IdempotencyCache(() => store.nowMs());
  const expander = expanderFor(store);

  return async (req) => {
    const requestId = store.requestId();
    const idempotencyKey = req.method === 'POST' ? (req.headers['idempotency-key'] ?? null) : null;
    const requestedVersion = req.headers['stripe-version'] ?? null;
    const headers: Record<string, string> = {
      ...JSON_HEADERS,
      'Request-Id': requestId,
      'Stripe-Version': requestedVersion ?? apiVersion,
    };
    if (idempotencyKey !== null) headers['Idempotency-Key'] = idempotencyKey;
    let replayed = false;

    const respond = (status: number, body: JsonObject): TwinResponse => {
      requestLog.push({
        requestId,
        method: req.method,
        path: req.path,
        status,
        idempotencyKey,
        replayed,
        stripeVersion: requestedVersion,
        at: store.nowMs(),
      });
      return { status, headers, body };
    };
    const fail = (error: StripeApiError): TwinResponse => {
      Object.assign(headers, error.headers);
      if (error.status === 401) headers['WWW-Authenticate'] = 'Bearer realm="Stripe"';
      if (error.status < 500 && error.status !== 409 && error.status !== 429)
        headers['Stripe-Should-Retry'] = 'false';
      return respond(error.status, errorBody(error, requestId));
    };

    let params: ParamMap;
    let endpoint: string;
    try {
      authenticate(req.headers.authorization, apiKey);
      if (requestedVersion !== null && !API_VERSION.test(requestedVersion)) {
        throw invalidRequest(
          `Invalid Stripe API version: ${requestedVersion}`,
          undefined,
          'api_version_invalid',
        );
      }
      if (req.headers['stripe-account'] !== undefined) {
        throw invalidRequest('The Stripe twin does not serve Connect requests (Stripe-Account header).');
      }
      params = readParams(req);
      endpoint = `${req.method} ${req.path}`;
      if (idempotencyKey !== null) {
        const saved = idempotency.lookup(apiKey, idempotencyKey, endpoint, canonicalParams(params));
        if (saved !== undefined) {
          replayed = true;
          headers['Idempotent-Replayed'] = 'true';
          headers['Original-Request'] = saved.requestId;
          return respond(saved.status, structuredClone(saved.body));
        }
      }
    } catch (error) {
      if (error instanceof StripeApiError) return fail(error);
      throw error;
    }

    const save = (status: number, body: JsonObject): void => {
      if (idempotencyKey !== null) {
        idempotency.save(apiKey, idempotencyKey, {
          endpoint,
          fingerprint: canonicalParams(params),
          status,
          body: structuredClone(body),
          requestId,
        });
      }
    };

    const writes = req.method !== 'GET';
    if (writes) store.begin();
    const pending: Array<{ type: string; object: JsonObject; previous: JsonObject | null }> = [];
    const ctx = {
      store,
      emit: makeEmit((type, object, previous) => pending.push({ type, object, previous })),
    };
    const request = { id: requestId, idempotency_key: idempotencyKey };
    const commit = (): void => {
      if (writes) store.commit();
      for (const event of pending) webhooks.emit(event.type, event.object, event.previous, request);
    };
    const rollback = (): void => {
      if (writes) store.rollback();
    };

    try {
      const match = findRoute(req.method, req.path);
      if (match === undefined) throw unrecognizedUrl(req.method, req.path);
      const reader = new Params(params);
      const expand = reader.strings('expand') ?? [];
      const body = match.route.handle({ ctx, params: reader, apiVersion }, match.id);
      applyExpand(body, expand, expander);
      commit();
      save(200, body);
      return respond(200, body);
    } catch (error) {
      if (error instanceof StripeApiError) {
        // An error after the work started (a declined charge) is a result: its changes and events stand.
        if (error.saved) {
          commit();
          save(error.status, errorBody(error, requestId));
        } else {
          rollback();
        }
        return fail(error);
      }
      rollback();
      console.error(`[twin stripe] ${req.method} ${req.path} failed:`, error);
      const crash = new StripeApiError({
        status: 500,
        type: 'api_error',
        message: 'An unknown error occurred',
      });
      save(500, errorBody(crash, requestId));
      return fail(crash);
    }
  };
}

function findRoute(method: string, path: string): { route: (typeof routes)[number]; id: string } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match) return { route, id: decodeURIComponent(match[1] ?? '') };
  }
  return undefined;
}
