/**
 * The REST API subset jsforce uses for quote-to-cash: versions and resources, sObject CRUD, upsert by external
 * id, sObject Collections, describe and SOQL with paging, answered with Salesforce's errors and limit header.
 */
import type { TwinRequest, TwinResponse } from '../common';
import { MultipleMatchesError, notFound, SalesforceApiError } from './errors';
import { toId18 } from './record-ids';
import {
  describe,
  MIN_API_VERSION,
  present,
  recordUrl,
  resources,
  rolledBack,
  SALESFORCE_API_VERSION,
  sobjectSummary,
  versions,
} from './render';
import { findField, type SObjectName } from './schema';
import { QueryEngine } from './soql';
import { isPlainObject, type OrgStore, type SRecord } from './store';

/** Records per query batch before `nextRecordsUrl` paging starts (the REST default). */
const QUERY_BATCH_SIZE = 2_000;
/** sObject Collections take at most 200 records per request. */
const COLLECTION_LIMIT = 200;

interface Route {
  version: string;
  segments: string[];
}

export interface ApiOptions {
  store: OrgStore;
  /** The only bearer token the API accepts. */
  accessToken: string;
  /** Daily API request allowance reported in `Sforce-Limit-Info`. */
  dailyApiLimit: number;
}

export interface SalesforceApi {
  handler(req: TwinRequest): Promise<TwinResponse>;
  /** A JSON response carrying the limit header. */
  json(status: number, body?: unknown): TwinResponse;
  /** API requests counted so far. */
  readonly apiUsage: number;
}

export function createSalesforceApi(options: ApiOptions): SalesforceApi {
  const { store, accessToken, dailyApiLimit } = options;
  let apiUsage = 0;
  const queryCursors = new Map<string, Array<Record<string, unknown>>>();
  let cursorCount = 0;
  const engine = new QueryEngine(store, () => SALESFORCE_API_VERSION);

  const limitHeader = (): Record<string, string> => ({
    'Sforce-Limit-Info': `api-usage=${apiUsage}/${dailyApiLimit}`,
  });

  const json = (status: number, body?: unknown): TwinResponse => ({
    status,
    headers: {
      ...limitHeader(),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json;charset=UTF-8' }),
    },
    ...(body === undefined ? {} : { body }),
  });

  const errorResponse = (error: SalesforceApiError): TwinResponse => {
    if (error instanceof MultipleMatchesError) {
      return json(
        300,
        error.ids.map((id) => recordUrl(SALESFORCE_API_VERSION, error.sobject, id)),
      );
    }
    return json(error.status, error.toBody());
  };

  async function handler(req: TwinRequest): Promise<TwinResponse> {
    try {
      return await route(req);
    } catch (error) {
      if (error instanceof SalesforceApiError) return errorResponse(error);
      throw error;
    }
  }

  async function route(req: TwinRequest): Promise<TwinResponse> {
    const segments = req.path
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    if (segments[0] !== 'services' || segments[1] !== 'data') throw notFound();
    authenticate(req);
    if (segments.length === 2 && req.method === 'GET') {
      return json(200, versions());
    }
    const versionMatch = /^v(\d+)\.0$/.exec(segments[2] ?? '');
    const major = Number(versionMatch?.[1] ?? 0);
    if (!versionMatch || major < MIN_API_VERSION || major > Number.parseInt(SALESFORCE_API_VERSION, 10)) {
      throw notFound();
    }
    apiUsage++;
    if (apiUsage > dailyApiLimit) {
      throw new SalesforceApiError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
    }
    const r: Route = { version: `${major}.0`, segments: segments.slice(3) };
    const [resource, ...rest] = r.segments;
    switch (resource) {
      case undefined:
        return json(200, resources(r.version));
      case 'limits':
        return json(200, {
          DailyApiRequests: { Max: dailyApiLimit, Remaining: Math.max(0, dailyApiLimit - apiUsage) },
        });
      case 'sobjects':
        return sobjects(req, r, rest);
      case 'query':
      case 'queryAll':
        return query(req, r, rest);
      case 'composite':
        if (rest[0] === 'sobjects') return collections(req, r, rest.slice(1));
        throw notFound();
      default:
        throw notFound();
    }
  }

  function authenticate(req: TwinRequest): void {
    const header = req.headers.authorization ?? '';
    const match = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(header.trim());
    if (!match || match[1] !== accessToken) {
      throw new SalesforceApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    }
  }

  function sobjects(req: TwinRequest, r: Route, rest: string[]): TwinResponse {
    const [typeName, second, third, ...extra] = rest;
    if (typeName === undefined) {
      if (req.method !== 'GET') throw methodNotAllowed(req);
      return json(200, {
        encoding: 'UTF-8',
        maxBatchSize: COLLECTION_LIMIT,
        sobjects: [...store.schema.values()].map((def) => sobjectSummary(def, r.version)),
      });
    }
    const def = store.sobject(typeName);
    if (extra.length > 0) throw notFound();
    if (second === undefined) {
      if (req.method === 'GET') {
        return json(200, { objectDescribe: sobjectSummary(def, r.version), recentItems: [] });
      }
      if (req.method === 'POST') {
        const id = store.create(def.name, parseBody(req));
        return json(201, { id, success: true, errors: [] });
      }
      throw methodNotAllowed(req);
    }
    if (second === 'describe' && third === undefined) {
      if (req.method !== 'GET') throw methodNotAllowed(req);
      return json(200, describe(def, r.version));
    }
    if (third === undefined) {
      const id = second;
      switch (req.method) {
        case 'GET':
        case 'HEAD': {
          const fields = req.query.get('fields');
          const record = store.mustGet(def.name, id);
          return json(200, present(def, record, r.version, fields ? splitList(fields) : undefined));
        }
        case 'PATCH':
          store.update(def.name, id, parseBody(req));
          return json(204);
        case 'DELETE':
          store.delete(def.name, id);
          return json(204);
        case 'POST':
          // API 37.0+: POST /sobjects/<type>/Id creates a record (Id as external id, value null).
          if (second.toLowerCase() === 'id') {
            const id = store.create(def.name, parseBody(req));
            return json(201, { id, success: true, errors: [] });
          }
          throw methodNotAllowed(req);
        default:
          throw methodNotAllowed(req);
      }
    }
    const fieldName = second;
    const value = third;
    switch (req.method) {
      case 'GET': {
        const field = findField(def, fieldName);
        if (!field || (!field.externalId && field.name !== 'Id')) {
          throw new SalesforceApiError(
            404,
            'NOT_FOUND',
            `Provided external ID field does not exist or is not accessible: ${fieldName}`,
          );
        }
        const matches = store
          .all(def.name)
          .filter((rec) => rec[field.name] !== null && String(rec[field.name]) === value);
        if (matches.length === 0) throw notFound();
        if (matches.length > 1) {
          throw new MultipleMatchesError(
            def.name,
            matches.map((m) => String(m.Id)),
          );
        }
        const fields = req.query.get('fields');
        return json(
          200,
          present(def, matches[0] as SRecord, r.version, fields ? splitList(fields) : undefined),
        );
      }
      case 'PATCH':
      case 'POST': {
        const updateOnly = req.query.get('updateOnly') === 'true';
        const result = store.upsert(def.name, fieldName, value, parseBody(req), { updateOnly });
        if (result.created) return json(201, { id: result.id, success: true, errors: [], created: true });
        // Since API 46.0 an upsert that updates answers 200 with a body; before, 204 with none.
        if (Number.parseInt(r.version, 10) >= 46) {
          return json(200, { id: result.id, success: true, errors: [], created: false });
        }
        return json(204);
      }
      default:
        throw methodNotAllowed(req);
    }
  }

  function query(req: TwinRequest, r: Route, rest: string[]): TwinResponse {
    if (req.method !== 'GET') throw methodNotAllowed(req);
    const locator = rest[0];
    if (locator !== undefined) {
      const remaining = queryCursors.get(locator);
      if (!remaining) {
        throw new SalesforceApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
      }
      queryCursors.delete(locator);
      return json(200, page(remaining, remaining.length, r.version));
    }
    const soql = req.query.get('q');
    if (!soql) throw new SalesforceApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
    const result = engine.run(soql);
    return json(200, page(result.records, result.totalSize, r.version));
  }

  function page(records: Array<Record<string, unknown>>, totalSize: number, version: string) {
    if (records.length <= QUERY_BATCH_SIZE) return { totalSize, done: true, records };
    cursorCount++;
    const locator = `01g8d${String(cursorCount).padStart(13, '0')}-${QUERY_BATCH_SIZE}`;
    queryCursors.set(locator, records.slice(QUERY_BATCH_SIZE));
    return {
      totalSize,
      done: false,
      nextRecordsUrl: `/services/data/v${version}/query/${locator}`,
      records: records.slice(0, QUERY_BATCH_SIZE),
    };
  }

  /**
   * sObject Collections: create, update, upsert, retrieve and delete up to 200 records in one call, with
   * `allOrNone` rolling the whole request back on the first failure.
   * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections.htm
   */
  function collections(req: TwinRequest, r: Route, rest: string[]): TwinResponse {
    const [typeName, extField] = rest;
    if (typeName !== undefined && req.method === 'POST' && extField === undefined) {
      const def = store.sobject(typeName);
      const body = parseBody(req);
      const idsIn = isPlainObject(body) && Array.isArray(body.ids) ? body.ids : undefined;
      const fields = isPlainObject(body) && Array.isArray(body.fields) ? body.fields : undefined;
      if (!idsIn || !fields) {
        throw new SalesforceApiError(400, 'JSON_PARSER_ERROR', 'ids and fields are required');
      }
      return json(
        200,
        idsIn.map((id) => {
          const record = typeof id === 'string' ? store.get(def.name, id) : undefined;
          return record ? present(def, record, r.version, fields.map(String)) : null;
        }),
      );
    }
    if (req.method === 'DELETE' && typeName === undefined) {
      const idList = splitList(req.query.get('ids') ?? '');
      const allOrNone = req.query.get('allOrNone') === 'true';
      return json(
        200,
        runCollection(
          idList,
          allOrNone,
          (id) => {
            const def = store.schema.get(sobjectNameForId(id));
            if (!def) throw notFound();
            store.delete(def.name, id);
            return { id };
          },
          (id) => id,
        ),
      );
    }
    const body = parseBody(req);
    const records = isPlainObject(body) && Array.isArray(body.records) ? body.records : undefined;
    if (!records) throw new SalesforceApiError(400, 'JSON_PARSER_ERROR', 'records is required');
    if (records.length > COLLECTION_LIMIT) {
      throw new SalesforceApiError(
        400,
        'EXCEEDED_ID_LIMIT',
        `record limit reached. cannot submit more than ${COLLECTION_LIMIT} records into this call`,
      );
    }
    const allOrNone = isPlainObject(body) && body.allOrNone === true;
    const typeOf = (record: unknown): string => {
      const attributes =
        isPlainObject(record) && isPlainObject(record.attributes) ? record.attributes : undefined;
      const type = attributes?.type;
      if (typeof type !== 'string') {
        throw new SalesforceApiError(400, 'INVALID_TYPE', 'Must send a concrete entity type.');
      }
      return type;
    };
    if (req.method === 'POST' && typeName === undefined) {
      return json(
        200,
        runCollection(records, allOrNone, (record) => {
          if (isPlainObject(record) && record.Id !== undefined) {
            throw new SalesforceApiError(400, 'INVALID_FIELD', 'cannot specify Id in an insert call', ['Id']);
          }
          return { id: store.create(typeOf(record), record) };
        }),
      );
    }
    if (req.method === 'PATCH' && typeName === undefined) {
      return json(
        200,
        runCollection(records, allOrNone, (record) => {
          const id = isPlainObject(record) ? (record.id ?? record.Id) : undefined;
          if (typeof id !== 'string') {
            throw new SalesforceApiError(400, 'MISSING_ARGUMENT', 'Id not specified in an update call', [
              'Id',
            ]);
          }
          const { id: _lower, Id: _upper, ...values } = record as Record<string, unknown>;
          store.update(typeOf(record), id, values);
          return { id: toId18(id) ?? id };
        }),
      );
    }
    if (req.method === 'PATCH' && typeName !== undefined && extField !== undefined) {
      const def = store.sobject(typeName);
      const field = findField(def, extField);
      return json(
        200,
        runCollection(records, allOrNone, (record) => {
          const value = isPlainObject(record) && field ? record[field.name] : undefined;
          if (value === undefined || value === null) {
            throw new SalesforceApiError(400, 'MISSING_ARGUMENT', `${extField} not specified`, [extField]);
          }
          const result = store.upsert(def.name, extField, String(value), record);
          return { id: result.id, created: result.created };
        }),
      );
    }
    throw methodNotAllowed(req);
  }

  function runCollection<T>(
    items: T[],
    allOrNone: boolean,
    apply: (item: T) => { id: string; created?: boolean },
    idOf?: (item: T) => string,
  ): Array<Record<string, unknown>> {
    const snapshot = allOrNone ? store.snapshot() : undefined;
    const results: Array<Record<string, unknown>> = [];
    let failed = false;
    for (const item of items) {
      if (failed && allOrNone) {
        results.push(rolledBack(idOf?.(item)));
        continue;
      }
      try {
        const { id, created } = apply(item);
        results.push({ id, success: true, errors: [], ...(created === undefined ? {} : { created }) });
      } catch (error) {
        if (!(error instanceof SalesforceApiError)) throw error;
        failed = true;
        results.push({
          ...(idOf ? { id: idOf(item) } : {}),
          success: false,
          errors: [
            { statusCode: error.errorCode, message: error.message, fields: [...(error.fields ?? [])] },
          ],
        });
      }
    }
    if (failed && snapshot) {
      store.restore(snapshot);
      // Records that had succeeded before the failure are rolled back too.
      return results.map((result) => (result.success === true ? rolledBack(result.id as string) : result));
    }
    return results;
  }

  function sobjectNameForId(id: string): SObjectName {
    for (const def of store.schema.values()) {
      if (id.startsWith(def.keyPrefix)) return def.name;
    }
    throw notFound();
  }

  return {
    handler,
    json,
    get apiUsage() {
      return apiUsage;
    },
  };
}

function parseBody(req: TwinRequest): unknown {
  const text = req.rawBody.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new SalesforceApiError(400, 'JSON_PARSER_ERROR', 'Unexpected character in JSON body');
  }
}

function methodNotAllowed(req: TwinRequest): SalesforceApiError {
  return new SalesforceApiError(
    405,
    'METHOD_NOT_ALLOWED',
    `HTTP Method '${req.method}' not allowed. Allowed are GET,PATCH,POST,DELETE`,
  );
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
