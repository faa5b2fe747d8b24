import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Signature } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum } from '@hubspot/api-client/lib/codegen/crm/deals';
import {
  type HubSpotTwin,
  type HubSpotWebhookEvent,
  signatureUri,
  startHubSpotTwin,
} from '../../../local/twins/hubspot';

const HUBSPOT_DEFINED = AssociationSpecAssociationCategoryEnum.HubspotDefined;
const LINE_ITEM_TO_DEAL = 20;
const DEAL_TO_PRIMARY_COMPANY = 5;

interface Received {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver answering the scripted statuses in turn (the last one repeats). */
async function startReceiver(statuses: number[], path = '/webhooks/hubspot') {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const status = statuses[Math.min(received.length - 1, statuses.length - 1)] ?? 200;
      res.writeHead(status);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const clientFor = (twin: HubSpotTwin, accessToken = twin.accessToken) =>
  new Client({ accessToken, basePath: twin.url });

/** Verifies a delivery the way a receiver would, with the official client's helper. */
function verifies(twin: HubSpotTwin, url: string, request: Received): boolean {
  return Signature.isValid({
    signatureVersion: 'v3',
    method: request.method,
    url: signatureUri(url),
    requestBody: request.body,
    clientSecret: twin.clientSecret,
    signature: String(request.headers['x-hubspot-signature-v3']),
    timestamp: Number(request.headers['x-hubspot-request-timestamp']),
  });
}

async function errorOf(
  promise: Promise<unknown>,
): Promise<{ code: number; body: Record<string, unknown>; headers: Record<string, string> }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: number; body: Record<string, unknown>; headers: Record<string, string> };
  }
  throw new Error('expected the call to fail');
}

async function seedDeal(client: Client) {
  const company = await client.crm.companies.basicApi.create({
    properties: { name: 'Acme Corp', domain: 'acme.example', country: 'US' },
  });
  const product = await client.crm.products.basicApi.create({
    properties: { name: 'Platform', price: '1200', hs_sku: 'PLT' },
  });
  const deal = await client.crm.deals.basicApi.create({
    properties: {
      dealname: 'Acme - Platform',
      amount: '3000',
      dealstage: 'contractsent',
      pipeline: 'default',
    },
    associations: [
      {
        to: { id: company.id },
        types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: DEAL_TO_PRIMARY_COMPANY }],
      },
    ],
  });
  const lineItem = await client.crm.lineItems.basicApi.create({
    properties: { hs_product_id: product.id, quantity: '3', price: '1000' },
    associations: [
      {
        to: { id: deal.id },
        types: [{ associationCategory: HUBSPOT_DEFINED, associationTypeId: LINE_ITEM_TO_DEAL }],
      },
    ],
  });
  return { company, product, deal, lineItem };
}

describe('HubSpot twin CRM API', () => {
  let twin: HubSpotTwin;
  let client: Client;

  beforeAll(async () => {
    twin = await startHubSpotTwin({
      port: 0,
      faults: {},
      customProperties: { deals: ['revbridge_contract_id'] },
    });
    client = clientFor(twin);
  });

  afterAll(async () => {
    await twin.close();
  });

  it('creates companies, products, deals and line items and reads them back with their associations', async () => {
    const { company, product, deal, lineItem } = await seedDeal(client);
    expect(deal.id).toMatch(/^\d+$/);
    expect(deal.properties).toMatchObject({
      dealname: 'Acme - Platform',
      hs_is_closed_won: 'false',
      pipeline: 'default',
    });
    expect(deal.createdAt).toBeInstanceOf(Date);

    const read = await client.crm.deals.basicApi.getById(deal.id, ['dealname', 'dealstage'], undefined, [
      'line_items',
      'companies',
    ]);
    expect(Object.keys(read.properties).sort()).toEqual([
      'createdate',
      'dealname',
      'dealstage',
      'hs_lastmodifieddate',
      'hs_object_id',
    ]);
    expect(read.archived).toBe(false);
    // HubSpot keys line items as "line items" and lists a primary company under both of its types.
    expect(read.associations?.['line items']?.results).toEqual([
      { id: lineItem.id, type: 'deal_to_line_item' },
    ]);
    expect(read.associations?.companies?.results).toEqual([
      { id: company.id, type: 'deal_to_company' },
      { id: company.id, type: 'deal_to_company_unlabeled' },
    ]);

    const item = await client.crm.lineItems.basicApi.getById(lineItem.id, [
      'name',
      'amount',
      'hs_product_id',
      'hs_sku',
    ]);
    expect(item.properties).toMatchObject({
      name: 'Platform',
      amount: '3000.00',
      hs_product_id: product.id,
      hs_sku: 'PLT',
    });

    const batch = await client.crm.lineItems.batchApi.read({
      inputs: [{ id: lineItem.id }],
      properties: ['quantity', 'price'],
      propertiesWithHistory: [],
    });
    expect(batch.results.map((r) => r.properties.quantity)).toEqual(['3']);
  });

  it('updates properties with PATCH and pages through lists with after', async () => {
    const created = [];
    for (const name of ['Page A', 'Page B', 'Page C']) {
      created.push(
        await client.crm.deals.basicApi.create({ properties: { dealname: name }, associations: [] }),
      );
    }
    const [first] = created;
    if (!first) throw new Error('no deal');
    const updated = await client.crm.deals.basicApi.update(first.id, {
      properties: { revbridge_contract_id: 'ctr_123', amount: '99' },
    });
    expect(updated.properties).toMatchObject({ revbridge_contract_id: 'ctr_123', amount: '99' });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(updated.createdAt.getTime());

    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await client.crm.deals.basicApi.getPage(2, after, ['dealname']);
      seen.push(...page.results.map((r) => r.properties.dealname ?? ''));
      after = page.paging?.next?.after;
    } while (after);
    expect(seen).toEqual(expect.arrayContaining(['Page A', 'Page B', 'Page C']));
    expect(new Set(seen).size).toBe(seen.length);

    await client.crm.deals.basicApi.archive(first.id);
    expect((await errorOf(client.crm.deals.basicApi.getById(first.id))).code).toBe(404);
    const archived = await client.crm.deals.basicApi.getById(first.id, undefined, undefined, undefined, true);
    expect(archived.archived).toBe(true);
  });

  it('creates, lists and removes associations through the v4 API', async () => {
    const { deal } = await seedDeal(client);
    const other = await client.crm.lineItems.basicApi.create({
      properties: { name: 'Setup', quantity: '1', price: '500' },
      associations: [],
    });

    await client.crm.associations.v4.basicApi.createDefault('deals', deal.id, 'line_items', other.id);
    const page = await client.crm.associations.v4.basicApi.getPage('deals', deal.id, 'line_items');
    expect(page.results).toHaveLength(2);
    expect(page.results.every((r) => r.associationTypes.some((t) => t.typeId === 19))).toBe(true);

    const reverse = await client.crm.associations.v4.basicApi.getPage('line_items', other.id, 'deals');
    expect(reverse.results).toEqual([
      {
        toObjectId: Number(deal.id),
        associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 20, label: null }],
      },
    ]);

    await client.crm.associations.v4.basicApi.archive('deals', deal.id, 'line_items', other.id);
    const after = await client.crm.associations.v4.basicApi.getPage('deals', deal.id, 'line_items');
    expect(after.results).toHaveLength(1);
  });

  it("rejects bad input with HubSpot's error categories", async () => {
    const unknown = await errorOf(
      client.crm.deals.basicApi.create({ properties: { colour: 'red' }, associations: [] }),
    );
    expect(unknown.code).toBe(400);
    expect(unknown.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    expect(String(unknown.body.message)).toContain('PROPERTY_DOESNT_EXIST');
    expect(unknown.body.correlationId).toMatch(/^[0-9a-f-]{36}$/);

    const stage = await errorOf(
      client.crm.deals.basicApi.create({ properties: { dealstage: 'won-ish' }, associations: [] }),
    );
    expect(String(stage.body.message)).toContain('INVALID_OPTION');

    const readOnly = await errorOf(
      client.crm.deals.basicApi.create({ properties: { hs_is_closed_won: 'true' }, associations: [] }),
    );
    expect(String(readOnly.body.message)).toContain('READ_ONLY_VALUE');

    const missing = await errorOf(client.crm.deals.basicApi.getById('999999'));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND' });

    const badToken = await errorOf(clientFor(twin, 'wrong-token').crm.deals.basicApi.getPage());
    expect(badToken.code).toBe(401);
    expect(badToken.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
  });
});

describe('HubSpot twin limits and faults', () => {
  it('answers 429 RATE_LIMITS with Retry-After once the ten-second burst limit is used up', async () => {
    const twin = await startHubSpotTwin({ port: 0, faults: {}, rateLimit: { max: 2, intervalMs: 60_000 } });
    try {
      const client = clientFor(twin);
      await client.crm.deals.basicApi.getPage();
      await client.crm.deals.basicApi.getPage();
      const limited = await errorOf(client.crm.deals.basicApi.getPage());
      expect(limited.code).toBe(429);
      expect(limited.body).toMatchObject({
        status: 'error',
        category: 'RATE_LIMITS',
        policyName: 'TEN_SECONDLY_ROLLING',
      });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await twin.close();
    }
  });

  it('injects the same request faults for the same seed', async () => {
    const run = async (seed: number) => {
      const twin = await startHubSpotTwin({ port: 0, faults: { seed, errorRate: 0.3 } });
      try {
        const client = clientFor(twin);
        const codes: number[] = [];
        for (let i = 0; i < 20; i++) {
          codes.push(
            await client.crm.deals.basicApi.getPage().then(
              () => 200,
              (e: { code: number }) => e.code,
            ),
          );
        }
        return codes;
      } finally {
        await twin.close();
      }
    };
    const a = await run(11);
    expect(await run(11)).toEqual(a);
    expect(await run(12)).not.toEqual(a);
    expect(a).toContain(503);
  });
});

describe('HubSpot twin webhooks', () => {
  it('posts a batch for deal stage changes whose v3 signature verifies with the official client', async () => {
    const receiver = await startReceiver([200]);
    const twin = await startHubSpotTwin({
      port: 0,
      faults: {},
      webhook: { url: receiver.url, batchWindowMs: 1_000 },
    });
    try {
      const client = clientFor(twin);
      const { deal } = await seedDeal(client);
      const second = await client.crm.deals.basicApi.create({
        properties: { dealname: 'Second' },
        associations: [],
      });
      twin.flushWebhooks();
      await twin.idle();
      const before = receiver.received.length;

      await client.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'closedwon' } });
      twin.setDealStage(second.id, 'closedlost');
      await twin.idle();

      const delivered = receiver.received.slice(before);
      expect(delivered).toHaveLength(1);
      const [request] = delivered;
      if (!request) throw new Error('no delivery');
      expect(request.method).toBe('POST');
      expect(request.headers['content-type']).toBe('application/json');
      expect(verifies(twin, receiver.url, request)).toBe(true);
      expect(
        Signature.isValid({
          signatureVersion: 'v1',
          requestBody: request.body,
          clientSecret: twin.clientSecret,
          signature: String(request.headers['x-hubspot-signature']),
        }),
      ).toBe(true);

      const events = JSON.parse(request.body) as HubSpotWebhookEvent[];
      expect(events).toEqual([
        {
          eventId: expect.any(Number),
          subscriptionId: expect.any(Number),
          portalId: twin.portalId,
          appId: twin.appId,
          occurredAt: expect.any(Number),
          subscriptionType: 'deal.propertyChange',
          attemptNumber: 0,
          objectId: Number(deal.id),
          changeSource: 'INTEGRATION',
          sourceId: String(twin.appId),
          propertyName: 'dealstage',
          propertyValue: 'closedwon',
        },
        expect.objectContaining({
          objectId: Number(second.id),
          propertyValue: 'closedlost',
          changeSource: 'CRM_UI',
        }),
      ]);
      // A tampered body or another secret must not verify.
      expect(
        verifies(twin, receiver.url, { ...request, body: request.body.replace('closedwon', 'closedlost') }),
      ).toBe(false);
    } finally {
      await twin.close();
      await receiver.close();
    }
  });

  it('retries a batch answered with 500, re-signed with a new timestamp and the next attemptNumber', async () => {
    const receiver = await startReceiver([500, 500, 204]);
    const twin = await startHubSpotTwin({
      port: 0,
      faults: {},
      webhook: { url: receiver.url, retryDelaysMs: [5, 5, 5] },
    });
    try {
      const client = clientFor(twin);
      const deal = await client.crm.deals.basicApi.create({
        properties: { dealname: 'Retry me' },
        associations: [],
      });
      twin.setDealStage(deal.id);
      await twin.idle();

      const stageEvents = receiver.received.map((r) => (JSON.parse(r.body) as HubSpotWebhookEvent[])[0]);
      expect(stageEvents.map((e) => e?.attemptNumber)).toEqual([0, 1, 2]);
      expect(new Set(stageEvents.map((e) => e?.eventId)).size).toBe(1);
      expect(receiver.received.every((r) => verifies(twin, receiver.url, r))).toBe(true);
      expect(twin.deliveries.map((d) => [d.attempt, d.status, d.accepted])).toEqual([
        [1, 500, false],
        [2, 500, false],
        [3, 204, true],
      ]);
    } finally {
      await twin.close();
      await receiver.close();
    }
  });

  it('signs the configured URI with the characters HubSpot decodes decoded', async () => {
    const receiver = await startReceiver([200], '/webhooks/hubspot%3Aportal%2C62515?tenant=a%20b');
    const twin = await startHubSpotTwin({ port: 0, faults: {}, webhook: { url: receiver.url } });
    try {
      const deal = twin.createObject('deals', { dealname: 'Encoded' });
      twin.setDealStage(deal);
      await twin.idle();
      const [request] = receiver.received;
      if (!request) throw new Error('no delivery');
      expect(signatureUri(receiver.url)).toMatch(/\/webhooks\/hubspot:portal,62515\?tenant=a%20b$/);
      expect(verifies(twin, receiver.url, request)).toBe(true);
      expect(
        Signature.isValid({
          signatureVersion: 'v3',
          method: 'POST',
          url: receiver.url,
          requestBody: request.body,
          clientSecret: twin.clientSecret,
          signature: String(request.headers['x-hubspot-signature-v3']),
          timestamp: Number(request.headers['x-hubspot-request-timestamp']),
        }),
      ).toBe(false);
    } finally {
      await twin.close();
      await receiver.close();
    }
  });

  it('sends creation events to a webhook configured after start', async () => {
    const receiver = await startReceiver([200]);
    const twin = await startHubSpotTwin({ port: 0, faults: {} });
    try {
      const client = clientFor(twin);
      await client.crm.deals.basicApi.create({ properties: { dealname: 'Before' }, associations: [] });
      twin.configureWebhook({ url: receiver.url, subscriptions: [{ subscriptionType: 'deal.creation' }] });
      const deal = await client.crm.deals.basicApi.create({
        properties: { dealname: 'After', dealstage: 'closedwon' },
        associations: [],
      });
      await twin.idle();
      const events = receiver.received.flatMap((r) => JSON.parse(r.body) as HubSpotWebhookEvent[]);
      expect(events).toEqual([
        expect.objectContaining({
          subscriptionType: 'deal.creation',
          objectId: Number(deal.id),
          changeFlag: 'CREATED',
          changeSource: 'INTEGRATION',
        }),
      ]);
      expect(events[0]).not.toHaveProperty('propertyName');
    } finally {
      await twin.close();
      await receiver.close();
    }
  });

  it('duplicates and reorders deliveries the same way for the same seed', async () => {
    const run = async (seed: number) => {
      const receiver = await startReceiver([200]);
      const twin = await startHubSpotTwin({
        port: 0,
        faults: { seed, duplicateRate: 0.4, reorderRate: 0.3 },
        webhook: { url: receiver.url, batchWindowMs: 0 },
      });
      try {
        const ids = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) =>
          twin.createObject('deals', { dealname: name }),
        );
        for (const id of ids) {
          twin.setDealStage(id);
          twin.flushWebhooks();
        }
        await twin.idle();
        // Deliveries run concurrently, so compare what was sent, not the order it arrived in.
        const sent = twin.deliveries.map((d) => `${d.id}#${d.copy}`).sort();
        return { sent, batches: twin.webhookBatches.length };
      } finally {
        await twin.close();
        await receiver.close();
      }
    };
    const a = await run(5);
    expect(a.batches).toBe(6);
    expect(a.sent.length).toBeGreaterThan(6);
    expect(await run(5)).toEqual(a);
  });
});
