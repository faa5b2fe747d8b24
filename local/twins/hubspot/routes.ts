/**
 * The CRM API subset `@hubspot/api-client` calls for quote-to-cash: v3 objects (CRUD, batch, search), v4
 * associations, properties and pipelines, behind HubSpot's private-app token check and burst rate limit.
 */
import type { IdGenerator, TwinRequest, TwinResponse } from '../common';
import { badRequest, HubSpotApiError, objectNotFound } from './errors';
import { present, presentWritten, renderPipeline, renderProperty, v4Results } from './render';
import {
  associationType,
  type CustomPropertySpec,
  DEFAULT_PIPELINE,
  defaultAssociationType,
  findObjectType,
  type ObjectTypeDef,
  type PropertyDef,
} from './schema';
import { clamp, search } from './search';
import { type AssociationInput, associationTypeName, type CrmStore } from './store';
import { API_CHANGE_SOURCE, type HubSpotWebhooks } from './webhooks';

const MAX_PAGE = 100;

export interface ApiOptions {
  store: CrmStore;
  webhooks: HubSpotWebhooks;
  /** Correlation ids of error bodies. */
  ids: IdGenerator;
  /** The private app token the API accepts. */
  accessToken: string;
  appId: number;
  rateLimit: { max: number; intervalMs: number };
}

export interface HubSpotApi {
  handler(req: TwinRequest): Promise<TwinResponse>;
  /** A JSON response carrying the rate limit headers. */
  json(status: number, body?: unknown): TwinResponse;
  /** HubSpot's 429 for the burst limit. */
  rateLimited(retryAfterSeconds: number): TwinResponse;
}

export function createHubSpotApi(options: ApiOptions): HubSpotApi {
  const { store, webhooks, ids, accessToken, appId, rateLimit } = options;
  const recentRequests: number[] = [];
  const apiSource = { changeSource: API_CHANGE_SOURCE, sourceId: String(appId) };

  function rateHeaders(): Record<string, string> {
    return {
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(rateLimit.intervalMs),
      'X-HubSpot-RateLimit-Max': String(rateLimit.max),
      'X-HubSpot-RateLimit-Remaining': String(Math.max(0, rateLimit.max - recentRequests.length)),
    };
  }

  const json = (status: number, body?: unknown): TwinResponse => ({
    status,
    headers: {
      ...rateHeaders(),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json;charset=utf-8' }),
    },
    ...(body === undefined ? {} : { body }),
  });

  function rateLimited(retryAfterSeconds: number): TwinResponse {
    const response = json(429, {
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      correlationId: ids.uuid(),
      policyName: 'TEN_SECONDLY_ROLLING',
      groupName: `publicapi:private-app-id:${appId}`,
      category: 'RATE_LIMITS',
    });
    return { ...response, headers: { ...response.headers, 'Retry-After': String(retryAfterSeconds) } };
  }

  async function handler(req: TwinRequest): Promise<TwinResponse> {
    try {
      authenticate(req);
      const now = Date.now();
      while (recentRequests.length > 0 && (recentRequests[0] ?? 0) <= now - rateLimit.intervalMs)
        recentRequests.shift();
      if (recentRequests.length >= rateLimit.max) {
        const oldest = recentRequests[0] ?? now;
        return rateLimited(Math.max(1, Math.ceil((oldest + rateLimit.intervalMs - now) / 1000)));
      }
      recentRequests.push(now);
      return route(req);
    } catch (error) {
      if (error instanceof HubSpotApiError) return json(error.status, error.toBody(ids.uuid()));
      throw error;
    }
  }

  function authenticate(req: TwinRequest): void {
    const match = /^Bearer\s+(.+)$/i.exec((req.headers.authorization ?? '').trim());
    if (!match || match[1] !== accessToken) {
      throw new HubSpotApiError(
        401,
        'INVALID_AUTHENTICATION',
        'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
      );
    }
  }

  function objectType(name: string | undefined): ObjectTypeDef {
    const def = name === undefined ? undefined : findObjectType(store.schema, name);
    if (!def) throw badRequest(`Unable to infer object type from: ${name ?? ''}`);
    return def;
  }

  function route(req: TwinRequest): TwinResponse {
    const s = req.path
      .split('/')
      .filter((x) => x !== '')
      .map(decodeURIComponent);
    if (s[0] !== 'crm') throw notFoundRoute(req);
    if (s[1] === 'v3' && s[2] === 'objects') return objectsRoute(req, s.slice(3));
    if (s[1] === 'v4' && s[2] === 'objects') return associationsV4(req, s.slice(3));
    if (s[1] === 'v4' && s[2] === 'associations') return associationsV4Batch(req, s.slice(3));
    if (s[1] === 'v3' && s[2] === 'properties') return propertiesRoute(req, s.slice(3));
    if (s[1] === 'v3' && s[2] === 'pipelines') return pipelinesRoute(req, s.slice(3));
    throw notFoundRoute(req);
  }

  function objectsRoute(req: TwinRequest, s: string[]): TwinResponse {
    const def = objectType(s[0]);
    const [, second, third, fourth] = s;
    if (second === undefined) {
      if (req.method === 'GET') return json(200, listObjects(req, def));
      if (req.method === 'POST') {
        const body = parseBody(req);
        const associations = Array.isArray(body.associations)
          ? (body.associations as AssociationInput[])
          : [];
        const { object, changes } = store.create(def.name, body.properties ?? {}, associations);
        webhooks.notify(changes, apiSource);
        return json(201, presentWritten(store, def, object));
      }
      throw notFoundRoute(req);
    }
    if (second === 'search' && third === undefined && req.method === 'POST') {
      return json(200, search(store, def, parseBody(req)));
    }
    if (second === 'batch' && third !== undefined && fourth === undefined && req.method === 'POST') {
      return batch(req, def, third);
    }
    const id = second;
    if (third === undefined) {
      const idProperty = req.query.get('idProperty');
      const resolve = () => {
        if (!idProperty) return id;
        const found = store.findByProperty(def.name, idProperty, id);
        if (!found) throw objectNotFound(id);
        return found.id;
      };
      switch (req.method) {
        case 'GET': {
          const archived = req.query.get('archived') === 'true';
          const object = archived ? store.mustGet(def.name, id, true) : store.mustGet(def.name, resolve());
          return json(
            200,
            present(store, def, object, listParam(req, 'properties'), listParam(req, 'associations')),
          );
        }
        case 'PATCH': {
          const body = parseBody(req);
          const { object, changes } = store.update(def.name, resolve(), body.properties ?? {});
          webhooks.notify(changes, apiSource);
          return json(200, presentWritten(store, def, object));
        }
        case 'DELETE':
          store.archive(def.name, id);
          return json(204);
        default:
          throw notFoundRoute(req);
      }
    }
    if (third === 'associations' && fourth !== undefined && req.method === 'GET') {
      store.mustGet(def.name, id);
      const toDef = objectType(fourth);
      const results = store
        .associations(def.name, id, toDef.name)
        .flatMap(({ toId, typeIds }) =>
          typeIds.map((typeId) => ({ id: toId, type: associationTypeName(typeId) })),
        );
      return json(200, { results });
    }
    throw notFoundRoute(req);
  }

  function listObjects(req: TwinRequest, def: ObjectTypeDef) {
    const limit = clamp(Number(req.query.get('limit') ?? 10), 1, MAX_PAGE);
    const after = Number(req.query.get('after') ?? 0);
    const archived = req.query.get('archived') === 'true';
    const all = store.list(def.name, archived).filter((o) => Number(o.id) >= after);
    const page = all.slice(0, limit);
    const properties = listParam(req, 'properties');
    const associations = listParam(req, 'associations');
    const results = page.map((o) => present(store, def, o, properties, associations));
    const last = page[page.length - 1];
    if (all.length <= limit || !last) return { results };
    const next = String(Number(last.id) + 1);
    const link = new URL(req.url);
    link.searchParams.set('after', next);
    return { results, paging: { next: { after: next, link: link.toString() } } };
  }

  function batch(req: TwinRequest, def: ObjectTypeDef, action: string): TwinResponse {
    const body = parseBody(req);
    const inputs = Array.isArray(body.inputs) ? (body.inputs as Array<Record<string, unknown>>) : undefined;
    if (!inputs) throw badRequest('Invalid input JSON: inputs is required');
    if (inputs.length > 100) throw badRequest('Batch input must contain at most 100 inputs');
    const startedAt = new Date().toISOString();
    const results: Array<Record<string, unknown>> = [];
    const errors: Array<Record<string, unknown>> = [];
    const requested = Array.isArray(body.properties) ? body.properties.map(String) : undefined;
    for (const input of inputs) {
      try {
        switch (action) {
          case 'read': {
            const id = String(input.id);
            const idProperty = typeof body.idProperty === 'string' ? body.idProperty : undefined;
            const object = idProperty
              ? store.findByProperty(def.name, idProperty, id)
              : store.get(def.name, id);
            if (!object) throw objectNotFound(id);
            results.push(present(store, def, object, requested));
            break;
          }
          case 'create': {
            const associations = Array.isArray(input.associations)
              ? (input.associations as AssociationInput[])
              : [];
            const { object, changes } = store.create(def.name, input.properties ?? {}, associations);
            webhooks.notify(changes, apiSource);
            results.push(presentWritten(store, def, object));
            break;
          }
          case 'update': {
            const { object, changes } = store.update(def.name, String(input.id), input.properties ?? {});
            webhooks.notify(changes, apiSource);
            results.push(presentWritten(store, def, object));
            break;
          }
          case 'archive':
            store.archive(def.name, String(input.id));
            break;
          default:
            throw notFoundRoute(req);
        }
      } catch (error) {
        if (!(error instanceof HubSpotApiError)) throw error;
        // Reads report missing ids per input; writes fail the whole batch, as HubSpot's batch writes do.
        if (action !== 'read') throw error;
        errors.push({
          status: 'error',
          category: error.category,
          message: error.message,
          context: { ids: [String(input.id)] },
        });
      }
    }
    if (action === 'archive') return json(204);
    const response = {
      status: 'COMPLETE',
      results,
      ...(errors.length > 0 ? { numErrors: errors.length, errors } : {}),
      startedAt,
      completedAt: new Date().toISOString(),
    };
    if (errors.length > 0) return json(207, response);
    return json(action === 'create' ? 201 : 200, response);
  }

  function associationsV4(req: TwinRequest, s: string[]): TwinResponse {
    const [fromName, fromId, word, a, b, c] = s;
    if (word !== 'associations' || fromId === undefined) throw notFoundRoute(req);
    const from = objectType(fromName);
    if (a === 'default' && b !== undefined && c !== undefined && req.method === 'PUT') {
      const to = objectType(b);
      const type = defaultAssociationType(from.name, to.name);
      if (!type) throw badRequest(`No default association from ${from.name} to ${to.name}`);
      store.mustGet(from.name, fromId);
      store.associate(from.name, fromId, c, [type.id]);
      const now = new Date().toISOString();
      return json(200, {
        status: 'COMPLETE',
        results: [
          {
            from: { id: fromId },
            to: { id: c },
            associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: type.id },
          },
          {
            from: { id: c },
            to: { id: fromId },
            associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: type.inverse },
          },
        ],
        startedAt: now,
        completedAt: now,
      });
    }
    const to = objectType(a);
    store.mustGet(from.name, fromId);
    if (b === undefined && req.method === 'GET') {
      return json(200, { results: v4Results(store, from.name, fromId, to.name) });
    }
    if (b !== undefined && c === undefined && req.method === 'PUT') {
      const specs = parseBodyArray(req) as Array<{
        associationCategory?: string;
        associationTypeId?: number;
      }>;
      store.associate(
        from.name,
        fromId,
        b,
        specs.map((spec) => Number(spec.associationTypeId)),
      );
      const labels = specs
        .map((spec) => associationType(Number(spec.associationTypeId))?.label)
        .filter((label): label is string => typeof label === 'string');
      return json(201, {
        fromObjectTypeId: from.objectTypeId,
        fromObjectId: Number(fromId),
        toObjectTypeId: to.objectTypeId,
        toObjectId: Number(b),
        labels,
      });
    }
    if (b !== undefined && c === undefined && req.method === 'DELETE') {
      store.disassociate(from.name, fromId, to.name, b);
      return json(204);
    }
    throw notFoundRoute(req);
  }

  function associationsV4Batch(req: TwinRequest, s: string[]): TwinResponse {
    const [fromName, toName, word, action, extra] = s;
    if (word !== 'batch' || req.method !== 'POST') throw notFoundRoute(req);
    const from = objectType(fromName);
    const to = objectType(toName);
    const body = parseBody(req);
    const inputs = Array.isArray(body.inputs) ? (body.inputs as Array<Record<string, unknown>>) : [];
    const startedAt = new Date().toISOString();
    const done = (status: number, results: unknown[], errors: unknown[] = []) =>
      json(errors.length > 0 ? 207 : status, {
        status: 'COMPLETE',
        results,
        ...(errors.length > 0 ? { numErrors: errors.length, errors } : {}),
        startedAt,
        completedAt: new Date().toISOString(),
      });
    const idOf = (value: unknown): string =>
      typeof value === 'object' && value !== null ? String((value as { id?: unknown }).id) : String(value);
    if (action === 'create' && extra === undefined) {
      const results = inputs.map((input) => {
        const fromId = idOf(input.from);
        const toId = idOf(input.to);
        store.mustGet(from.name, fromId);
        const types = Array.isArray(input.types)
          ? (input.types as Array<{ associationTypeId?: number }>)
          : [];
        store.associate(
          from.name,
          fromId,
          toId,
          types.map((t) => Number(t.associationTypeId)),
        );
        return {
          fromObjectTypeId: from.objectTypeId,
          fromObjectId: Number(fromId),
          toObjectTypeId: to.objectTypeId,
          toObjectId: Number(toId),
          labels: [],
        };
      });
      return done(201, results);
    }
    if (action === 'associate' && extra === 'default') {
      const type = defaultAssociationType(from.name, to.name);
      if (!type) throw badRequest(`No default association from ${from.name} to ${to.name}`);
      const results = inputs.map((input) => {
        const fromId = idOf(input.from);
        const toId = idOf(input.to);
        store.mustGet(from.name, fromId);
        store.associate(from.name, fromId, toId, [type.id]);
        return {
          from: { id: fromId },
          to: { id: toId },
          associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: type.id },
        };
      });
      return done(200, results);
    }
    if (action === 'read' && extra === undefined) {
      const results: unknown[] = [];
      const errors: unknown[] = [];
      for (const input of inputs) {
        const fromId = idOf(input);
        if (!store.get(from.name, fromId)) {
          errors.push({
            status: 'error',
            category: 'OBJECT_NOT_FOUND',
            message: `No ${from.name} with id ${fromId}`,
            context: { fromObjectId: [fromId] },
          });
          continue;
        }
        results.push({ from: { id: fromId }, to: v4Results(store, from.name, fromId, to.name) });
      }
      return done(200, results, errors);
    }
    throw notFoundRoute(req);
  }

  function propertiesRoute(req: TwinRequest, s: string[]): TwinResponse {
    const def = objectType(s[0]);
    const name = s[1];
    if (name === undefined && req.method === 'GET')
      return json(200, { results: def.properties.map(renderProperty) });
    if (name === undefined && req.method === 'POST') {
      const body = parseBody(req);
      if (typeof body.name !== 'string' || typeof body.label !== 'string' || typeof body.type !== 'string') {
        throw badRequest('name, label, type, fieldType and groupName are required');
      }
      const spec: CustomPropertySpec = {
        name: body.name,
        label: body.label,
        type: body.type as PropertyDef['type'],
        ...(body.hasUniqueValue === true ? { hasUniqueValue: true } : {}),
        ...(Array.isArray(body.options)
          ? { options: body.options.map((o) => String((o as { value?: unknown }).value)) }
          : {}),
      };
      return json(201, renderProperty(store.addProperty(def.name, spec)));
    }
    if (name !== undefined && req.method === 'GET') {
      const property = def.properties.find((p) => p.name === name);
      if (!property) {
        throw new HubSpotApiError(
          404,
          'OBJECT_NOT_FOUND',
          `Unable to find property ${name} for object type ${def.name}`,
        );
      }
      return json(200, renderProperty(property));
    }
    throw notFoundRoute(req);
  }

  function pipelinesRoute(req: TwinRequest, s: string[]): TwinResponse {
    const def = objectType(s[0]);
    if (def.name !== 'deals' || req.method !== 'GET') throw notFoundRoute(req);
    const pipeline = renderPipeline();
    if (s[1] === undefined) return json(200, { results: [pipeline] });
    if (s[1] === DEFAULT_PIPELINE && s[2] === undefined) return json(200, pipeline);
    throw new HubSpotApiError(404, 'OBJECT_NOT_FOUND', `Pipeline ${s[1]} not found`);
  }

  return { handler, json, rateLimited };
}

function parseBody(req: TwinRequest): Record<string, unknown> {
  const text = req.rawBody.toString('utf8');
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw badRequest('Invalid input JSON on line 1');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest('Invalid input JSON: expected an object');
  }
  return parsed as Record<string, unknown>;
}

function parseBodyArray(req: TwinRequest): unknown[] {
  const text = req.rawBody.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed)) return parsed;
  } catch {
    // fall through
  }
  throw badRequest('Invalid input JSON: expected an array');
}

/** Repeated (`?properties=a&properties=b`) and comma-separated lists both work, as in HubSpot. */
function listParam(req: TwinRequest, name: string): string[] | undefined {
  const values = req.query.getAll(name);
  if (values.length === 0) return undefined;
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function notFoundRoute(req: TwinRequest): HubSpotApiError {
  return new HubSpotApiError(404, 'OBJECT_NOT_FOUND', `No route for ${req.method} ${req.path}`);
}
