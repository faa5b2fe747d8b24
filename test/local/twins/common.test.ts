import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type FaultConfig,
  FaultInjector,
  faultsFromEnv,
  IdGenerator,
  startTwinServer,
  type TwinServer,
  WebhookSender,
} from '../../../local/twins/common';

const kinds = (faults: FaultInjector, n: number) =>
  Array.from({ length: n }, () => faults.nextRequestFault().kind);

describe('FaultInjector', () => {
  const config: FaultConfig = {
    seed: 42,
    errorRate: 0.2,
    timeoutRate: 0.1,
    throttle: { rate: 0.1, burst: 3, retryAfterSeconds: 2 },
    latencyMs: { min: 5, max: 50 },
  };

  it('gives the same faults for the same seed and sequence of calls', () => {
    const a = new FaultInjector(config);
    const b = new FaultInjector(config);
    const seqA = Array.from({ length: 200 }, () => a.nextRequestFault());
    const seqB = Array.from({ length: 200 }, () => b.nextRequestFault());
    expect(seqA).toEqual(seqB);
    expect(new Set(seqA.map((f) => f.kind))).toEqual(new Set(['none', 'error', 'throttle', 'timeout']));
    expect(seqA.every((f) => f.latencyMs >= 5 && f.latencyMs <= 50)).toBe(true);
  });

  it('gives different faults for a different seed', () => {
    expect(kinds(new FaultInjector(config), 100)).not.toEqual(
      kinds(new FaultInjector({ ...config, seed: 43 }), 100),
    );
  });

  it('re-seeds on set, so a run after set replays from the start', () => {
    const faults = new FaultInjector(config);
    const first = kinds(faults, 50);
    faults.set(config);
    expect(kinds(faults, 50)).toEqual(first);
  });

  it('injects nothing by default', () => {
    const faults = new FaultInjector();
    expect(Array.from({ length: 100 }, () => faults.nextRequestFault())).toEqual(
      Array.from({ length: 100 }, () => ({ kind: 'none', latencyMs: 0 })),
    );
    expect(faults.nextDeliveryFault()).toEqual({ duplicate: false, reorder: false, delayMs: 0 });
  });

  it('throttles in bursts of the configured length, each with its Retry-After', () => {
    const faults = new FaultInjector({ seed: 7, throttle: { rate: 0.05, burst: 4, retryAfterSeconds: 3 } });
    const seq = Array.from({ length: 2000 }, () => faults.nextRequestFault());
    const runs: number[] = [];
    let run = 0;
    for (const f of seq) {
      if (f.kind === 'throttle') {
        expect(f.retryAfterSeconds).toBe(3);
        run++;
      } else if (run > 0) {
        runs.push(run);
        run = 0;
      }
    }
    expect(runs.length).toBeGreaterThan(0);
    // A new burst may start right after one ends, so runs are whole multiples of the burst.
    expect(runs.every((r) => r % 4 === 0)).toBe(true);
  });
});

describe('faultsFromEnv', () => {
  it('reads TWIN_FAULTS_<VENDOR> as JSON', () => {
    expect(faultsFromEnv('netsuite', { TWIN_FAULTS_NETSUITE: '{"seed":3,"errorRate":0.5}' })).toEqual({
      seed: 3,
      errorRate: 0.5,
    });
    expect(faultsFromEnv('stripe', {})).toEqual({});
  });

  it('names the variable and the field when the config is invalid', () => {
    expect(() => faultsFromEnv('stripe', { TWIN_FAULTS_STRIPE: '{"errorRate":2}' })).toThrow(
      /TWIN_FAULTS_STRIPE .*errorRate: must be <= 1/,
    );
    expect(() => faultsFromEnv('stripe', { TWIN_FAULTS_STRIPE: '{"throttle":{"rate":0.1}}' })).toThrow(
      /TWIN_FAULTS_STRIPE .*throttle\.burst/,
    );
    expect(() => faultsFromEnv('hubspot', { TWIN_FAULTS_HUBSPOT: '{"eror":1}' })).toThrow(
      /TWIN_FAULTS_HUBSPOT .*unknown field\(s\) eror/,
    );
    expect(() => faultsFromEnv('hubspot', { TWIN_FAULTS_HUBSPOT: 'nope' })).toThrow(
      /TWIN_FAULTS_HUBSPOT is not valid JSON/,
    );
  });
});

describe('IdGenerator', () => {
  it('reproduces ids from a seed', () => {
    const a = new IdGenerator(9);
    const b = new IdGenerator(9);
    const idsA = [
      a.next('cus_', 14),
      a.uuid(),
      a.hex(8),
      a.sequence('customer', 100),
      a.sequence('customer', 100),
    ];
    expect([
      b.next('cus_', 14),
      b.uuid(),
      b.hex(8),
      b.sequence('customer', 100),
      b.sequence('customer', 100),
    ]).toEqual(idsA);
    expect(idsA[0]).toMatch(/^cus_[A-Za-z0-9]{14}$/);
    expect(idsA[1]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idsA.slice(3)).toEqual([100, 101]);
    expect(new IdGenerator(10).next('cus_', 14)).not.toEqual(idsA[0]);
  });
});

describe('startTwinServer', () => {
  let twin: TwinServer;
  let faults: FaultInjector;
  let handled = 0;

  beforeEach(async () => {
    handled = 0;
    faults = new FaultInjector();
    twin = await startTwinServer({
      name: 'test',
      faults,
      maxBodyBytes: 64,
      handler: async (req) => {
        handled++;
        return { status: 200, body: { path: req.path, q: req.query.get('q'), url: req.url } };
      },
      vendorError: (status) => ({ status, body: { vendor: 'shape', status } }),
    });
  });
  afterEach(() => twin.close());

  it('passes requests to the handler with the URL the client addressed', async () => {
    const res = await fetch(`${twin.url}/v1/things?q=1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ path: '/v1/things', q: '1', url: `${twin.url}/v1/things?q=1` });
  });

  it('answers 429 bursts with Retry-After in the vendor shape, without calling the handler', async () => {
    faults.set({ throttle: { rate: 1, burst: 2, retryAfterSeconds: 7 } });
    const res = await fetch(`${twin.url}/v1/things`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toEqual({ vendor: 'shape', status: 429 });
    expect(handled).toBe(0);
  });

  it('changes faults at run time through the control endpoint', async () => {
    expect(await (await fetch(`${twin.url}/_twin/faults`)).json()).toEqual({});
    const put = await fetch(`${twin.url}/_twin/faults`, {
      method: 'PUT',
      body: JSON.stringify({ seed: 5, errorRate: 1 }),
    });
    expect(put.status).toBe(200);
    expect(faults.config).toEqual({ seed: 5, errorRate: 1 });
    const res = await fetch(`${twin.url}/v1/things`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ vendor: 'shape', status: 503 });
    // Control and health endpoints never see faults.
    expect((await fetch(`${twin.url}/_twin/health`)).status).toBe(200);
    await fetch(`${twin.url}/_twin/faults`, { method: 'PUT', body: '{}' });
    expect((await fetch(`${twin.url}/v1/things`)).status).toBe(200);
  });

  it('rejects an invalid fault config on the control endpoint with the field named', async () => {
    const res = await fetch(`${twin.url}/_twin/faults`, { method: 'PUT', body: '{"timeoutRate":-1}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/timeoutRate: must be >= 0/);
  });

  it('holds a request and then drops the connection on an injected timeout', async () => {
    faults.set({ timeoutRate: 1, timeoutMs: 20 });
    await expect(fetch(`${twin.url}/v1/things`)).rejects.toThrow();
    expect(handled).toBe(0);
  });

  it('rejects bodies over the limit', async () => {
    const res = await fetch(`${twin.url}/v1/things`, { method: 'POST', body: 'x'.repeat(100) });
    expect(res.status).toBe(413);
  });

  it('closes without waiting for keep-alive sockets or held requests', async () => {
    faults.set({ timeoutRate: 1, timeoutMs: 60_000 });
    const pending = fetch(`${twin.url}/v1/things`);
    // The server exposes no hook for "request received"; a short wait lets the request reach it.
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await twin.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
  });
});

describe('WebhookSender', () => {
  let receiver: Server;
  let receiverUrl: string;
  let received: Array<{ id: string; body: string; signature: string | undefined }>;
  let answer: (n: number) => number;

  beforeAll(async () => {
    receiver = createServer(async (req: IncomingMessage, res) => {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      received.push({
        id: String(req.headers['x-event-id']),
        body,
        signature: req.headers['x-signature'] as string | undefined,
      });
      res.writeHead(answer(received.length));
      res.end('ok');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
  });
  beforeEach(() => {
    received = [];
    answer = () => 200;
  });

  const delivery = (id: string) => ({
    url: receiverUrl,
    id,
    body: JSON.stringify({ id }),
    headers: { 'content-type': 'application/json', 'x-event-id': id, 'x-signature': `sig-${id}` },
  });

  it('sends body and headers as given and counts a 2xx as accepted', async () => {
    const sender = new WebhookSender({ faults: new FaultInjector() });
    sender.send(delivery('evt_1'));
    await sender.idle();
    expect(received).toEqual([{ id: 'evt_1', body: '{"id":"evt_1"}', signature: 'sig-evt_1' }]);
    expect(sender.log).toEqual([
      expect.objectContaining({ id: 'evt_1', attempt: 1, status: 200, accepted: true }),
    ]);
  });

  it('retries until a 2xx', async () => {
    answer = (n) => (n < 3 ? 500 : 204);
    const sender = new WebhookSender({ faults: new FaultInjector(), retryDelaysMs: [1, 1, 1, 1] });
    sender.send(delivery('evt_2'));
    await sender.idle();
    expect(sender.log.map((a) => [a.attempt, a.status, a.accepted])).toEqual([
      [1, 500, false],
      [2, 500, false],
      [3, 204, true],
    ]);
  });

  it('gives up after the schedule', async () => {
    answer = () => 503;
    const sender = new WebhookSender({ faults: new FaultInjector(), retryDelaysMs: [1, 2] });
    sender.send(delivery('evt_3'));
    await sender.idle();
    expect(received).toHaveLength(3);
    expect(sender.log.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(sender.log.at(-1)?.gaveUp).toBe(true);
  });

  it('retries an unreachable receiver and records the error', async () => {
    const sender = new WebhookSender({ faults: new FaultInjector(), retryDelaysMs: [1] });
    sender.send({ ...delivery('evt_4'), url: 'http://127.0.0.1:1/hook' });
    await sender.idle();
    expect(sender.log).toHaveLength(2);
    expect(sender.log.every((a) => !a.accepted && typeof a.error === 'string')).toBe(true);
  });

  it('lets a delivery decide acceptance from the body (a 200 without an Ack is retried)', async () => {
    const sender = new WebhookSender({ faults: new FaultInjector(), retryDelaysMs: [1] });
    sender.send({ ...delivery('evt_5'), accept: (_status, body) => body.includes('<Ack>true</Ack>') });
    await sender.idle();
    expect(sender.log.map((a) => [a.status, a.accepted])).toEqual([
      [200, false],
      [200, false],
    ]);
  });

  it('duplicates and reorders deliveries per the seeded config, reproducibly', async () => {
    const run = async (seed: number) => {
      const calls: string[] = [];
      const fetchImpl = (async (_url: string | URL | Request, init?: RequestInit) => {
        calls.push(String(((init?.headers ?? {}) as Record<string, string>)['x-event-id']));
        return new Response('ok', { status: 200 });
      }) as typeof fetch;
      const sender = new WebhookSender({
        faults: new FaultInjector({ seed, duplicateRate: 0.3, reorderRate: 0.3 }),
        fetchImpl,
      });
      for (let i = 1; i <= 30; i++) sender.send(delivery(`e${i}`));
      await sender.idle();
      return calls;
    };
    const calls = await run(11);
    expect(await run(11)).toEqual(calls);
    expect(await run(12)).not.toEqual(calls);
    const ids = Array.from({ length: 30 }, (_, i) => `e${i + 1}`);
    // Every event arrives at least once, some twice, and not in the order sent.
    expect(new Set(calls)).toEqual(new Set(ids));
    expect(calls.length).toBeGreaterThan(30);
    const firstSeen = calls.filter((id, i) => calls.indexOf(id) === i);
    expect(firstSeen).not.toEqual(ids);
  });

  it('swaps a held delivery with the next one', async () => {
    const sender = new WebhookSender({ faults: new FaultInjector({ reorderRate: 1 }) });
    for (const id of ['a', 'b', 'c', 'd']) sender.send(delivery(id));
    await sender.idle();
    expect(sender.log.map((a) => a.id)).toEqual(['b', 'a', 'd', 'c']);
  });

  it('delays deliveries within the configured range and stops on close', async () => {
    const sender = new WebhookSender({
      faults: new FaultInjector({ deliveryDelayMs: { min: 10_000, max: 20_000 } }),
    });
    sender.send(delivery('late'));
    sender.close();
    await sender.idle();
    expect(received).toHaveLength(0);
  });
});
