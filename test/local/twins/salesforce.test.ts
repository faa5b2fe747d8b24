import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import jsforce, { type Connection } from 'jsforce';
import {
  isOutboundMessageAck,
  OUTBOUND_NAMESPACE,
  parseXml,
  type SalesforceTwin,
  SOAP_ENVELOPE_NAMESPACE,
  startSalesforceTwin,
  toId18,
  type XmlElement,
  xmlChild,
} from '../../../local/twins/salesforce';
import { VENDOR_FIXTURES } from '../../support/fixtures';

const FIXTURES = join(VENDOR_FIXTURES, 'salesforce');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const ENTERPRISE_NS = 'urn:sobject.enterprise.soap.sforce.com';
const XSI_TYPE = 'xsi:type';
/** A well-formed opportunity id (valid checksum) that no record has. */
const MISSING_OPPORTUNITY = toId18('0068d00000ZZZZZ') ?? '';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** An outbound-message listener whose answers the test scripts, one per request (the last repeats). */
async function startListener(answers: Array<{ status: number; body: string }>) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers[Math.min(received.length - 1, answers.length - 1)] ?? { status: 200, body: '' };
      res.writeHead(answer.status, { 'Content-Type': 'text/xml; charset=utf-8' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/salesforce`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const connect = (twin: SalesforceTwin, accessToken = twin.accessToken) =>
  new jsforce.Connection({ instanceUrl: twin.instanceUrl, accessToken, version: '62.0' });

interface SaveResult {
  id: string;
  success: boolean;
}

async function seedOpportunity(conn: Connection, twin: SalesforceTwin) {
  const account = (await conn
    .sobject('Account')
    .create({ Name: 'Acme Corp', BillingCountry: 'US' })) as SaveResult;
  const product = (await conn
    .sobject('Product2')
    .create({ Name: 'Platform', ProductCode: 'PLT', IsActive: true })) as SaveResult;
  const standardPricebook = twin.records('Pricebook2')[0]?.Id;
  const entry = (await conn.sobject('PricebookEntry').create({
    Pricebook2Id: standardPricebook,
    Product2Id: product.id,
    UnitPrice: 1200,
    IsActive: true,
  })) as SaveResult;
  const opportunity = (await conn.sobject('Opportunity').create({
    Name: 'Acme - Platform',
    StageName: 'Negotiation/Review',
    CloseDate: '2025-03-31',
    AccountId: account.id,
  })) as SaveResult;
  const item = (await conn.sobject('OpportunityLineItem').create({
    OpportunityId: opportunity.id,
    PricebookEntryId: entry.id,
    Quantity: 3,
    UnitPrice: 1000,
  })) as SaveResult;
  return { account, product, entry, opportunity, item };
}

async function rawStatus(twin: SalesforceTwin, path: string) {
  const response = await fetch(`${twin.url}${path}`, {
    headers: { Authorization: `Bearer ${twin.accessToken}` },
  });
  return {
    status: response.status,
    limit: response.headers.get('sforce-limit-info'),
    body: await response.text(),
  };
}

function childNames(element: XmlElement | undefined): string[] {
  return (element?.children ?? []).map((c) => c.local);
}

describe('Salesforce twin', () => {
  let twin: SalesforceTwin;
  let conn: Connection;

  beforeAll(async () => {
    twin = await startSalesforceTwin({
      port: 0,
      faults: {},
      customFields: {
        Opportunity: [{ name: 'RevBridge_Deal_Key__c', externalId: true }, 'RevBridge_Status__c'],
      },
    });
    conn = connect(twin);
  });

  afterAll(async () => {
    await twin.close();
  });

  it('creates accounts, products, price book entries, opportunities and line items with 18-character ids', async () => {
    const { account, product, entry, opportunity, item } = await seedOpportunity(conn, twin);

    expect(account.id).toMatch(/^001[a-zA-Z0-9]{15}$/);
    expect(product.id).toMatch(/^01t[a-zA-Z0-9]{15}$/);
    expect(entry.id).toMatch(/^01u[a-zA-Z0-9]{15}$/);
    expect(opportunity.id).toMatch(/^006[a-zA-Z0-9]{15}$/);
    expect(item.id).toMatch(/^00k[a-zA-Z0-9]{15}$/);

    const read = (await conn.sobject('Opportunity').retrieve(opportunity.id)) as Record<string, unknown>;
    expect(read.attributes).toEqual({
      type: 'Opportunity',
      url: `/services/data/v62.0/sobjects/Opportunity/${opportunity.id}`,
    });
    // With products the amount is their roll-up, as in a real org.
    expect(read).toMatchObject({
      Id: opportunity.id,
      Amount: 3000,
      IsWon: false,
      IsClosed: false,
      HasOpportunityLineItem: true,
    });

    const line = (await conn.sobject('OpportunityLineItem').retrieve(item.id, {
      fields: ['Quantity', 'UnitPrice', 'TotalPrice', 'ListPrice', 'Product2Id'],
    } as never)) as Record<string, unknown>;
    expect(line).toEqual({
      attributes: {
        type: 'OpportunityLineItem',
        url: `/services/data/v62.0/sobjects/OpportunityLineItem/${item.id}`,
      },
      Id: item.id,
      Quantity: 3,
      UnitPrice: 1000,
      TotalPrice: 3000,
      ListPrice: 1200,
      Product2Id: product.id,
    });
  });

  it('answers the SOQL the flows use: by Id, by OpportunityId, parent fields and child subqueries', async () => {
    const { account, opportunity, item } = await seedOpportunity(conn, twin);

    const byId = await conn.query<Record<string, unknown>>(
      `SELECT Id, Name, StageName, Amount, CloseDate, Account.Name FROM Opportunity WHERE Id = '${opportunity.id}'`,
    );
    expect(byId.totalSize).toBe(1);
    expect(byId.records[0]).toMatchObject({
      Id: opportunity.id,
      StageName: 'Negotiation/Review',
      CloseDate: '2025-03-31',
      Account: { attributes: { type: 'Account' }, Name: 'Acme Corp' },
    });

    const lines = await conn.query<Record<string, unknown>>(
      `SELECT Id, Quantity, TotalPrice, Product2.ProductCode FROM OpportunityLineItem WHERE OpportunityId = '${opportunity.id.slice(0, 15)}'`,
    );
    expect(lines.records.map((r: Record<string, unknown>) => r.Id)).toEqual([item.id]);
    expect(lines.records[0]).toMatchObject({ Product2: { ProductCode: 'PLT' } });

    const nested = await conn.query<Record<string, unknown>>(
      `SELECT Id, (SELECT Id, Quantity FROM OpportunityLineItems) FROM Opportunity WHERE AccountId = '${account.id}'`,
    );
    expect(nested.records[0]).toMatchObject({
      OpportunityLineItems: { totalSize: 1, done: true, records: [{ Id: item.id, Quantity: 3 }] },
    });

    const accounts = await conn.sobject('Account').find({ Id: account.id }, ['Id', 'Name', 'BillingCountry']);
    expect(accounts).toEqual([
      expect.objectContaining({ Id: account.id, Name: 'Acme Corp', BillingCountry: 'US' }),
    ]);
  });

  it('updates with PATCH (204) and upserts by external id: 201 when created, 200 created:false when updated', async () => {
    const { opportunity } = await seedOpportunity(conn, twin);
    const updated = await conn
      .sobject('Opportunity')
      .update({ Id: opportunity.id, RevBridge_Status__c: 'synced' });
    expect(updated).toMatchObject({ id: opportunity.id, success: true });
    expect(twin.getRecord('Opportunity', opportunity.id)?.RevBridge_Status__c).toBe('synced');

    const path = '/services/data/v62.0/sobjects/Opportunity/RevBridge_Deal_Key__c/deal-42';
    const put = (body: object, version = '62.0') =>
      fetch(`${twin.url}${path.replace('62.0', version)}`, {
        method: 'PATCH',
        headers: { Authorization: `Bearer ${twin.accessToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const created = await put({ Name: 'Upserted', StageName: 'Prospecting', CloseDate: '2025-06-30' });
    expect(created.status).toBe(201);
    const createdBody = (await created.json()) as { id: string; created: boolean };
    expect(createdBody).toMatchObject({ success: true, created: true });

    const again = await put({ Name: 'Upserted again' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id: createdBody.id, success: true, errors: [], created: false });
    // Before API 46.0 an update through upsert answered 204 without a body.
    const legacy = await put({ Name: 'Upserted on v45' }, '45.0');
    expect(legacy.status).toBe(204);

    const viaClient = await conn
      .sobject('Opportunity')
      .upsert({ RevBridge_Deal_Key__c: 'deal-42', Description: 'via jsforce' }, 'RevBridge_Deal_Key__c');
    expect(viaClient).toMatchObject({ id: createdBody.id, success: true });
    expect(twin.getRecord('Opportunity', createdBody.id)).toMatchObject({
      Name: 'Upserted on v45',
      Description: 'via jsforce',
    });
  });

  it('creates records in one sObject Collections call and rolls all of them back with allOrNone', async () => {
    const records = [
      { attributes: { type: 'Account' }, Name: 'Collection One' },
      { attributes: { type: 'Account' }, Name: 'Collection Two' },
    ];
    const ok = (await conn.sobject('Account').create(records)) as unknown as SaveResult[];
    expect(ok.map((r) => r.success)).toEqual([true, true]);

    const before = twin.records('Account').length;
    const rolledBack = (await conn
      .sobject('Account')
      .create([{ Name: 'Kept?' }, { Website: 'no name' }], { allOrNone: true })) as unknown as Array<{
      success: boolean;
      errors: Array<{ statusCode: string }>;
    }>;
    expect(rolledBack.map((r) => [r.success, r.errors[0]?.statusCode])).toEqual([
      [false, 'ALL_OR_NONE_OPERATION_ROLLED_BACK'],
      [false, 'REQUIRED_FIELD_MISSING'],
    ]);
    expect(twin.records('Account')).toHaveLength(before);
  });

  it('pages query results past 2000 records through nextRecordsUrl', async () => {
    for (let i = 0; i < 2_001; i++) twin.createRecord('Product2', { Name: `Bulk ${i}`, Family: 'Bulk' });
    const first = await rawStatus(
      twin,
      `/services/data/v62.0/query?q=${encodeURIComponent("SELECT Id FROM Product2 WHERE Family = 'Bulk'")}`,
    );
    const page = JSON.parse(first.body) as {
      totalSize: number;
      done: boolean;
      records: unknown[];
      nextRecordsUrl: string;
    };
    expect(page).toMatchObject({ totalSize: 2_001, done: false });
    expect(page.records).toHaveLength(2_000);
    const all = await conn.query("SELECT Id, Name FROM Product2 WHERE Family = 'Bulk' ORDER BY Name", {
      autoFetch: true,
      maxFetch: 5_000,
    });
    expect(all.records).toHaveLength(2_001);
  });

  it("rejects bad writes and queries with Salesforce's status codes and error bodies", async () => {
    const errorOf = async (promise: PromiseLike<unknown>) => {
      try {
        await promise;
      } catch (error) {
        return error as { errorCode: string; message: string; data: { fields?: string[] } };
      }
      throw new Error('expected the call to fail');
    };

    const missing = await errorOf(conn.sobject('Opportunity').create({ Name: 'No stage' }));
    expect(missing.errorCode).toBe('REQUIRED_FIELD_MISSING');
    expect(missing.data.fields).toEqual(['StageName', 'CloseDate']);

    const unknown = await errorOf(
      conn
        .sobject('Opportunity')
        .create({ Name: 'x', StageName: 'Prospecting', CloseDate: '2025-01-01', Colour: 'red' }),
    );
    expect(unknown.errorCode).toBe('INVALID_FIELD');
    expect(unknown.message).toContain("No such column 'Colour'");

    const readOnly = await errorOf(
      conn
        .sobject('Opportunity')
        .create({ Name: 'x', StageName: 'Prospecting', CloseDate: '2025-01-01', IsWon: true }),
    );
    expect(readOnly.errorCode).toBe('INVALID_FIELD_FOR_INSERT_UPDATE');

    const picklist = await errorOf(
      conn.sobject('Opportunity').create({ Name: 'x', StageName: 'Won-ish', CloseDate: '2025-01-01' }),
    );
    expect(picklist.errorCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');

    const notFound = await rawStatus(
      twin,
      `/services/data/v62.0/sobjects/Opportunity/${MISSING_OPPORTUNITY}`,
    );
    expect(notFound.status).toBe(404);
    expect(MISSING_OPPORTUNITY).toHaveLength(18);
    expect(JSON.parse(notFound.body)).toEqual([
      { errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' },
    ]);

    // An id that is not an id is read as an external-id field name by the same resource.
    const notAnId = await rawStatus(twin, '/services/data/v62.0/sobjects/Opportunity/not-an-id');
    expect(JSON.parse(notAnId.body)).toEqual([
      {
        errorCode: 'NOT_FOUND',
        message: 'Provided external ID field does not exist or is not accessible: not-an-id',
      },
    ]);

    const quotedDate = await errorOf(conn.query("SELECT Id FROM Opportunity WHERE CloseDate = '2025-01-01'"));
    expect(quotedDate.errorCode).toBe('INVALID_FIELD');
    const badColumn = await errorOf(conn.query('SELECT Id, Nope FROM Opportunity'));
    expect(badColumn.errorCode).toBe('INVALID_FIELD');
    const badType = await errorOf(conn.query('SELECT Id FROM Invoice'));
    expect(badType.errorCode).toBe('INVALID_TYPE');
    const malformed = await errorOf(conn.query('SELECT FROM Opportunity'));
    expect(malformed.errorCode).toBe('MALFORMED_QUERY');
  });

  it('rejects a wrong bearer token with 401 INVALID_SESSION_ID', async () => {
    const error = await connect(twin, 'not-the-token')
      .query('SELECT Id FROM Account')
      .then(
        () => undefined,
        (e: unknown) => e as { errorCode: string; message: string },
      );
    expect(error).toMatchObject({ errorCode: 'INVALID_SESSION_ID', message: 'Session expired or invalid' });
    const raw = await fetch(`${twin.url}/services/data/v62.0/sobjects/Account`, { headers: {} });
    expect(raw.status).toBe(401);
  });

  it('reports API usage in Sforce-Limit-Info on every response, errors included', async () => {
    const first = await rawStatus(twin, '/services/data/v62.0/limits');
    const second = await rawStatus(twin, `/services/data/v62.0/sobjects/Opportunity/${MISSING_OPPORTUNITY}`);
    const used = Number(/^api-usage=(\d+)\/15000$/.exec(first.limit ?? '')?.[1]);
    expect(used).toBeGreaterThan(0);
    expect(second.status).toBe(404);
    expect(second.limit).toBe(`api-usage=${used + 1}/15000`);
  });
});

describe('Salesforce twin limits and faults', () => {
  it('refuses requests past the daily allowance with 403 REQUEST_LIMIT_EXCEEDED', async () => {
    const twin = await startSalesforceTwin({ port: 0, faults: {}, dailyApiLimit: 2 });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push(await rawStatus(twin, '/services/data/v62.0/limits'));
      expect(statuses.map((s) => s.status)).toEqual([200, 200, 403]);
      expect(JSON.parse(statuses[2]?.body ?? '')).toEqual([
        { message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
      ]);
      expect(statuses[2]?.limit).toBe('api-usage=3/2');
    } finally {
      await twin.close();
    }
  });

  it('injects the same faults for the same seed, in Salesforce shapes', async () => {
    const run = async (seed: number) => {
      const twin = await startSalesforceTwin({
        port: 0,
        faults: { seed, errorRate: 0.25, throttle: { rate: 0.15, burst: 2, retryAfterSeconds: 1 } },
      });
      try {
        const out = [];
        for (let i = 0; i < 24; i++) out.push(await rawStatus(twin, '/services/data/v62.0/limits'));
        return out;
      } finally {
        await twin.close();
      }
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(a.map((r) => r.status)).toEqual(b.map((r) => r.status));
    expect(a.map((r) => r.status)).not.toEqual(c.map((r) => r.status));
    const throttled = a.find((r) => r.status === 403);
    const failed = a.find((r) => r.status === 503);
    expect(JSON.parse(throttled?.body ?? '[]')).toEqual([
      { message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
    ]);
    expect(JSON.parse(failed?.body ?? '[]')).toEqual([
      { message: 'Server temporarily unavailable', errorCode: 'SERVER_UNAVAILABLE' },
    ]);
    expect(throttled?.limit).toMatch(/^api-usage=\d+\/15000$/);
  });
});

describe('Salesforce twin outbound messages', () => {
  const ack = fixture('outbound-message.ack-response.xml');

  it("sends a Closed Won opportunity as a SOAP notifications envelope with the vendor fixture's structure", async () => {
    const listener = await startListener([{ status: 200, body: ack }]);
    const twin = await startSalesforceTwin({ port: 0, faults: {}, outboundMessage: { url: listener.url } });
    try {
      const conn = connect(twin);
      const { opportunity } = await seedOpportunity(conn, twin);
      await conn.sobject('Opportunity').update({ Id: opportunity.id, StageName: 'Closed Won' });
      await twin.idle();

      expect(listener.received).toHaveLength(1);
      const [request] = listener.received;
      expect(request?.headers['content-type']).toBe('text/xml; charset=utf-8');
      expect(request?.headers.soapaction).toBe('""');
      expect(request?.body.charCodeAt(0)).toBe(0xfeff);

      const sent = parseXml(request?.body ?? '');
      const vendor = parseXml(fixture('outbound-message.lead.3-notifications.xml'));
      for (const envelope of [sent, vendor]) {
        expect(envelope).toMatchObject({ local: 'Envelope', namespace: SOAP_ENVELOPE_NAMESPACE });
        const notifications = xmlChild(xmlChild(envelope, 'Body', SOAP_ENVELOPE_NAMESPACE), 'notifications');
        expect(notifications?.namespace).toBe(OUTBOUND_NAMESPACE);
        expect(childNames(notifications).slice(0, 6)).toEqual([
          'OrganizationId',
          'ActionId',
          'SessionId',
          'EnterpriseUrl',
          'PartnerUrl',
          'Notification',
        ]);
        const notification = xmlChild(notifications, 'Notification', OUTBOUND_NAMESPACE);
        expect(childNames(notification)).toEqual(['Id', 'sObject']);
        const sobject = xmlChild(notification, 'sObject', OUTBOUND_NAMESPACE);
        expect(sobject?.attributes['xmlns:sf']).toBe(ENTERPRISE_NS);
        expect(sobject?.children[0]).toMatchObject({ local: 'Id', namespace: ENTERPRISE_NS });
      }

      const notifications = xmlChild(xmlChild(sent, 'Body'), 'notifications');
      expect(xmlChild(notifications, 'OrganizationId')?.text).toBe('00D000000000001EAA');
      expect(xmlChild(notifications, 'ActionId')?.text).toMatch(/^04k[a-zA-Z0-9]{15}$/);
      const notification = xmlChild(notifications, 'Notification');
      expect(xmlChild(notification, 'Id')?.text).toMatch(/^04l[a-zA-Z0-9]{15}$/);
      const sobject = xmlChild(notification, 'sObject');
      expect(sobject?.attributes[XSI_TYPE]).toBe('sf:Opportunity');
      const field = (name: string) => xmlChild(sobject, name, ENTERPRISE_NS)?.text;
      expect(field('Id')).toBe(opportunity.id);
      expect(field('StageName')).toBe('Closed Won');
      expect(field('IsWon')).toBe('true');
      expect(field('Amount')).toBe('3000.0');
      expect(field('LastModifiedDate')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(twin.deliveries).toEqual([expect.objectContaining({ attempt: 1, status: 200, accepted: true })]);
    } finally {
      await twin.close();
      await listener.close();
    }
  });

  it('retries the same message until the listener answers with the SOAP Ack, not merely 200', async () => {
    const listener = await startListener([
      { status: 503, body: 'busy' },
      { status: 200, body: '' },
      { status: 200, body: ack.replace('<Ack>true</Ack>', '<Ack>false</Ack>') },
      { status: 200, body: ack },
    ]);
    const twin = await startSalesforceTwin({
      port: 0,
      faults: {},
      outboundMessage: { url: listener.url, retryDelaysMs: [5, 5, 5, 5, 5] },
    });
    try {
      const conn = connect(twin);
      const { opportunity } = await seedOpportunity(conn, twin);
      twin.closeOpportunity(opportunity.id);
      await twin.idle();

      expect(listener.received).toHaveLength(4);
      expect(new Set(listener.received.map((r) => r.body)).size).toBe(1);
      expect(twin.deliveries.map((d) => [d.attempt, d.status, d.accepted])).toEqual([
        [1, 503, false],
        [2, 200, false],
        [3, 200, false],
        [4, 200, true],
      ]);
      expect(twin.outboundMessages).toEqual([expect.objectContaining({ opportunityId: opportunity.id })]);
    } finally {
      await twin.close();
      await listener.close();
    }
  });

  it('sends nothing for other stages or when an already won opportunity is edited again', async () => {
    const listener = await startListener([{ status: 200, body: ack }]);
    const twin = await startSalesforceTwin({ port: 0, faults: {}, outboundMessage: { url: listener.url } });
    try {
      const conn = connect(twin);
      const { opportunity } = await seedOpportunity(conn, twin);
      await conn.sobject('Opportunity').update({ Id: opportunity.id, StageName: 'Proposal/Price Quote' });
      await conn.sobject('Opportunity').update({ Id: opportunity.id, StageName: 'Closed Won' });
      await conn.sobject('Opportunity').update({ Id: opportunity.id, Description: 'signed' });
      await twin.idle();
      expect(listener.received).toHaveLength(1);
      expect(twin.outboundMessages).toHaveLength(1);
    } finally {
      await twin.close();
      await listener.close();
    }
  });

  it('writes doubles the way the SOAP API does (1.5E7) and sends opportunities created as Closed Won', async () => {
    const listener = await startListener([{ status: 200, body: ack }]);
    const twin = await startSalesforceTwin({
      port: 0,
      faults: {},
      outboundMessage: { url: listener.url, fields: ['Amount', 'Probability', 'StageName', 'CloseDate'] },
    });
    try {
      const id = twin.createRecord('Opportunity', {
        Name: 'Whale',
        StageName: 'Closed Won',
        CloseDate: '2025-02-28',
        Amount: 15_000_000,
      });
      await twin.idle();
      const sobject = xmlChild(
        xmlChild(
          xmlChild(xmlChild(parseXml(listener.received[0]?.body ?? ''), 'Body'), 'notifications'),
          'Notification',
        ),
        'sObject',
      );
      expect(childNames(sobject)).toEqual(['Id', 'Amount', 'Probability', 'StageName', 'CloseDate']);
      expect(sobject?.children.map((c) => c.text)).toEqual([
        id,
        '1.5E7',
        '100.0',
        'Closed Won',
        '2025-02-28',
      ]);
    } finally {
      await twin.close();
      await listener.close();
    }
  });

  it('accepts exactly the vendor Ack fixture as an acknowledgement', () => {
    expect(isOutboundMessageAck(200, ack)).toBe(true);
    expect(isOutboundMessageAck(500, ack)).toBe(false);
    expect(isOutboundMessageAck(200, ack.replace(OUTBOUND_NAMESPACE, 'urn:other'))).toBe(false);
    expect(isOutboundMessageAck(200, '<Ack>true</Ack>')).toBe(false);
    expect(isOutboundMessageAck(200, fixture('outbound-message.empty-notifications.xml'))).toBe(false);
  });
});
