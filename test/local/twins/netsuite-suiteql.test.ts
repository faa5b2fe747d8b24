import { createHmac } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import { NetSuiteClient } from '../../../lambdas/adapters/netsuite/client';
import { NetSuiteErpReader } from '../../../lambdas/adapters/netsuite/erp-reader';
import { PermanentError } from '../../../lambdas/shared/errors';
import { type NetSuiteTwin, startNetSuiteTwin } from '../../../local/twins/netsuite';

/**
 * SuiteQL through the twin, by the client and reader reconciliation uses: invoices with their external
 * ids in pages, the date window, and a clear refusal of what the twin does not read.
 */

let twin: NetSuiteTwin;
let client: NetSuiteClient;

const invoice = (tranDate: string) => ({
  entity: { externalId: 'cus_1' },
  tranDate,
  item: { items: [{ item: { id: '100' }, quantity: 1, amount: 100 }] },
});

beforeEach(async () => {
  twin = await startNetSuiteTwin({ port: 0, seed: 7, faults: {}, processingMs: { min: 0, max: 0 } });
  client = new NetSuiteClient({
    baseUrl: twin.url,
    credentials: async () => ({ accountId: twin.account, ...twin.credentials }),
  });
  await client.upsert('customer', 'cus_1', { companyName: 'Acme Corp', subsidiary: { id: '1' } });
  await client.upsert('invoice', 'in_1', invoice('2026-12-01'));
  await client.upsert('invoice', 'in_2', invoice('2026-12-02'));
  await client.upsert('invoice', 'in_3', invoice('2026-12-09'));
  // Keyed in by hand: no external id.
  expect((await signed('POST', '/services/rest/record/v1/invoice', invoice('2026-12-02'))).status).toBe(204);
});
afterEach(() => twin.close());

/** A request signed like the client's, with only the headers given. */
const signed = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) => {
  const oauth = new OAuth({
    consumer: { key: twin.credentials.consumerKey, secret: twin.credentials.consumerSecret },
    signature_method: 'HMAC-SHA256',
    hash_function: (base, key) => createHmac('sha256', key).update(base).digest('base64'),
    realm: twin.account,
  });
  const url = `${twin.url}${path}`;
  const token = { key: twin.credentials.tokenId, secret: twin.credentials.tokenSecret };
  return fetch(url, {
    method,
    headers: {
      ...oauth.toHeader(oauth.authorize({ url, method }, token)),
      'content-type': 'application/json',
      ...headers,
    },
    body: JSON.stringify(body),
  });
};

const idOf = (externalId: string) =>
  String(twin.records('invoice').find((r) => r.externalId === externalId)?.id);

it('answers the rows a query selects, columns in lower case, a null column left out, in pages', async () => {
  const q =
    "SELECT id, externalid FROM transaction WHERE type = 'CustInvc' AND trandate >= TO_DATE('2026-12-01', 'YYYY-MM-DD')" +
    " AND trandate <= TO_DATE('2026-12-03', 'YYYY-MM-DD') ORDER BY id";
  const first = await client.suiteql(q, { limit: 2, offset: 0 });
  const second = await client.suiteql(q, { limit: 2, offset: 2 });
  const handKeyed = twin.records('invoice').find((r) => r.externalId === undefined);
  expect(handKeyed).toBeDefined();
  expect(first).toEqual({
    rows: [
      { id: idOf('in_1'), externalid: 'in_1' },
      { id: idOf('in_2'), externalid: 'in_2' },
    ],
    hasMore: true,
  });
  expect(second).toEqual({ rows: [{ id: String(handKeyed?.id) }], hasMore: false });
  // Other transaction types are not invoices.
  const memos = await client.suiteql("SELECT id FROM transaction WHERE type = 'CustCred'", {
    limit: 10,
    offset: 0,
  });
  expect(memos.rows).toEqual([]);
});

it('lists the ERP invoices of a window with their external ids, null for one keyed in by hand', async () => {
  const reader = new NetSuiteErpReader(client, { USD: '1' }, 2);
  const window = { from: '2026-12-01T00:00:00.000Z', to: '2026-12-03T00:00:00.000Z' };
  const first = await reader.listInvoices(window, 0);
  const second = await reader.listInvoices(window, first.nextOffset ?? -1);
  expect([...first.invoices, ...second.invoices]).toEqual([
    { id: idOf('in_1'), externalId: 'in_1' },
    { id: idOf('in_2'), externalId: 'in_2' },
    { id: expect.any(String), externalId: null },
  ]);
  expect(second.nextOffset).toBeNull();
});

it('refuses what it does not read with a 400 naming the part, and a query without Prefer: transient', async () => {
  const refused = (q: string) => client.suiteql(q, { limit: 10, offset: 0 }).catch((error: unknown) => error);
  const unknownField = await refused("SELECT id FROM transaction WHERE memo = 'x'");
  expect(unknownField).toBeInstanceOf(PermanentError);
  expect((unknownField as PermanentError).message).toMatch(/Field 'memo'/);
  expect(String(await refused('SELECT id FROM customer'))).toMatch(/Record 'customer' was not found/);
  expect(String(await refused("SELECT id FROM transaction WHERE type = 'CustInvc' OR id = 1"))).toMatch(
    /AND only/,
  );

  // Signed like the client, but without the header NetSuite requires on SuiteQL.
  const response = await signed('POST', '/services/rest/query/v1/suiteql', {
    q: 'SELECT id FROM transaction',
  });
  expect(response.status).toBe(400);
  expect(await response.text()).toMatch(/Prefer: transient/);
});
