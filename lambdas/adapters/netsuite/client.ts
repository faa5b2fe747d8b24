import { createHmac } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import { networkError, PermanentError, parseRetryAfter, TransientError } from '../../shared/errors';
import type { ConcurrencyLeases, ReleaseLease } from '../aws/concurrency-leases';

/**
 * NetSuite REST record API client: token-based authentication (OAuth 1.0a, HMAC-SHA256, realm =
 * account id) signed with the `oauth-1.0a` package, upserts by external id, and every failure
 * classified as transient or permanent.
 * https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1540391670.html
 */

export interface NetSuiteCredentials {
  readonly accountId: string;
  readonly consumerKey: string;
  readonly consumerSecret: string;
  readonly tokenId: string;
  readonly tokenSecret: string;
}

export interface NetSuiteClientOptions {
  /** e.g. `https://1234567.suitetalk.api.netsuite.com` (no trailing slash). */
  readonly baseUrl: string;
  readonly credentials: () => Promise<NetSuiteCredentials>;
  /** Per request. @default 10000 */
  readonly timeoutMs?: number;
  readonly fetchImpl?: typeof fetch;
  /**
   * The account's concurrency leases, shared by every function that calls it: each request holds one
   * while it is in flight, so together they never exceed the account's limit, whichever flow has the
   * backlog. @default none (the caller bounds its own concurrency)
   */
  readonly leases?: ConcurrencyLeases;
  /** Longest a request waits for a lease before failing with `LeaseUnavailable`. @default 20000 */
  readonly leaseWaitMs?: number;
  /**
   * Inside `sharingLease`, how many requests in a row one lease serves before it is given back: each
   * lease taken and given back is two writes to the leases table, so a batch's records share one.
   * @default 5
   */
  readonly requestsPerLease?: number;
}

/** A lease kept between the requests of one `sharingLease` scope. */
interface HeldLease {
  readonly release: ReleaseLease;
  /** The earliest the lease can expire (it was taken no sooner than this minus its length). */
  readonly expiresAt: number;
  uses: number;
  busy: boolean;
}

export type RecordType = 'customer' | 'salesOrder' | 'invoice' | 'customerPayment' | 'creditMemo';

export interface NetSuiteRecord {
  readonly id: string;
  readonly externalId?: string;
  readonly [field: string]: unknown;
}

interface NetSuiteErrorBody {
  title?: string;
  'o:errorDetails'?: { detail?: string; 'o:errorCode'?: string }[];
}

/** NetSuite signals governance limits with these codes, sometimes on a 400 rather than a 429. */
const THROTTLE_CODES = new Set([
  'CONCURRENCY_LIMIT_EXCEEDED',
  'REQUEST_LIMIT_EXCEEDED',
  'SSS_REQUEST_LIMIT_EXCEEDED',
]);

const RECORD_PATH = '/services/rest/record/v1';
const QUERY_PATH = '/services/rest/query/v1';

/**
 * Sublists whose lines a write replaces instead of appending to. Without `replace`, NetSuite adds the
 * request's lines to a non-keyed sublist, so a repeated upsert would duplicate every line; with it,
 * keyed lines are updated, unmatched old lines removed and new ones added.
 * https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545297048.html
 */
export interface WriteOptions {
  readonly replace?: readonly string[];
}

const recordPath = (type: RecordType, externalId: string, query?: URLSearchParams): string => {
  const path = `${RECORD_PATH}/${type}/eid:${encodeURIComponent(externalId)}`;
  const search = query?.toString();
  return search ? `${path}?${search}` : path;
};

const replaceQuery = (options: WriteOptions | undefined): URLSearchParams | undefined =>
  options?.replace && options.replace.length > 0
    ? new URLSearchParams({ replace: options.replace.join(',') })
    : undefined;

export class NetSuiteClient {
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private sharing = 0;
  private held: HeldLease | undefined;

  constructor(private readonly options: NetSuiteClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetchImpl ?? fetch;
  }

  /**
   * Runs `work` with one account lease serving its requests one after another (up to
   * `requestsPerLease`, then another is taken), given back when `work` ends: a queue consumer wraps a
   * batch in it, whose records run one at a time. A lease that was the account's last free one is
   * not kept (under a backlog, holding it between records would leave the account idle while others
   * wait). A request made while the held lease is in use (two at once) takes a lease of its own, so
   * the account's limit holds whatever `work` does.
   */
  async sharingLease<T>(work: () => Promise<T>): Promise<T> {
    this.sharing += 1;
    try {
      return await work();
    } finally {
      this.sharing -= 1;
      if (this.sharing === 0) await this.dropHeld();
    }
  }

  private async dropHeld(): Promise<void> {
    const held = this.held;
    this.held = undefined;
    // A lease not given back expires on its own.
    await held?.release().catch(() => undefined);
  }

  /** A lease for one request: the held one when it is free, fresh and not used up, else a new one. */
  private async leaseForRequest(): Promise<() => Promise<void>> {
    const leases = this.options.leases;
    if (!leases) return async () => undefined;
    const held = this.held;
    if (this.sharing > 0 && held && !held.busy) {
      // Only while it outlasts this request's timeout with room to spare: an expired lease is anyone's.
      if (held.expiresAt - Date.now() > this.timeoutMs + 5_000) {
        held.busy = true;
        held.uses += 1;
        return this.doneWith(held);
      }
      await this.dropHeld();
    }
    // A lease lasts past the request's timeout if never given back (an environment killed mid-call).
    const leaseMs = this.timeoutMs + 30_000;
    const before = Date.now();
    const release = await leases.acquire(before + (this.options.leaseWaitMs ?? 20_000), leaseMs);
    // The last free lease is not kept: others may be waiting for it (a backlog keeps the account full).
    if (this.sharing > 0 && !this.held && !release.crowded) {
      const mine: HeldLease = { release, expiresAt: before + leaseMs, uses: 1, busy: true };
      this.held = mine;
      return this.doneWith(mine);
    }
    // NetSuite frees the slot once it has answered; a lease not given back expires on its own.
    return () => release().catch(() => undefined);
  }

  private doneWith(held: HeldLease): () => Promise<void> {
    return async () => {
      held.busy = false;
      if (held.uses >= (this.options.requestsPerLease ?? 5) && this.held === held) await this.dropHeld();
    };
  }

  /** Creates or replaces the record whose external id is given; returns its internal id. */
  async upsert(
    type: RecordType,
    externalId: string,
    body: Record<string, unknown>,
    options?: WriteOptions,
  ): Promise<string> {
    const response = await this.request('PUT', recordPath(type, externalId, replaceQuery(options)), body);
    const id = internalIdFrom(response.headers.get('location'));
    if (id) return id;
    // Some accounts omit Location on an update: read the record back to learn its id.
    const record = await this.getByExternalId(type, externalId);
    if (!record)
      throw new TransientError(`${type} ${externalId} not readable after upsert`, {
        code: 'UpsertUnconfirmed',
      });
    return record.id;
  }

  /** `expandSubResources` returns sublists (a transaction's item lines) inline instead of as links. */
  async getByExternalId(
    type: RecordType,
    externalId: string,
    options?: { readonly expandSubResources?: boolean },
  ): Promise<NetSuiteRecord | null> {
    const query = options?.expandSubResources
      ? new URLSearchParams({ expandSubResources: 'true' })
      : undefined;
    try {
      const response = await this.request('GET', recordPath(type, externalId, query));
      return (await response.json()) as NetSuiteRecord;
    } catch (error) {
      if (error instanceof PermanentError && error.status === 404) return null;
      throw error;
    }
  }

  /** A record by internal id; null when it does not exist. */
  async getById(
    type: RecordType,
    id: string,
    options?: { readonly expandSubResources?: boolean },
  ): Promise<NetSuiteRecord | null> {
    const query = options?.expandSubResources ? `?expandSubResources=true` : '';
    try {
      const response = await this.request('GET', `${RECORD_PATH}/${type}/${encodeURIComponent(id)}${query}`);
      return (await response.json()) as NetSuiteRecord;
    } catch (error) {
      if (error instanceof PermanentError && error.status === 404) return null;
      throw error;
    }
  }

  /**
   * One page of a record type's collection: internal ids only (the REST record API lists ids; a
   * record's fields take a GET each), filtered by `q` (`tranDate ON_OR_AFTER "2026-12-01"`), at most
   * 1000 per page. https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545222128.html
   */
  async list(
    type: RecordType,
    page: { readonly q?: string; readonly limit: number; readonly offset: number },
  ): Promise<{ ids: string[]; hasMore: boolean; totalResults: number }> {
    const query = new URLSearchParams({ limit: String(page.limit), offset: String(page.offset) });
    if (page.q) query.set('q', page.q);
    const response = await this.request('GET', `${RECORD_PATH}/${type}?${query.toString()}`);
    const body = (await response.json()) as {
      items?: { id?: unknown }[];
      hasMore?: unknown;
      totalResults?: unknown;
    };
    return {
      ids: (body.items ?? []).map((item) => String(item.id)),
      hasMore: body.hasMore === true,
      totalResults: Number(body.totalResults ?? 0),
    };
  }

  /**
   * One page of a SuiteQL query's rows (`POST /services/rest/query/v1/suiteql`, `Prefer: transient`),
   * at most 1000 a page. Column names come back in lower case (`externalid`), values as strings.
   * https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157909186990.html
   */
  async suiteql(
    q: string,
    page: { readonly limit: number; readonly offset: number },
  ): Promise<{ rows: Record<string, unknown>[]; hasMore: boolean }> {
    const query = new URLSearchParams({ limit: String(page.limit), offset: String(page.offset) });
    const response = await this.request(
      'POST',
      `${QUERY_PATH}/suiteql?${query.toString()}`,
      { q },
      {
        prefer: 'transient',
      },
    );
    const body = (await response.json()) as { items?: Record<string, unknown>[]; hasMore?: unknown };
    return {
      rows: (body.items ?? []).map(({ links: _links, ...row }) => row),
      hasMore: body.hasMore === true,
    };
  }

  /**
   * Updates the fields the body names on the record with this external id (NetSuite accepts `eid:` in
   * place of the internal id). `false` when no such record exists.
   */
  async patchByExternalId(
    type: RecordType,
    externalId: string,
    body: Record<string, unknown>,
    options?: WriteOptions,
  ): Promise<boolean> {
    try {
      await this.request('PATCH', recordPath(type, externalId, replaceQuery(options)), body);
      return true;
    } catch (error) {
      if (error instanceof PermanentError && error.status === 404) return false;
      throw error;
    }
  }

  /**
   * Voids a transaction, NetSuite's finance-safe undo of a posted one: it stays, with status Voided and
   * its lines and applications at zero (a direct void; with "Void Transactions Using Reversing Journals"
   * on, NetSuite posts a reversing journal instead). Called as a record action on the internal id. REST
   * web services list no `void` action of their own: an account exposes SuiteScript's
   * `N/transaction.void` at this path, which is what the local twin serves.
   * https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156631158782.html
   * https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_4413162576.html
   */
  async voidTransaction(type: RecordType, internalId: string): Promise<void> {
    await this.request('POST', `${RECORD_PATH}/${type}/${encodeURIComponent(internalId)}/@void`);
  }

  private async request(
    method: 'GET' | 'PUT' | 'POST' | 'PATCH',
    path: string,
    body?: unknown,
    headers?: Readonly<Record<string, string>>,
  ): Promise<Response> {
    const credentials = await this.options.credentials();
    const url = `${this.options.baseUrl}${path}`;
    const oauth = new OAuth({
      consumer: { key: credentials.consumerKey, secret: credentials.consumerSecret },
      signature_method: 'HMAC-SHA256',
      realm: credentials.accountId,
      hash_function: (base, key) => createHmac('sha256', key).update(base).digest('base64'),
    });
    const authorization = oauth.toHeader(
      oauth.authorize({ url, method }, { key: credentials.tokenId, secret: credentials.tokenSecret }),
    ).Authorization;

    const done = await this.leaseForRequest();
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers: {
          authorization,
          accept: 'application/json',
          ...headers,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw networkError(`NetSuite ${method} ${path} did not answer`, error);
    } finally {
      await done();
    }
    if (response.ok) return response;
    throw await classifyFailure(response, method, path);
  }
}

const internalIdFrom = (location: string | null): string | undefined => {
  const match = location?.match(/\/([^/]+)\/?$/);
  return match?.[1] && !match[1].startsWith('eid:') ? decodeURIComponent(match[1]) : undefined;
};

const classifyFailure = async (response: Response, method: string, path: string): Promise<Error> => {
  let detail = '';
  let code = `HTTP${response.status}`;
  try {
    const body = (await response.json()) as NetSuiteErrorBody;
    const first = body['o:errorDetails']?.[0];
    code = first?.['o:errorCode'] ?? code;
    detail = first?.detail ?? body.title ?? '';
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  const message = `NetSuite ${method} ${path} answered ${response.status}${detail ? `: ${detail}` : ''}`;
  const status = response.status;
  if (status === 429 || status >= 500 || THROTTLE_CODES.has(code)) {
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    return new TransientError(message, {
      code,
      status,
      ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
    });
  }
  return new PermanentError(message, { code, status });
};
