import { createHmac } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import { type NetSuiteTwin, startNetSuiteTwin } from '../../../local/twins/netsuite';

const ACCOUNT = 'TSTDRV1234567';
const CREDENTIALS = {
  consumerKey: 'revbridge-local-consumer-key',
  consumerSecret: 'revbridge-local-consumer-secret',
  tokenId: 'revbridge-local-token-id',
  tokenSecret: 'revbridge-local-token-secret',
};

/** Signs like a real TBA client: oauth-1.0a with HMAC-SHA256, realm = account id. */
function client(baseUrl: string, secrets = CREDENTIALS) {
  const oauth = new OAuth({
    consumer: { key: secrets.consumerKey, secret: secrets.consumerSecret },
    signature_method: 'HMAC-SHA256',
    hash_function: (base, key) => createHmac('sha256', key).update(base).digest('base64'),
    realm: ACCOUNT,
  });
  const token = { key: secrets.tokenId, secret: secrets.tokenSecret };
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const url = `${baseUrl}/services/rest/record/v1${path}`;
    const auth = oauth.toHeader(oauth.authorize({ url, method }, token));
    const res = await fetch(url, {
      method,
      headers: { ...auth, 'Content-Type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      location: res.headers.get('location'),
      contentType: res.headers.get('content-type'),
      body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
    };
  };
}

const errorOf = (body: unknown) =>
  (body as { 'o:errorDetails': Array<Record<string, string>> })['o:errorDetails'][0] ?? {};

const acme = { companyName: 'Acme Corp', subsidiary: { id: '1' }, email: 'ap@acme.test' };
const invoiceBody = (entity: unknown, extra: Record<string, unknown> = {}) => ({
  entity,
  tranDate: '2026-01-15',
  item: {
    items: [
      { item: { id: '100' }, quantity: 2, rate: 50 },
      { item: { id: '101' }, amount: 12.5, tax1Amt: 2.5 },
    ],
  },
  ...extra,
});

describe('NetSuite twin', () => {
  let twin: NetSuiteTwin;
  let ns: ReturnType<typeof client>;

  beforeEach(async () => {
    twin = await startNetSuiteTwin({ port: 0, seed: 7, faults: {}, processingMs: { min: 0, max: 0 } });
    ns = client(twin.url);
  });
  afterEach(() => twin.close());

  it('creates with POST: 204, no body, and the new record in the Location header', async () => {
    const res = await ns('POST', '/customer', acme);
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    expect(res.location).toMatch(new RegExp(`^${twin.url}/services/rest/record/v1/customer/\\d+$`));
    const id = res.location?.split('/').pop() ?? '';
    const got = await ns('GET', `/customer/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      id,
      companyName: 'Acme Corp',
      links: [{ rel: 'self', href: res.location }],
      subsidiary: { id: '1', refName: 'Parent Company' },
      currency: { id: '1', refName: 'USD' },
    });
  });

  it('upserts by external id: the second PUT replaces the first, leaving one record', async () => {
    const first = await ns('PUT', '/customer/eid:sf-001A', acme);
    expect(first.status).toBe(204);
    const second = await ns('PUT', '/customer/eid:sf-001A', {
      companyName: 'Acme Corporation',
      subsidiary: { id: '1' },
    });
    expect(second.status).toBe(204);
    expect(second.location).toBe(first.location);
    expect(twin.records('customer')).toHaveLength(1);
    expect(twin.writeCount('customer', 'sf-001A')).toBe(2);
    // Replaced, not merged: a field the second body left out is gone.
    expect(twin.getByExternalId('customer', 'sf-001A')).toMatchObject({ companyName: 'Acme Corporation' });
    expect(twin.getByExternalId('customer', 'sf-001A')).not.toHaveProperty('email');

    const byEid = await ns('GET', '/customer/eid:sf-001A');
    expect(byEid.status).toBe(200);
    expect(byEid.body).toMatchObject({ externalId: 'sf-001A', companyName: 'Acme Corporation' });
    expect(byEid.body?.id).toBe(first.location?.split('/').pop());
  });

  it('computes invoice totals in decimal major units and renders references and dates like NetSuite', async () => {
    await ns('PUT', '/customer/eid:cus_1', acme);
    const put = await ns(
      'PUT',
      '/invoice/eid:in_1',
      invoiceBody({ externalId: 'cus_1' }, { dueDate: '2026-02-14' }),
    );
    expect(put.status).toBe(204);
    const collapsed = await ns('GET', '/invoice/eid:in_1');
    expect(collapsed.contentType).toContain('application/vnd.oracle.resource+json');
    expect(collapsed.body).toMatchObject({
      externalId: 'in_1',
      tranDate: '2026-01-15',
      dueDate: '2026-02-14',
      entity: { refName: 'Acme Corp' },
      subtotal: 112.5,
      taxTotal: 2.5,
      total: 115,
      amountRemaining: 115,
      status: { refName: 'Open' },
    });
    expect(collapsed.body?.tranId).toMatch(/^INV\d+$/);
    // Sublists come back as links unless expandSubResources=true.
    expect(collapsed.body?.item).toEqual({
      links: [{ rel: 'self', href: expect.stringMatching(/\/item$/) }],
    });
    const expanded = await ns('GET', '/invoice/eid:in_1?expandSubResources=true');
    expect((expanded.body?.item as { items: unknown[] } | undefined)?.items).toEqual([
      expect.objectContaining({
        line: 1,
        item: expect.objectContaining({ id: '100', refName: 'SUB-PLATFORM' }),
        amount: 100,
      }),
      expect.objectContaining({ line: 2, quantity: 1, rate: 12.5, amount: 12.5 }),
    ]);
  });

  it('answers validation errors in the NetSuite REST error body', async () => {
    const noLines = await ns('POST', '/customer', { companyName: 'No Subsidiary' });
    expect(noLines.status).toBe(400);
    expect(noLines.contentType).toContain('type=error');
    expect(noLines.body).toEqual({
      type: 'https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1',
      title: 'Bad Request',
      status: 400,
      'o:errorDetails': [
        {
          detail: expect.stringContaining('Please enter value(s) for: Primary Subsidiary'),
          'o:errorCode': 'USER_ERROR',
          'o:errorPath': 'subsidiary',
        },
      ],
    });

    const unknownEntity = await ns('POST', '/invoice', invoiceBody({ id: '999' }));
    expect(unknownEntity.status).toBe(400);
    expect(errorOf(unknownEntity.body)).toMatchObject({
      'o:errorCode': 'INVALID_CONTENT',
      'o:errorPath': 'entity',
    });

    await ns('PUT', '/customer/eid:cus_2', acme);
    const emptyLines = await ns('POST', '/invoice', { entity: { externalId: 'cus_2' }, item: { items: [] } });
    expect(errorOf(emptyLines.body)).toMatchObject({
      'o:errorCode': 'USER_ERROR',
      detail: 'You must enter at least one line item for this transaction.',
    });
    const badItem = await ns('POST', '/invoice', {
      entity: { externalId: 'cus_2' },
      item: { items: [{ item: { id: '9999' }, amount: 1 }] },
    });
    expect(errorOf(badItem.body)).toMatchObject({
      'o:errorCode': 'INVALID_CONTENT',
      'o:errorPath': 'item.items[0].item',
    });
    const badDate = await ns(
      'POST',
      '/invoice',
      invoiceBody({ externalId: 'cus_2' }, { tranDate: '15/01/2026' }),
    );
    expect(errorOf(badDate.body)).toMatchObject({
      'o:errorCode': 'INVALID_VALUE',
      'o:errorPath': 'tranDate',
    });

    const missing = await ns('GET', '/invoice/eid:nope');
    expect(missing.status).toBe(404);
    expect(errorOf(missing.body)).toMatchObject({ 'o:errorCode': 'NONEXISTENT_ID' });
  });

  it('applies a customer payment only to an invoice that exists, and marks it paid', async () => {
    await ns('PUT', '/customer/eid:cus_3', acme);
    const early = await ns('PUT', '/customerPayment/eid:py_1', {
      customer: { externalId: 'cus_3' },
      payment: 115,
      apply: { items: [{ doc: { externalId: 'in_3' }, apply: true, amount: 115 }] },
    });
    expect(early.status).toBe(400);
    expect(errorOf(early.body)).toMatchObject({
      'o:errorCode': 'INVALID_CONTENT',
      'o:errorPath': 'apply.items[0].doc',
    });

    await ns('PUT', '/invoice/eid:in_3', invoiceBody({ externalId: 'cus_3' }));
    const tooMuch = await ns('PUT', '/customerPayment/eid:py_1', {
      customer: { externalId: 'cus_3' },
      apply: { items: [{ doc: { externalId: 'in_3' }, amount: 200 }] },
    });
    expect(errorOf(tooMuch.body)).toMatchObject({ 'o:errorCode': 'INVALID_VALUE' });
    const paid = await ns('PUT', '/customerPayment/eid:py_1', {
      customer: { externalId: 'cus_3' },
      apply: { items: [{ doc: { externalId: 'in_3' }, amount: 115 }] },
    });
    expect(paid.status).toBe(204);
    // Replaying the same upsert does not pay twice.
    expect(
      (
        await ns('PUT', '/customerPayment/eid:py_1', {
          customer: { externalId: 'cus_3' },
          apply: { items: [{ doc: { externalId: 'in_3' }, amount: 115 }] },
        })
      ).status,
    ).toBe(204);
    expect(twin.getByExternalId('invoice', 'in_3')).toMatchObject({
      amountPaid: 115,
      amountRemaining: 0,
      status: { refName: 'Paid In Full' },
    });
    expect(twin.getByExternalId('customerPayment', 'py_1')).toMatchObject({
      payment: 115,
      applied: 115,
      unapplied: 0,
    });
  });

  it('refuses to delete a posted invoice, and a customer with transactions, like NetSuite does', async () => {
    await ns('PUT', '/customer/eid:cus_4', acme);
    await ns('PUT', '/invoice/eid:in_4', invoiceBody({ externalId: 'cus_4' }));
    const del = await ns('DELETE', '/invoice/eid:in_4');
    expect(del.status).toBe(400);
    expect(errorOf(del.body)).toEqual({
      detail: 'This record cannot be deleted because it has dependent records.',
      'o:errorCode': 'THIS_RECORD_CANNOT_BE_DELETED_BECAUSE_IT_HAS_DEPENDENT_RECORDS',
    });
    expect(twin.getByExternalId('invoice', 'in_4')).toMatchObject({ externalId: 'in_4' });
    expect((await ns('DELETE', '/customer/eid:cus_4')).status).toBe(400);

    // An invoice still pending approval is not posted and can go.
    await ns(
      'PUT',
      '/invoice/eid:in_5',
      invoiceBody({ externalId: 'cus_4' }, { approvalStatus: { id: '1' } }),
    );
    expect((await ns('DELETE', '/invoice/eid:in_5')).status).toBe(204);
    expect((await ns('GET', '/invoice/eid:in_5')).status).toBe(404);
  });

  it('deletes any record through its control endpoint, as an administrator would behind the integration', async () => {
    await ns('PUT', '/customer/eid:cus_6', acme);
    await ns('PUT', '/invoice/eid:in_6', invoiceBody({ externalId: 'cus_6' }));
    const id = String(twin.getByExternalId('invoice', 'in_6')?.id);
    // Unsigned and fault-free like the other `/_twin/` endpoints: the posted invoice goes.
    twin.faults.set({ errorRate: 1 });
    const deleted = await fetch(`${twin.url}/_twin/records/invoice/${id}`, { method: 'DELETE' });
    twin.faults.set({});
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ deleted: { type: 'invoice', id } });
    expect((await ns('GET', '/invoice/eid:in_6')).status).toBe(404);
    expect((await fetch(`${twin.url}/_twin/records/invoice/${id}`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${twin.url}/_twin/records/vendorBill/1`, { method: 'DELETE' })).status).toBe(400);
  });

  it('updates with PATCH by id or external id, adding item lines unless replace names the sublist', async () => {
    await ns('PUT', '/customer/eid:cus_6', acme);
    const so = await ns('PUT', '/salesOrder/eid:opp_6', invoiceBody({ externalId: 'cus_6' }));
    const id = so.location?.split('/').pop() ?? '';
    expect((await ns('PATCH', `/salesOrder/${id}`, { memo: 'renewal' })).status).toBe(204);
    await ns('PATCH', '/salesOrder/eid:opp_6', { item: { items: [{ item: { id: '103' }, amount: 10 }] } });
    expect(twin.getByExternalId('salesOrder', 'opp_6')).toMatchObject({ memo: 'renewal', subtotal: 122.5 });
    await ns('PATCH', '/salesOrder/eid:opp_6?replace=item', {
      item: { items: [{ item: { id: '100' }, amount: 1 }] },
    });
    expect(twin.getByExternalId('salesOrder', 'opp_6')).toMatchObject({ subtotal: 1 });
    expect((await ns('PATCH', '/salesOrder/eid:missing', { memo: 'x' })).status).toBe(404);
  });

  it('finds a record by its current external id only, after a PATCH changes it or a DELETE removes it', async () => {
    await ns('PUT', '/customer/eid:cus_7', acme);
    expect((await ns('PATCH', '/customer/eid:cus_7', { externalId: 'cus_7b' })).status).toBe(204);
    expect((await ns('GET', '/customer/eid:cus_7')).status).toBe(404);
    expect((await ns('GET', '/customer/eid:cus_7b')).body).toMatchObject({ companyName: 'Acme Corp' });
    // The old external id is free again: a PUT creates a second customer.
    await ns('PUT', '/customer/eid:cus_7', acme);
    expect(twin.records('customer')).toHaveLength(2);
    // The same external id on another record type is another record.
    await ns(
      'PUT',
      '/invoice/eid:cus_7',
      invoiceBody({ externalId: 'cus_7' }, { approvalStatus: { id: '1' } }),
    );
    expect((await ns('DELETE', '/invoice/eid:cus_7')).status).toBe(204);
    expect((await ns('GET', '/invoice/eid:cus_7')).status).toBe(404);
    expect((await ns('GET', '/customer/eid:cus_7')).status).toBe(200);
  });

  it('pages lists with limit and offset, and filters with q', async () => {
    for (let i = 1; i <= 5; i++) {
      await ns('PUT', `/customer/eid:c${i}`, {
        ...acme,
        companyName: i % 2 === 0 ? `Even ${i}` : `Odd ${i}`,
      });
    }
    const page = await ns('GET', '/customer?limit=2&offset=2');
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ count: 2, hasMore: true, offset: 2, totalResults: 5 });
    const rels = ((page.body?.links ?? []) as Array<{ rel: string; href: string }>).map((l) => l.rel);
    expect(rels).toEqual(expect.arrayContaining(['self', 'next', 'previous', 'first', 'last']));
    const items = page.body?.items as Array<{ id: string; links: unknown[] }>;
    expect(items.map((i) => i.id)).toEqual(
      twin
        .records('customer')
        .slice(2, 4)
        .map((r) => r.id),
    );
    const last = await ns('GET', '/customer?limit=2&offset=4');
    expect(last.body).toMatchObject({ count: 1, hasMore: false });

    const filtered = await ns('GET', `/customer?q=${encodeURIComponent('companyName START_WITH "even"')}`);
    expect(filtered.body).toMatchObject({ count: 2, totalResults: 2 });
    const badQ = await ns('GET', `/customer?q=${encodeURIComponent('companyName LIKE "x"')}`);
    expect(errorOf(badQ.body)).toMatchObject({ 'o:errorCode': 'INVALID_VALUE', 'o:errorQueryParam': 'q' });
    expect((await ns('GET', '/customer?limit=0')).status).toBe(400);
  });

  it('rejects a bad signature, wrong secrets, a replayed nonce and a missing header with 401 INVALID_LOGIN', async () => {
    const wrong = client(twin.url, { ...CREDENTIALS, tokenSecret: 'not-the-secret' });
    const res = await wrong('GET', '/customer');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({
      title: 'Unauthorized',
      status: 401,
      'o:errorDetails': [
        { 'o:errorCode': 'INVALID_LOGIN', detail: expect.stringContaining('Invalid login attempt') },
      ],
    });

    const url = `${twin.url}/services/rest/record/v1/customer`;
    expect((await fetch(url)).status).toBe(401);

    // The signature covers the query: a header signed for one URL fails on another.
    const oauth = new OAuth({
      consumer: { key: CREDENTIALS.consumerKey, secret: CREDENTIALS.consumerSecret },
      signature_method: 'HMAC-SHA256',
      hash_function: (base, key) => createHmac('sha256', key).update(base).digest('base64'),
      realm: ACCOUNT,
    });
    const token = { key: CREDENTIALS.tokenId, secret: CREDENTIALS.tokenSecret };
    const header = oauth.toHeader(oauth.authorize({ url, method: 'GET' }, token));
    expect((await fetch(`${url}?limit=1`, { headers: { ...header } })).status).toBe(401);
    // A fresh header works once; the same nonce again is refused.
    const once = oauth.toHeader(oauth.authorize({ url, method: 'GET' }, token));
    expect((await fetch(url, { headers: { ...once } })).status).toBe(200);
    expect((await fetch(url, { headers: { ...once } })).status).toBe(401);
  });

  it('upholds the account concurrency limit with 429 CONCURRENCY_LIMIT_EXCEEDED', async () => {
    await twin.close();
    twin = await startNetSuiteTwin({
      port: 0,
      faults: {},
      concurrencyLimit: 5,
      processingMs: { min: 0, max: 0 },
    });
    ns = client(twin.url);
    const release = twin.pause();
    const results: Array<Promise<{ status: number; body: unknown }>> = [];
    for (let i = 0; i < 7; i++) results.push(ns('GET', '/customer'));
    // The two over the limit are answered at once while the five admitted ones are held.
    const rejected = await Promise.race([Promise.all(results), firstN(results, 2)]);
    expect(rejected.map((r) => r.status)).toEqual([429, 429]);
    expect(errorOf(rejected[0]?.body)).toMatchObject({ 'o:errorCode': 'CONCURRENCY_LIMIT_EXCEEDED' });
    expect(twin.inFlight).toBe(5);
    release();
    const all = await Promise.all(results);
    expect(all.filter((r) => r.status === 200)).toHaveLength(5);
    expect(twin.maxConcurrentSeen).toBe(5);
  });

  it('serves injected faults in NetSuite shape and takes fault changes at run time', async () => {
    const put = await fetch(`${twin.url}/_twin/faults`, {
      method: 'PUT',
      body: JSON.stringify({ errorRate: 1 }),
    });
    expect(put.status).toBe(200);
    const res = await ns('GET', '/customer');
    expect(res.status).toBe(503);
    expect(errorOf(res.body)).toMatchObject({ 'o:errorCode': 'UNEXPECTED_ERROR' });
    twin.faults.set({});
    expect((await ns('GET', '/customer')).status).toBe(200);
  });
});

/** Resolves with the first `n` settled results, in completion order. */
function firstN<T>(promises: Array<Promise<T>>, n: number): Promise<T[]> {
  return new Promise((resolve) => {
    const done: T[] = [];
    for (const p of promises) {
      void p.then((value) => {
        done.push(value);
        if (done.length === n) resolve([...done]);
      });
    }
  });
}
