import {
  type DeliveryAttempt,
  type FaultConfig,
  FaultInjector,
  faultsFromEnv,
  IdGenerator,
  startTwinServer,
  type TwinRequest,
  type TwinResponse,
} from '../common';
import { badRequest, HubSpotApiError, objectNotFound } from './errors';
import {
  associationType,
  type CustomProperties,
  type CustomPropertySpec,
  DEAL_STAGES,
  DEFAULT_PIPELINE,
  defaultAssociationType,
  findObjectType,
  type ObjectType,
  type ObjectTypeDef,
  type PropertyDef,
} from './schema';
import {
  type AssociationInput,
  associationTypeName,
  type CrmObject,
  CrmStore,
  type PropertyChange,
  selectProperties,
} from './store';
import { type HubSpotWebhookEvent, type WebhookBatch, WebhookBatcher } from './webhook-batcher';

export const HUBSPOT_DEFAULT_PORT = 4040;
export const HUBSPOT_DEFAULT_ACCESS_TOKEN = 'revbridge-local-hs-token';
export const HUBSPOT_DEFAULT_CLIENT_SECRET = 'revbridge-local-hubspot-secret';
/** The portal and app ids of HubSpot's own webhook example (see the vendor fixture). */
export const HUBSPOT_DEFAULT_PORTAL_ID = 62515;
export const HUBSPOT_DEFAULT_APP_ID = 54321;

export interface WebhookSubscription {
  /** `deal.propertyChange`, `deal.creation`, `company.propertyChange`, ... */
  subscriptionType: string;
  /** For propertyChange subscriptions: the one property watched. */
  propertyName?: string;
  /** @default assigned from 3_000_001 up */
  id?: number;
}

export interface HubSpotWebhookOptions {
  /** The public URL HubSpot posts to; it is also what the v3 signature covers. */
  url: string;
  /** @default [{ subscriptionType: 'deal.propertyChange', propertyName: 'dealstage' }] */
  subscriptions?: readonly WebhookSubscription[];
  /** @default 25 */
  batchWindowMs?: number;
  /** @default 100 */
  maxBatchSize?: number;
  /** @default a short local schedule of 10 retries */
  retryDelaysMs?: number[];
  /** @default 5000 */
  timeoutMs?: number;
}

export interface HubSpotTwinOptions {
  /** @default 4040; 0 picks a free port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Seeds correlation ids and, unless `faults.seed` is set, the fault sequence. @default 1 */
  seed?: number;
  /** @default faultsFromEnv('hubspot'), i.e. `TWIN_FAULTS_HUBSPOT` */
  faults?: FaultConfig;
  /** The private app token the API accepts. @default 'revbridge-local-hs-token' */
  accessToken?: string;
  /** @default 54321 */
  appId?: number;
  /** @default 62515 */
  portalId?: number;
  /** The app's client secret that signs webhooks. @default 'revbridge-local-hubspot-secret' */
  clientSecret?: string;
  webhook?: HubSpotWebhookOptions;
  /** Custom properties per object type; HubSpot rejects writes to properties a portal does not have. */
  customProperties?: CustomProperties;
  /**
   * The burst limit of a private app (Professional: 190 requests per 10 s), answered with 429 and
   * `policyName: TEN_SECONDLY_ROLLING` like HubSpot. @default { max: 190, intervalMs: 10_000 }
   */
  rateLimit?: { max: number; intervalMs: number };
}

export interface HubSpotTwin {
  url: string;
  port: number;
  accessToken: string;
  portalId: number;
  appId: number;
  clientSecret: string;
  faults: FaultInjector;
  getObject(type: ObjectType, id: string): CrmObject | undefined;
  objects(type: ObjectType): CrmObject[];
  /** Creates a record as a user in the CRM would (change source CRM_UI); returns its id. */
  createObject(
    type: ObjectType,
    properties: Record<string, string>,
    associations?: AssociationInput[],
  ): string;
  /** Edits properties as a user in the CRM would (change source CRM_UI). */
  updateObject(type: ObjectType, id: string, properties: Record<string, string>): void;
  /** Moves a deal to a stage as a sales rep would; `closedwon` by default. */
  setDealStage(dealId: string, stage?: string): void;
  /** Adds the default (unlabeled) association between two records. */
  associate(fromType: ObjectType, fromId: string, toType: ObjectType, toId: string): void;
  configureWebhook(options: HubSpotWebhookOptions | undefined): void;
  /** Sends events waiting for their batch window now. */
  flushWebhooks(): void;
  readonly webhookBatches: readonly WebhookBatch[];
  readonly deliveries: readonly DeliveryAttempt[];
  /** Resolves when no webhook is batched, waiting or being retried. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Changes made through the API with an app's token arrive as `INTEGRATION` with the app id as
 * `sourceId` (older payloads said `API`); changes made by a user in HubSpot say `CRM_UI`.
 */
const API_CHANGE_SOURCE = 'INTEGRATION';
const UI_CHANGE_SOURCE = 'CRM_UI';
/** The user the helpers act as (`sourceId: userId:<id>` in webhook events). */
const UI_USER_ID = 12_345_678;
const MAX_PAGE = 100;
const MAX_SEARCH_PAGE = 200;

/**
 * A HubSpot portal in one process: CRM v3 objects (deals, companies, line items, products, contacts),
 * v4 associations, properties and pipelines as `@hubspot/api-client` calls them, with HubSpot's error
 * bodies and rate limit, and Webhooks v3: batched, signed (v3 and v1), retried.
 */
export async function startHubSpotTwin(options: HubSpotTwinOptions = {}): Promise<HubSpotTwin> {
  const seed = options.seed ?? 1;
  const faultConfig = { ...(options.faults ?? faultsFromEnv('hubspot')) };
  if (faultConfig.seed === undefined) faultConfig.seed = seed;
  const faults = new FaultInjector(faultConfig);
  const ids = new IdGenerator(seed);
  const accessToken = options.accessToken ?? HUBSPOT_DEFAULT_ACCESS_TOKEN;
  const clientSecret = options.clientSecret ?? HUBSPOT_DEFAULT_CLIENT_SECRET;
  const portalId = options.portalId ?? HUBSPOT_DEFAULT_PORTAL_ID;
  const appId = options.appId ?? HUBSPOT_DEFAULT_APP_ID;
  const rateLimit = options.rateLimit ?? { max: 190, intervalMs: 10_000 };
  const store = new CrmStore({
    ...(options.customProperties === undefined ? {} : { customProperties: options.customProperties }),
  });
  const recentRequests: number[] = [];
  let eventCount = 0;
  let webhook: { options: HubSpotWebhookOptions; subscriptions: Required<WebhookSubscription>[] } | undefined;
  let batcher: WebhookBatcher | undefined;
  const retired: WebhookBatcher[] = [];

  function configureWebhook(config: HubSpotWebhookOptions | undefined): void {
    if (batcher) {
      // Batches already sent keep retrying; new events go to the new target.
      batcher.flush();
      retired.push(batcher);
    }
    if (!config) {
      webhook = undefined;
      batcher = undefined;
      return;
    }
    let nextSubscription = 3_000_001;
    const subscriptions = (
      config.subscriptions ?? [{ subscriptionType: 'deal.propertyChange', propertyName: 'dealstage' }]
    ).map((s) => ({
      id: s.id ?? nextSubscription++,
      subscriptionType: s.subscriptionType,
      propertyName: s.propertyName ?? '',
    }));
    webhook = { options: config, subscriptions };
    batcher = new WebhookBatcher({
      url: config.url,
      clientSecret,
      faults,
      ...(config.batchWindowMs === undefined ? {} : { batchWindowMs: config.batchWindowMs }),
      ...(config.maxBatchSize === undefined ? {} : { maxBatchSize: config.maxBatchSize }),
      ...(config.retryDelaysMs === undefined ? {} : { retryDelaysMs: config.retryDelaysMs }),
      ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    });
  }
  configureWebhook(options.webhook);

  /** Turns property changes into webhook events for the matching subscriptions. */
  function notify(changes: PropertyChange[], source: { changeSource: string; sourceId: string }): void {
    if (!webhook || !batcher) return;
    const occurredAt = Date.now();
    const created = new Set<string>();
    for (const change of changes) {
      const singular = store.def(change.type).singular;
      for (const subscription of webhook.subscriptions) {
        const isCreation =
          subscription.subscriptionType === `${singular}.creation` &&
          change.creation &&
          !created.has(`${subscription.id}:${change.objectId}`);
        const isPropertyChange =
          subscription.subscriptionType === `${singular}.propertyChange` &&
          subscription.propertyName === change.propertyName;
        if (!isCreation && !isPropertyChange) continue;
        if (isCreation) created.add(`${subscription.id}:${change.objectId}`);
        eventCount++;
        const event: HubSpotWebhookEvent = {
          eventId: 1_000_000_000 + seed * 1_000 + eventCount,
          subscriptionId: subscription.id,
          portalId,
          appId,
          occurredAt,
          subscriptionType: subscription.subscriptionType,
          attemptNumber: 0,
          objectId: Number(change.objectId),
          ...(isCreation ? { changeFlag: 'CREATED' } : {}),
          changeSource: source.changeSource,
          sourceId: source.sourceId,
          ...(isPropertyChange
            ? { propertyName: change.propertyName, propertyValue: change.value ?? '' }
            : {}),
        };
        batcher.enqueue(event);
      }
    }
  }

  const apiSource = { changeSource: API_CHANGE_SOURCE, sourceId: String(appId) };
  const uiSource = { changeSource: UI_CHANGE_SOURCE, sourceId: `userId:${UI_USER_ID}` };

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

  function objectType(name: string | undefined): ObjectTypeDef {
    const def = name === undefined ? undefined : findObjectType(store.schema, name);
    if (!def) throw badRequest(`Unable to infer object type from: ${name ?? ''}`);
    return def;
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

  function present(
    def: ObjectTypeDef,
    object: CrmObject,
    requested: string[] | undefined,
    associationTypes?: string[],
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {
      id: object.id,
      properties: selectProperties(def, object, requested),
      createdAt: object.createdAt,
      updatedAt: object.updatedAt,
      archived: object.archived,
      ...(object.archivedAt ? { archivedAt: object.archivedAt } : {}),
    };
    if (associationTypes && associationTypes.length > 0) {
      const associations: Record<string, unknown> = {};
      for (const name of associationTypes) {
        const toDef = findObjectType(store.schema, name);
        if (!toDef) continue;
        const results = store
          .associations(def.name, object.id, toDef.name)
          .flatMap(({ toId, typeIds }) =>
            typeIds.map((typeId) => ({ id: toId, type: associationTypeName(typeId) })),
          );
        // Types with nothing associated are left out rather than listed empty.
        if (results.length > 0) associations[toDef.associationKey] = { results };
      }
      if (Object.keys(associations).length > 0) out.associations = associations;
    }
    return out;
  }

  /** What create and update answer: the object with every property that has a value. */
  function presentWritten(def: ObjectTypeDef, object: CrmObject): Record<string, unknown> {
    const set = Object.keys(object.properties).filter((name) => object.properties[name] !== null);
    return present(def, object, set);
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

  function notFoundRoute(req: TwinRequest): HubSpotApiError {
    return new HubSpotApiError(404, 'OBJECT_NOT_FOUND', `No route for ${req.method} ${req.path}`);
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
        notify(changes, apiSource);
        return json(201, presentWritten(def, object));
      }
      throw notFoundRoute(req);
    }
    if (second === 'search' && third === undefined && req.method === 'POST') {
      return json(200, search(def, parseBody(req)));
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
            present(def, object, listParam(req, 'properties'), listParam(req, 'associations')),
          );
        }
        case 'PATCH': {
          const body = parseBody(req);
          const { object, changes } = store.update(def.name, resolve(), body.properties ?? {});
          notify(changes, apiSource);
          return json(200, presentWritten(def, object));
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
    const results = page.map((o) => present(def, o, properties, associations));
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
            results.push(present(def, object, requested));
            break;
          }
          case 'create': {
            const associations = Array.isArray(input.associations)
              ? (input.associations as AssociationInput[])
              : [];
            const { object, changes } = store.create(def.name, input.properties ?? {}, associations);
            notify(changes, apiSource);
            results.push(presentWritten(def, object));
            break;
          }
          case 'update': {
            const { object, changes } = store.update(def.name, String(input.id), input.properties ?? {});
            notify(changes, apiSource);
            results.push(presentWritten(def, object));
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

  /**
   * CRM search with filter groups (OR of ANDed filters), sorts and paging. Unlike HubSpot, where new and
   * changed records show up in search after a few seconds, the twin's index is always current.
   */
  function search(def: ObjectTypeDef, body: Record<string, unknown>) {
    const groups = Array.isArray(body.filterGroups)
      ? (body.filterGroups as Array<{ filters?: unknown }>)
      : [];
    const limit = clamp(Number(body.limit ?? 10), 1, MAX_SEARCH_PAGE);
    const after = Number(body.after ?? 0);
    const matches = store.list(def.name).filter((o) => {
      if (groups.length === 0) return true;
      return groups.some((g) => {
        const filters = Array.isArray(g.filters) ? (g.filters as Array<Record<string, unknown>>) : [];
        return filters.every((f) => matchFilter(def, o, f));
      });
    });
    const sorts = Array.isArray(body.sorts) ? body.sorts : [];
    const sorted = [...matches];
    for (const sort of [...sorts].reverse()) {
      const spec =
        typeof sort === 'string'
          ? {
              propertyName: sort.replace(/^-/, ''),
              direction: sort.startsWith('-') ? 'DESCENDING' : 'ASCENDING',
            }
          : (sort as { propertyName?: string; direction?: string });
      const name = spec.propertyName ?? 'hs_object_id';
      const sign = spec.direction === 'DESCENDING' ? -1 : 1;
      sorted.sort((a, b) => sign * compareValues(a.properties[name] ?? null, b.properties[name] ?? null));
    }
    const page = sorted.slice(after, after + limit);
    const requested = Array.isArray(body.properties) ? body.properties.map(String) : undefined;
    const results = page.map((o) => present(def, o, requested));
    const nextAfter = after + page.length;
    return {
      total: sorted.length,
      results,
      ...(nextAfter < sorted.length ? { paging: { next: { after: String(nextAfter) } } } : {}),
    };
  }

  function matchFilter(def: ObjectTypeDef, object: CrmObject, filter: Record<string, unknown>): boolean {
    const name = String(filter.propertyName ?? '');
    if (!def.properties.some((p) => p.name === name)) {
      throw badRequest(`There was a problem with the request: property ${name} does not exist`);
    }
    const actual = object.properties[name] ?? null;
    const value = filter.value === undefined ? undefined : String(filter.value);
    const values = Array.isArray(filter.values) ? filter.values.map(String) : [];
    switch (String(filter.operator ?? 'EQ')) {
      case 'EQ':
        return actual !== null && value !== undefined && compareValues(actual, value) === 0;
      case 'NEQ':
        return actual === null || value === undefined || compareValues(actual, value) !== 0;
      case 'LT':
        return actual !== null && value !== undefined && compareValues(actual, value) < 0;
      case 'LTE':
        return actual !== null && value !== undefined && compareValues(actual, value) <= 0;
      case 'GT':
        return actual !== null && value !== undefined && compareValues(actual, value) > 0;
      case 'GTE':
        return actual !== null && value !== undefined && compareValues(actual, value) >= 0;
      case 'BETWEEN': {
        const high = filter.highValue === undefined ? undefined : String(filter.highValue);
        return (
          actual !== null &&
          value !== undefined &&
          high !== undefined &&
          compareValues(actual, value) >= 0 &&
          compareValues(actual, high) <= 0
        );
      }
      case 'IN':
        return actual !== null && values.some((v) => compareValues(actual, v) === 0);
      case 'NOT_IN':
        return actual === null || !values.some((v) => compareValues(actual, v) === 0);
      case 'HAS_PROPERTY':
        return actual !== null;
      case 'NOT_HAS_PROPERTY':
        return actual === null;
      case 'CONTAINS_TOKEN':
        return (
          actual !== null &&
          value !== undefined &&
          actual.toLowerCase().includes(value.replace(/\*/g, '').toLowerCase())
        );
      default:
        throw badRequest(`Unsupported filter operator ${String(filter.operator)}`);
    }
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
      return json(200, { results: v4Results(from.name, fromId, to.name) });
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

  function v4Results(from: ObjectType, fromId: string, to: ObjectType) {
    return store.associations(from, fromId, to).map(({ toId, typeIds }) => ({
      toObjectId: Number(toId),
      associationTypes: typeIds.map((typeId) => ({
        category: 'HUBSPOT_DEFINED',
        typeId,
        label: associationType(typeId)?.label ?? null,
      })),
    }));
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
        results.push({ from: { id: fromId }, to: v4Results(from.name, fromId, to.name) });
      }
      return done(200, results, errors);
    }
    throw notFoundRoute(req);
  }

  function propertiesRoute(req: TwinRequest, s: string[]): TwinResponse {
    const def = objectType(s[0]);
    const name = s[1];
    const show = (p: PropertyDef) => ({
      name: p.name,
      label: p.label,
      type: p.type,
      fieldType: p.fieldType,
      groupName: p.groupName,
      description: '',
      options: (p.options ?? []).map((o, i) => ({ ...o, displayOrder: i, hidden: false })),
      hasUniqueValue: p.hasUniqueValue === true,
      hidden: false,
      formField: !p.readOnly,
      calculated: p.readOnly === true,
      modificationMetadata: {
        archivable: p.custom === true,
        readOnlyDefinition: p.custom !== true,
        readOnlyValue: p.readOnly === true,
      },
    });
    if (name === undefined && req.method === 'GET') return json(200, { results: def.properties.map(show) });
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
      return json(201, show(store.addProperty(def.name, spec)));
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
      return json(200, show(property));
    }
    throw notFoundRoute(req);
  }

  function pipelinesRoute(req: TwinRequest, s: string[]): TwinResponse {
    const def = objectType(s[0]);
    if (def.name !== 'deals' || req.method !== 'GET') throw notFoundRoute(req);
    const now = new Date(0).toISOString();
    const pipeline = {
      id: DEFAULT_PIPELINE,
      label: 'Sales Pipeline',
      displayOrder: 0,
      archived: false,
      createdAt: now,
      updatedAt: now,
      stages: DEAL_STAGES.map((stage, i) => ({
        id: stage.id,
        label: stage.label,
        displayOrder: i,
        archived: false,
        createdAt: now,
        updatedAt: now,
        metadata: { isClosed: String(stage.closed), probability: stage.probability },
      })),
    };
    if (s[1] === undefined) return json(200, { results: [pipeline] });
    if (s[1] === DEFAULT_PIPELINE && s[2] === undefined) return json(200, pipeline);
    throw new HubSpotApiError(404, 'OBJECT_NOT_FOUND', `Pipeline ${s[1]} not found`);
  }

  const server = await startTwinServer({
    name: 'hubspot',
    port: options.port ?? HUBSPOT_DEFAULT_PORT,
    ...(options.host === undefined ? {} : { host: options.host }),
    faults,
    handler,
    vendorError: (status, retryAfterSeconds) => {
      if (status === 429) return rateLimited(retryAfterSeconds ?? 1);
      if (status < 500) {
        // An injected refusal, in HubSpot's validation error shape.
        return json(status, {
          status: 'error',
          message: 'The request was refused by a rule of this portal.',
          correlationId: ids.uuid(),
          category: 'VALIDATION_ERROR',
        });
      }
      return json(status, {
        status: 'error',
        message: status === 503 ? 'Service Unavailable' : 'internal error',
        correlationId: ids.uuid(),
        category: status === 503 ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_ERROR',
      });
    },
  });

  const allBatchers = () => [...retired, ...(batcher ? [batcher] : [])];

  return {
    url: server.url,
    port: server.port,
    accessToken,
    portalId,
    appId,
    clientSecret,
    faults,
    getObject: (type, id) => store.get(type, id),
    objects: (type) => store.list(type),
    createObject(type, properties, associations = []) {
      const { object, changes } = store.create(type, properties, associations);
      notify(changes, uiSource);
      return object.id;
    },
    updateObject(type, id, properties) {
      notify(store.update(type, id, properties).changes, uiSource);
    },
    setDealStage(dealId, stage = 'closedwon') {
      notify(store.update('deals', dealId, { dealstage: stage }).changes, uiSource);
    },
    associate(fromType, fromId, toType, toId) {
      const type = defaultAssociationType(fromType, toType);
      if (!type) throw new Error(`no default association from ${fromType} to ${toType}`);
      store.associate(fromType, fromId, toId, [type.id]);
    },
    configureWebhook,
    flushWebhooks: () => batcher?.flush(),
    get webhookBatches() {
      return allBatchers().flatMap((b) => b.batches);
    },
    get deliveries() {
      return allBatchers().flatMap((b) => [...b.log]);
    },
    idle: async () => {
      await Promise.all(allBatchers().map((b) => b.idle()));
    },
    close: async () => {
      for (const b of allBatchers()) b.close();
      await server.close();
    },
  };
}

function clamp(n: number, min: number, max: number): number {
  if (!Number.isFinite(n)) return min;
  return Math.min(max, Math.max(min, Math.trunc(n)));
}

/** Numbers compare as numbers, everything else case-insensitively, as HubSpot search does. */
function compareValues(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : 0;
}
