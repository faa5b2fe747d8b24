import {
  type DeliveryAttempt,
  type FaultConfig,
  FaultInjector,
  faultsFromEnv,
  IdGenerator,
  startTwinServer,
  type TwinRequest,
  type TwinResponse,
  WebhookSender,
} from '../common';
import { MultipleMatchesError, notFound, SalesforceApiError } from './errors';
import {
  buildOutboundMessage,
  defaultOutboundFields,
  isOutboundMessageAck,
  type OutboundNotification,
} from './outbound-message';
import { RecordIdMinter, toId18 } from './record-ids';
import { CLOSED_WON_STAGE, type CustomFields, findField, type SObjectDef, type SObjectName } from './schema';
import { QueryEngine } from './soql';
import { isPlainObject, OrgStore, type RecordChange, type SRecord } from './store';

export const SALESFORCE_DEFAULT_PORT = 4030;
export const SALESFORCE_DEFAULT_ORG_ID = '00D000000000001EAA';
export const SALESFORCE_DEFAULT_ACCESS_TOKEN = 'revbridge-local-sf-token';
/** The version the twin advertises as latest; older versions down to 31.0 are served too. */
export const SALESFORCE_API_VERSION = '62.0';
const MIN_API_VERSION = 31;
/** Developer Edition's daily allowance; production orgs get more. */
const DEFAULT_DAILY_API_LIMIT = 15_000;
/** Records per query batch before `nextRecordsUrl` paging starts (the REST default). */
const QUERY_BATCH_SIZE = 2_000;
/** sObject Collections take at most 200 records per request. */
const COLLECTION_LIMIT = 200;
/**
 * Salesforce retries an unacknowledged outbound message with growing intervals for up to 24 hours; the
 * local default keeps the shape (growing waits, many tries) but finishes in about half a minute.
 */
const DEFAULT_OUTBOUND_RETRY_MS = [100, 200, 400, 800, 1600, 3200, 6400, 12_800];

export interface OutboundMessageOptions {
  /** The listener's endpoint (the webhook API's `/webhooks/salesforce` locally). */
  url: string;
  /** Fields of the Opportunity the message carries. @default every field, Id first then alphabetical */
  fields?: readonly string[];
  /** Send the session id so the listener can call back with it. @default true */
  sendSessionId?: boolean;
  /** Waits between attempts. @default a short local schedule (see `DEFAULT_OUTBOUND_RETRY_MS`) */
  retryDelaysMs?: number[];
  /** Per attempt. @default 10_000 */
  timeoutMs?: number;
}

export interface SalesforceTwinOptions {
  /** @default 4030; 0 picks a free port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Seeds ids and, unless `faults.seed` is set, the fault sequence. @default 1 */
  seed?: number;
  /** @default faultsFromEnv('salesforce'), i.e. `TWIN_FAULTS_SALESFORCE` */
  faults?: FaultConfig;
  /** 18-character org id. @default '00D000000000001EAA' */
  organizationId?: string;
  /** The only bearer token the REST API accepts. @default 'revbridge-local-sf-token' */
  accessToken?: string;
  /** Sends an outbound message when an opportunity becomes Closed Won; none when absent. */
  outboundMessage?: OutboundMessageOptions;
  /** Custom fields (`Name__c`) per object; a real org rejects fields it does not have, so does the twin. */
  customFields?: CustomFields;
  /** Currencies of the (multi-currency) org; the first is the corporate currency. @default USD, EUR, GBP, CAD, AUD, JPY */
  currencies?: readonly string[];
  /** Daily API request allowance reported in `Sforce-Limit-Info`. @default 15000 */
  dailyApiLimit?: number;
}

export interface QueuedOutboundMessage {
  notificationId: string;
  opportunityId: string;
  /** The exact body sent (BOM included). */
  body: string;
  queuedAt: string;
}

export interface SalesforceTwin {
  url: string;
  port: number;
  /** What a `jsforce.Connection` takes as `instanceUrl`. */
  instanceUrl: string;
  organizationId: string;
  accessToken: string;
  apiVersion: string;
  faults: FaultInjector;
  /** API requests counted so far (the `N` in `Sforce-Limit-Info: api-usage=N/15000`). */
  readonly apiUsage: number;
  /** A copy of a record as the REST API would return it, or `undefined`. */
  getRecord(type: SObjectName, id: string): SRecord | undefined;
  records(type: SObjectName): SRecord[];
  /** Creates a record through the same validation as the REST API (no API usage counted). */
  createRecord(type: SObjectName, values: Record<string, unknown>): string;
  updateRecord(type: SObjectName, id: string, values: Record<string, unknown>): void;
  /** What a sales rep does in the UI: moves the opportunity to Closed Won (or Closed Lost). */
  closeOpportunity(id: string, outcome?: 'won' | 'lost'): void;
  /** Sets or replaces the outbound message definition (the listener URL may only be known later). */
  configureOutboundMessage(options: OutboundMessageOptions | undefined): void;
  /** Messages queued so far, in order. */
  readonly outboundMessages: readonly QueuedOutboundMessage[];
  /** Every delivery attempt of outbound messages. */
  readonly deliveries: readonly DeliveryAttempt[];
  /** Resolves when no outbound message is waiting or being retried. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Route {
  version: string;
  segments: string[];
}

/**
 * A Salesforce org in one process: the REST API subset jsforce uses for quote-to-cash (sObject CRUD,
 * upsert by external id, sObject Collections, describe, SOQL) with Salesforce's errors and limit header,
 * and Outbound Messages on Closed Won, retried until the listener acknowledges them.
 */
export async function startSalesforceTwin(options: SalesforceTwinOptions = {}): Promise<SalesforceTwin> {
  const seed = options.seed ?? 1;
  const faultConfig = { ...(options.faults ?? faultsFromEnv('salesforce')) };
  if (faultConfig.seed === undefined) faultConfig.seed = seed;
  const faults = new FaultInjector(faultConfig);
  const organizationId = checkOrgId(options.organizationId ?? SALESFORCE_DEFAULT_ORG_ID);
  const accessToken = options.accessToken ?? SALESFORCE_DEFAULT_ACCESS_TOKEN;
  const dailyApiLimit = options.dailyApiLimit ?? DEFAULT_DAILY_API_LIMIT;
  const store = new OrgStore({
    currencies: options.currencies ?? ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'JPY'],
    ...(options.customFields === undefined ? {} : { customFields: options.customFields }),
  });
  const ids = new IdGenerator(seed);
  const notificationIds = new RecordIdMinter('37');
  const actionId = new RecordIdMinter('37').next('04k');
  const sessionId = `${organizationId.slice(0, 15)}!AQ${ids.next('', 94, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._')}`;
  let outbound = options.outboundMessage;
  let sender = outbound ? newSender(outbound) : undefined;
  const retiredSenders: WebhookSender[] = [];
  const queued: QueuedOutboundMessage[] = [];
  let apiUsage = 0;
  let instanceUrl = '';
  const queryCursors = new Map<string, Array<Record<string, unknown>>>();
  let cursorCount = 0;
  const engine = new QueryEngine(store, () => SALESFORCE_API_VERSION);

  function newSender(config: OutboundMessageOptions): WebhookSender {
    return new WebhookSender({
      faults,
      retryDelaysMs: config.retryDelaysMs ?? DEFAULT_OUTBOUND_RETRY_MS,
      ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    });
  }

  store.onChange((change) => onRecordChange(change));

  function onRecordChange(change: RecordChange): void {
    if (change.type !== 'Opportunity' || !outbound || !sender) return;
    // The workflow rule's criteria: created as, or edited to subsequently become, Closed Won.
    if (change.after.StageName !== CLOSED_WON_STAGE || change.before?.StageName === CLOSED_WON_STAGE) return;
    const sobject = store.sobject('Opportunity');
    const fields = outbound.fields
      ? ['Id', ...outbound.fields.filter((f) => f !== 'Id').map((f) => findField(sobject, f)?.name ?? f)]
      : defaultOutboundFields(sobject);
    const notification: OutboundNotification = {
      id: notificationIds.next('04l'),
      sobject,
      record: change.after,
      fields,
    };
    const body = buildOutboundMessage({
      organizationId,
      actionId,
      sessionId: outbound.sendSessionId === false ? undefined : sessionId,
      enterpriseUrl: `${instanceUrl}/services/Soap/c/${SALESFORCE_API_VERSION}/${organizationId.slice(0, 15)}`,
      partnerUrl: `${instanceUrl}/services/Soap/u/${SALESFORCE_API_VERSION}/${organizationId.slice(0, 15)}`,
      notifications: [notification],
    });
    queued.push({
      notificationId: notification.id,
      opportunityId: String(change.after.Id),
      body,
      queuedAt: new Date().toISOString(),
    });
    sender.send({
      url: outbound.url,
      id: notification.id,
      body,
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""' },
      accept: isOutboundMessageAck,
    });
  }

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

  function parseBody(req: TwinRequest): unknown {
    const text = req.rawBody.toString('utf8');
    if (text.trim() === '') return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new SalesforceApiError(400, 'JSON_PARSER_ERROR', 'Unexpected character in JSON body');
    }
  }

  function recordUrl(version: string, type: string, id: string): string {
    return `/services/data/v${version}/sobjects/${type}/${id}`;
  }

  /** A record as `GET /sobjects/<type>/<id>` returns it: attributes, then the fields asked for (or all). */
  function present(
    def: SObjectDef,
    record: SRecord,
    version: string,
    fields?: string[],
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {
      attributes: { type: def.name, url: recordUrl(version, def.name, String(record.Id)) },
    };
    if (fields) {
      const wanted = ['Id', ...fields];
      for (const name of wanted) {
        const field = findField(def, name);
        if (!field) {
          throw new SalesforceApiError(
            400,
            'INVALID_FIELD',
            `No such column '${name}' on sobject of type ${def.name}`,
          );
        }
        out[field.name] = record[field.name] ?? null;
      }
      return out;
    }
    for (const field of def.fields) out[field.name] = record[field.name] ?? null;
    return out;
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

  function rolledBack(id: string | undefined): Record<string, unknown> {
    return {
      ...(id === undefined ? {} : { id }),
      success: false,
      errors: [
        {
          statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
          message:
            'Record rolled back because not all records were valid and the request was using AllOrNone header',
          fields: [],
        },
      ],
    };
  }

  function sobjectNameForId(id: string): SObjectName {
    for (const def of store.schema.values()) {
      if (id.startsWith(def.keyPrefix)) return def.name;
    }
    throw notFound();
  }

  function methodNotAllowed(req: TwinRequest): SalesforceApiError {
    return new SalesforceApiError(
      405,
      'METHOD_NOT_ALLOWED',
      `HTTP Method '${req.method}' not allowed. Allowed are GET,PATCH,POST,DELETE`,
    );
  }

  const server = await startTwinServer({
    name: 'salesforce',
    port: options.port ?? SALESFORCE_DEFAULT_PORT,
    ...(options.host === undefined ? {} : { host: options.host }),
    faults,
    handler,
    vendorError: (status) => {
      if (status === 429) {
        // Salesforce has no 429: too many concurrent long requests is a 403 with this code.
        return json(403, [
          { message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
        ]);
      }
      if (status === 503) {
        return json(503, [{ message: 'Server temporarily unavailable', errorCode: 'SERVER_UNAVAILABLE' }]);
      }
      if (status < 500) {
        // An injected refusal: what a validation rule of the org answers.
        return json(status, [
          {
            message: 'Refused by a validation rule of this org.',
            errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
            fields: [],
          },
        ]);
      }
      return json(status, [
        {
          message: `An unexpected error occurred. Please include this ErrorId if you contact support: ${ids.next('', 9, '0123456789')}-${ids.next('', 5, '0123456789')} (${ids.next('-', 9, '0123456789')})`,
          errorCode: 'UNKNOWN_EXCEPTION',
        },
      ]);
    },
  });
  instanceUrl = server.url;

  return {
    url: server.url,
    port: server.port,
    instanceUrl: server.url,
    organizationId,
    accessToken,
    apiVersion: SALESFORCE_API_VERSION,
    faults,
    get apiUsage() {
      return apiUsage;
    },
    getRecord: (type, id) => store.get(type, id),
    records: (type) => store.all(type),
    createRecord: (type, values) => store.create(type, values),
    updateRecord: (type, id, values) => store.update(type, id, values),
    closeOpportunity: (id, outcome = 'won') =>
      store.update('Opportunity', id, { StageName: outcome === 'won' ? CLOSED_WON_STAGE : 'Closed Lost' }),
    configureOutboundMessage(config) {
      outbound = config;
      // Messages already queued keep retrying against the old definition, as in a real org.
      if (sender) retiredSenders.push(sender);
      sender = config ? newSender(config) : undefined;
    },
    get outboundMessages() {
      return queued;
    },
    get deliveries() {
      return [...retiredSenders, ...(sender ? [sender] : [])].flatMap((s) => [...s.log]);
    },
    idle: async () => {
      await Promise.all([...retiredSenders, ...(sender ? [sender] : [])].map((s) => s.idle()));
    },
    close: async () => {
      for (const s of [...retiredSenders, ...(sender ? [sender] : [])]) s.close();
      await server.close();
    },
  };
}

/**
 * The org id is used verbatim (a listener compares it byte for byte); only its shape is checked, since the
 * configured default's last three characters are not the checksum a real org id would carry.
 */
function checkOrgId(value: string): string {
  if (!/^00D[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?$/.test(value)) {
    throw new Error(`organizationId must be a 15- or 18-character org id starting with 00D, got ${value}`);
  }
  return value;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function sobjectSummary(def: SObjectDef, version: string) {
  const base = `/services/data/v${version}/sobjects/${def.name}`;
  return {
    name: def.name,
    label: def.label,
    labelPlural: def.labelPlural,
    keyPrefix: def.keyPrefix,
    custom: false,
    createable: true,
    updateable: true,
    deletable: true,
    queryable: true,
    retrieveable: true,
    urls: { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` },
  };
}

/** A minimal describe: what jsforce and field-mapping code read (names, types, permissions, references). */
function describe(def: SObjectDef, version: string) {
  return {
    ...sobjectSummary(def, version),
    fields: def.fields.map((f) => ({
      name: f.name,
      label: f.label,
      type: f.type,
      custom: f.custom === true,
      nillable: f.nillable,
      createable: f.createable,
      updateable: f.updateable,
      externalId: f.externalId === true,
      idLookup: f.name === 'Id' || f.externalId === true,
      calculated:
        !f.createable &&
        !f.updateable &&
        ![
          'Id',
          'CreatedDate',
          'CreatedById',
          'LastModifiedDate',
          'LastModifiedById',
          'SystemModstamp',
          'IsDeleted',
        ].includes(f.name),
      defaultedOnCreate: !f.nillable && !f.required,
      referenceTo: f.referenceTo ? [f.referenceTo] : [],
      relationshipName: f.relationshipName ?? null,
      picklistValues: (f.picklistValues ?? []).map((value) => ({
        value,
        label: value,
        active: true,
        defaultValue: false,
      })),
    })),
    childRelationships: def.childRelationships.map((c) => ({
      childSObject: c.childSObject,
      field: c.field,
      relationshipName: c.relationshipName,
      cascadeDelete: c.childSObject === 'OpportunityLineItem',
    })),
  };
}

function versions() {
  const list = [];
  for (let v = MIN_API_VERSION; v <= Number.parseInt(SALESFORCE_API_VERSION, 10); v++) {
    list.push({ label: `v${v}.0`, url: `/services/data/v${v}.0`, version: `${v}.0` });
  }
  return list;
}

function resources(version: string) {
  const base = `/services/data/v${version}`;
  return {
    sobjects: `${base}/sobjects`,
    query: `${base}/query`,
    queryAll: `${base}/queryAll`,
    composite: `${base}/composite`,
    limits: `${base}/limits`,
  };
}
