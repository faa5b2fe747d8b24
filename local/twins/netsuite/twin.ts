import {
  type FaultConfig,
  FaultInjector,
  faultsFromEnv,
  SeededRandom,
  startTwinServer,
  type TwinRequest,
  type TwinResponse,
} from '../common';
import { recordAction } from './actions';
import { DEFAULT_ACCOUNT, DEFAULT_CREDENTIALS, type NetSuiteCredentials, TokenBasedAuth } from './auth';
import { concurrencyLimitExceeded, NetSuiteError, netSuiteErrorResponse } from './errors';
import { matches, parseQuery } from './query';
import {
  type AnyRecordType,
  type NetSuiteItem,
  type NetSuiteRecordType,
  RECORD_PATH,
  RECORD_TYPES,
  REFERENCE_TYPES,
  RecordStore,
} from './store';
import { QUERY_PATH, runSuiteQl } from './suiteql';

export const NETSUITE_TWIN_DEFAULT_PORT = 4020;

export interface NetSuiteTwinOptions {
  /** 0 picks a free port. @default 4020 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Seeds the simulated processing time (and the faults when `faults` has no seed). @default 1 */
  seed?: number;
  /** @default the `TWIN_FAULTS_NETSUITE` environment variable, else none */
  faults?: FaultConfig;
  /**
   * Requests the account serves at once; one more is rejected. NetSuite gives 5 (developer accounts,
   * shared tier) to 15 + 10 per SuiteCloud Plus licence.
   * @default 5
   */
  concurrencyLimit?: number;
  credentials?: Partial<NetSuiteCredentials>;
  /** The OAuth realm. @default 'TSTDRV1234567' */
  account?: string;
  /**
   * Time each request holds a concurrency slot. Real requests take hundreds of milliseconds; a few keep
   * local runs fast while a client that does not bound its concurrency still trips the limit.
   * @default { min: 2, max: 10 }
   */
  processingMs?: { min: number; max: number };
  /** Items transaction lines may reference (`serviceSaleItem`). */
  items?: NetSuiteItem[];
}

export interface NetSuiteRequestLogEntry {
  method: string;
  path: string;
  status: number;
  at: string;
}

export interface NetSuiteTwin {
  url: string;
  port: number;
  account: string;
  credentials: NetSuiteCredentials;
  faults: FaultInjector;
  close(): Promise<void>;
  /** Every record of a type as GET with `expandSubResources=true` returns it, by internal id. */
  records(type: AnyRecordType): Array<Record<string, unknown>>;
  getById(type: AnyRecordType, id: string): Record<string, unknown> | undefined;
  getByExternalId(type: AnyRecordType, externalId: string): Record<string, unknown> | undefined;
  /** Deletes a record, posted or not, as an administrator could: a test's change behind revbridge's back. */
  forceDelete(type: NetSuiteRecordType, id: string): boolean;
  /** How many times the record with this external id was created or replaced (PUT upsert, POST). */
  writeCount(type: AnyRecordType, externalId: string): number;
  readonly inFlight: number;
  readonly maxConcurrentSeen: number;
  /** Slot-milliseconds used so far (the sum of admitted requests' durations): utilisation's numerator. */
  readonly busySlotMs: number;
  /** Requests refused because every slot was taken (`CONCURRENCY_LIMIT_EXCEEDED`, not injected faults). */
  readonly concurrencyRejections: number;
  readonly concurrencyLimit: number;
  readonly requestLog: readonly NetSuiteRequestLogEntry[];
  /**
   * Holds admitted requests (they keep their concurrency slot) until the returned function is called:
   * lets a test fill the account's slots deterministically.
   */
  pause(): () => void;
}

const SINGULAR = 'application/vnd.oracle.resource+json; type=singular';
const COLLECTION = 'application/vnd.oracle.resource+json; type=collection';
const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 1000;

const TYPE_BY_LOWER = new Map<string, AnyRecordType>(
  [...RECORD_TYPES, ...REFERENCE_TYPES].map((type) => [type.toLowerCase(), type]),
);

/** A stateful NetSuite REST record service (`/services/rest/record/v1`) with TBA and concurrency governance. */
export async function startNetSuiteTwin(options: NetSuiteTwinOptions = {}): Promise<NetSuiteTwin> {
  const account = options.account ?? DEFAULT_ACCOUNT;
  const credentials: NetSuiteCredentials = { ...DEFAULT_CREDENTIALS, ...options.credentials };
  const limit = options.concurrencyLimit ?? 5;
  const processing = options.processingMs ?? { min: 2, max: 10 };
  const random = new SeededRandom(options.seed ?? 1);
  const faultConfig = options.faults ?? faultsFromEnv('netsuite');
  const faults = new FaultInjector(
    faultConfig.seed === undefined && options.seed !== undefined
      ? { ...faultConfig, seed: options.seed }
      : faultConfig,
  );
  const auth = new TokenBasedAuth(account, credentials);
  const store = new RecordStore(options.items);
  const requestLog: NetSuiteRequestLogEntry[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let maxConcurrentSeen = 0;
  let busySlotMs = 0;
  let concurrencyRejections = 0;
  let gate: Promise<void> | undefined;
  let openGate: (() => void) | undefined;

  const hold = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0) return resolve();
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const handler = async (req: TwinRequest): Promise<TwinResponse> => {
    let response: TwinResponse;
    if (inFlight >= limit) {
      concurrencyRejections++;
      response = concurrencyLimitExceeded().toResponse();
    } else {
      inFlight++;
      const admitted = performance.now();
      maxConcurrentSeen = Math.max(maxConcurrentSeen, inFlight);
      try {
        await hold(random.int(processing.min, processing.max));
        if (gate) await gate;
        response = route(req, store, auth);
      } catch (error) {
        if (!(error instanceof NetSuiteError)) throw error;
        response = error.toResponse();
      } finally {
        inFlight--;
        busySlotMs += performance.now() - admitted;
      }
    }
    requestLog.push({
      method: req.method,
      path: req.path,
      status: response.status,
      at: new Date().toISOString(),
    });
    return response;
  };

  const server = await startTwinServer({
    name: 'netsuite',
    port: options.port ?? NETSUITE_TWIN_DEFAULT_PORT,
    ...(options.host === undefined ? {} : { host: options.host }),
    faults,
    handler,
    controls: (path, req) => {
      // `DELETE /_twin/records/<type>/<internal id>`: what `forceDelete` does, for a person at a shell
      // while `npm run local` runs (an administrator deleting a record behind revbridge's back).
      const match = /^records\/([A-Za-z]+)\/([^/]+)$/.exec(path);
      if (!match || req.method !== 'DELETE') return undefined;
      const [, type, id] = match as unknown as [string, string, string];
      if (!(RECORD_TYPES as readonly string[]).includes(type)) {
        return { status: 400, body: { error: `no record type ${type}` } };
      }
      return store.forceRemove(type as NetSuiteRecordType, decodeURIComponent(id))
        ? { status: 200, body: { deleted: { type, id } } }
        : { status: 404, body: { error: `no ${type} ${id}` } };
    },
    vendorError: (status) =>
      status === 429
        ? concurrencyLimitExceeded().toResponse()
        : status < 500
          ? // An injected refusal: what a user event script that throws on save answers.
            netSuiteErrorResponse(status, 'USER_ERROR', 'The record was refused by a script on this account.')
          : netSuiteErrorResponse(
              status,
              'UNEXPECTED_ERROR',
              status === 503
                ? 'The service is temporarily unavailable. Try again later.'
                : 'An unexpected error occurred. Error ID: twin',
            ),
  });

  const base = server.url;
  return {
    url: server.url,
    port: server.port,
    account,
    credentials,
    faults,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      openGate?.();
      await server.close();
    },
    records: (type) => store.all(type).map((r) => store.render(r, base, true)),
    getById: (type, id) => {
      const record = store.find(type, id);
      return record ? store.render(record, base, true) : undefined;
    },
    getByExternalId: (type, externalId) => {
      const record = store.find(type, `eid:${externalId}`);
      return record ? store.render(record, base, true) : undefined;
    },
    writeCount: (type, externalId) => store.writeCount(type, externalId),
    forceDelete: (type, id) => store.forceRemove(type, id),
    get inFlight() {
      return inFlight;
    },
    get maxConcurrentSeen() {
      return maxConcurrentSeen;
    },
    get busySlotMs() {
      return busySlotMs;
    },
    get concurrencyRejections() {
      return concurrencyRejections;
    },
    concurrencyLimit: limit,
    requestLog,
    pause: () => {
      if (!gate) {
        gate = new Promise<void>((resolve) => {
          openGate = () => {
            gate = undefined;
            openGate = undefined;
            resolve();
          };
        });
      }
      const release = openGate;
      return () => release?.();
    },
  };
}

function route(req: TwinRequest, store: RecordStore, auth: TokenBasedAuth): TwinResponse {
  auth.verify(req.method, req.url, req.headers.authorization);
  if (req.path === `${QUERY_PATH}/suiteql`) return suiteql(req, store);
  if (!req.path.startsWith(`${RECORD_PATH}/`)) {
    throw new NetSuiteError(404, 'NONEXISTENT_ID', `The requested URL ${req.path} does not exist.`, {
      'o:urlPath': req.path,
    });
  }
  const segments = req.path
    .slice(RECORD_PATH.length + 1)
    .split('/')
    .map((s) => decodeURIComponent(s));
  const [typeName = '', key, sublist, ...rest] = segments;
  const type = TYPE_BY_LOWER.get(typeName.toLowerCase());
  if (!type || rest.length > 0) {
    throw new NetSuiteError(404, 'NONEXISTENT_ID', `Record type '${typeName}' does not exist.`, {
      'o:urlPath': req.path,
    });
  }
  const base = new URL(req.url).origin;
  const urlPath = req.path;

  if (req.method === 'GET') {
    if (key === undefined || key === '') return list(req, store, type, base);
    const record = store.get(type, key, urlPath);
    if (sublist !== undefined) {
      if (!(sublist in record.data)) throw notFound(urlPath);
      return {
        status: 200,
        headers: { 'Content-Type': COLLECTION },
        body: store.renderSublist(record, sublist, base),
      };
    }
    const expand = req.query.get('expandSubResources') === 'true';
    return { status: 200, headers: { 'Content-Type': SINGULAR }, body: store.render(record, base, expand) };
  }

  if (RecordStore.isReferenceType(type)) {
    throw methodNotAllowed(req.method, `The twin serves ${type} records read-only.`);
  }
  const writable = type as NetSuiteRecordType;
  if (req.method === 'POST' && key && sublist?.startsWith('@')) {
    return recordAction(store, writable, key, sublist.slice(1), urlPath);
  }
  if (sublist !== undefined) throw methodNotAllowed(req.method, 'Sublists are written through their record.');
  const location = (id: string) => ({ Location: `${base}${RECORD_PATH}/${writable}/${id}` });

  switch (req.method) {
    case 'POST': {
      if (key !== undefined && key !== '')
        throw methodNotAllowed('POST', 'POST creates a record: omit the id.');
      const record = store.create(writable, jsonBody(req));
      return { status: 204, headers: location(record.id) };
    }
    case 'PUT': {
      if (key === undefined || !key.startsWith('eid:')) {
        throw new NetSuiteError(
          400,
          'INVALID_VALUE',
          'The upsert operation needs an external ID in the URL: PUT /record/v1/<type>/eid:<externalId>.',
          { 'o:urlPath': urlPath },
        );
      }
      const { record } = store.upsert(writable, key.slice(4), jsonBody(req));
      return { status: 204, headers: location(record.id) };
    }
    case 'PATCH': {
      if (key === undefined || key === '') throw methodNotAllowed('PATCH', 'PATCH needs a record id.');
      const record = store.get(writable, key, urlPath);
      const replace = new Set(
        (req.query.get('replace') ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      );
      store.update(writable, record, jsonBody(req), replace);
      return { status: 204, headers: location(record.id) };
    }
    case 'DELETE': {
      if (key === undefined || key === '') throw methodNotAllowed('DELETE', 'DELETE needs a record id.');
      store.remove(writable, store.get(writable, key, urlPath));
      return { status: 204 };
    }
    default:
      throw methodNotAllowed(req.method, `${req.method} is not supported on records.`);
  }
}

function suiteql(req: TwinRequest, store: RecordStore): TwinResponse {
  if (req.method !== 'POST') throw methodNotAllowed(req.method, 'SuiteQL queries are POSTed.');
  const prefer = req.headers.prefer;
  if (!(typeof prefer === 'string' && /\btransient\b/i.test(prefer))) {
    throw new NetSuiteError(400, 'INVALID_VALUE', 'SuiteQL requests need the header Prefer: transient.');
  }
  const { limit, offset } = pageParams(req);
  const q = jsonBody(req).q;
  if (typeof q !== 'string' || q.trim() === '') {
    throw new NetSuiteError(400, 'INVALID_CONTENT', 'The request body must name the query as "q".');
  }
  return {
    status: 200,
    headers: { 'Content-Type': COLLECTION },
    body: runSuiteQl(store, q, { limit, offset }, req.url),
  };
}

function pageParams(req: TwinRequest): { limit: number; offset: number } {
  const limit = intParam(req, 'limit', DEFAULT_LIMIT);
  const offset = intParam(req, 'offset', 0);
  if (limit < 1 || limit > MAX_LIMIT) {
    throw new NetSuiteError(400, 'INVALID_VALUE', `The limit must be between 1 and ${MAX_LIMIT}.`, {
      'o:errorQueryParam': 'limit',
    });
  }
  if (offset < 0) {
    throw new NetSuiteError(400, 'INVALID_VALUE', 'The offset must not be negative.', {
      'o:errorQueryParam': 'offset',
    });
  }
  return { limit, offset };
}

function list(req: TwinRequest, store: RecordStore, type: AnyRecordType, base: string): TwinResponse {
  const { limit, offset } = pageParams(req);
  const q = req.query.get('q');
  const filter = q === null || q.trim() === '' ? undefined : parseQuery(q);
  const all = store
    .all(type)
    .filter(
      (record) =>
        !filter || matches(filter, { id: record.id, externalId: record.externalId, ...record.data }),
    );
  const page = all.slice(offset, offset + limit);
  const collection = `${base}${RECORD_PATH}/${type}`;
  const pageLink = (rel: string, at: number) => {
    const params = new URLSearchParams();
    if (q !== null) params.set('q', q);
    params.set('limit', String(limit));
    params.set('offset', String(at));
    return { rel, href: `${collection}?${params.toString()}` };
  };
  const lastOffset = all.length === 0 ? 0 : Math.floor((all.length - 1) / limit) * limit;
  const links = [
    ...(offset > 0 ? [pageLink('previous', Math.max(0, offset - limit)), pageLink('first', 0)] : []),
    ...(offset + limit < all.length ? [pageLink('next', offset + limit), pageLink('last', lastOffset)] : []),
    pageLink('self', offset),
  ];
  return {
    status: 200,
    headers: { 'Content-Type': COLLECTION },
    body: {
      links,
      count: page.length,
      hasMore: offset + page.length < all.length,
      items: page.map((record) => ({
        links: [{ rel: 'self', href: `${collection}/${record.id}` }],
        id: record.id,
      })),
      offset,
      totalResults: all.length,
    },
  };
}

function intParam(req: TwinRequest, name: string, fallback: number): number {
  const raw = req.query.get(name);
  if (raw === null) return fallback;
  if (!/^-?\d+$/.test(raw)) {
    throw new NetSuiteError(400, 'INVALID_VALUE', `Invalid value for query parameter ${name}: ${raw}.`, {
      'o:errorQueryParam': name,
    });
  }
  return Number(raw);
}

function jsonBody(req: TwinRequest): Record<string, unknown> {
  const text = req.rawBody.toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new NetSuiteError(400, 'INVALID_CONTENT', 'Invalid JSON in the request body.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new NetSuiteError(400, 'INVALID_CONTENT', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

const notFound = (urlPath: string) =>
  new NetSuiteError(404, 'NONEXISTENT_ID', 'The requested sublist does not exist on this record.', {
    'o:urlPath': urlPath,
  });

const methodNotAllowed = (method: string, detail: string) =>
  new NetSuiteError(405, 'METHOD_NOT_ALLOWED', `${method}: ${detail}`);
