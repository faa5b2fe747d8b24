import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { dynamoConcurrencyLeases } from '../../lambdas/adapters/aws/concurrency-leases';

// The leases against DynamoDB's protocol (dynalite), as the functions use them on AWS.
const server = dynalite({ createTableMs: 0 });
let documents: DynamoDBDocumentClient;
const TABLE = 'leases';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  documents = DynamoDBDocumentClient.from(client);
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const holdersOf = async (resource: string) =>
  Object.keys(
    ((await documents.send(new GetCommand({ TableName: TABLE, Key: { pk: resource } }))).Item?.holders ??
      {}) as object,
  );

describe('concurrency leases in DynamoDB', () => {
  it('hands out at most the limit, then refuses with a retryable error once the deadline passes', async () => {
    const leases = dynamoConcurrencyLeases(documents, TABLE, { resource: 'full', limit: 3, leaseMs: 60_000 });
    const held = await Promise.all([1, 2, 3].map(() => leases.acquire(Date.now())));
    expect(await holdersOf('full')).toHaveLength(3);
    await expect(leases.acquire(Date.now() + 50)).rejects.toMatchObject({
      name: 'TransientError',
      code: 'LeaseUnavailable',
      message: 'all 3 full leases are in use',
    });
    await Promise.all(held.map((release) => release()));
    expect(await holdersOf('full')).toEqual([]);
  });

  it('gives a waiting caller the lease another one gives back', async () => {
    const leases = dynamoConcurrencyLeases(documents, TABLE, {
      resource: 'handover',
      limit: 1,
      leaseMs: 60_000,
    });
    const first = await leases.acquire(Date.now());
    const waiting = leases.acquire(Date.now() + 10_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await first();
    const second = await waiting;
    expect(await holdersOf('handover')).toHaveLength(1);
    await second();
  });

  it('takes back a lease whose holder died without giving it back, once it expired', async () => {
    let clock = 1_000_000;
    const leases = dynamoConcurrencyLeases(documents, TABLE, {
      resource: 'crashed',
      limit: 1,
      leaseMs: 60_000,
      now: () => clock,
      sleep: async () => {},
    });
    await leases.acquire(clock); // never released: its environment was killed
    await expect(leases.acquire(clock)).rejects.toMatchObject({ code: 'LeaseUnavailable' });
    clock += 60_001;
    const release = await leases.acquire(clock);
    expect(await holdersOf('crashed')).toHaveLength(1);
    await release();
  });

  it('never lets more than the limit hold at once among many concurrent callers, and serves them all', async () => {
    const limit = 4;
    const leases = dynamoConcurrencyLeases(documents, TABLE, {
      resource: 'contended',
      limit,
      leaseMs: 60_000,
    });
    let holding = 0;
    let most = 0;
    let served = 0;
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        const release = await leases.acquire(Date.now() + 20_000);
        holding += 1;
        most = Math.max(most, holding);
        await new Promise((resolve) => setTimeout(resolve, 5));
        holding -= 1;
        served += 1;
        await release();
      }),
    );
    expect(served).toBe(24);
    expect(most).toBeLessThanOrEqual(limit);
    expect(most).toBeGreaterThan(0);
    expect(await holdersOf('contended')).toEqual([]);
  });
});
