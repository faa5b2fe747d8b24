import type { ConcurrencyLeases } from '../../lambdas/adapters/aws/concurrency-leases';
import { NetSuiteClient } from '../../lambdas/adapters/netsuite/client';
import { PermanentError, TransientError } from '../../lambdas/shared/errors';

const credentials = async () => ({
  accountId: 'TSTDRV1',
  consumerKey: 'ck',
  consumerSecret: 'cs',
  tokenId: 'tk',
  tokenSecret: 'ts',
});

const clientAnswering = (respond: (url: string, init: RequestInit) => Response | Promise<Response>) => {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return respond(url, init);
  }) as unknown as typeof fetch;
  return {
    calls,
    client: new NetSuiteClient({ baseUrl: 'https://tstdrv1.example', credentials, fetchImpl }),
  };
};

const errorBody = (code: string, detail: string) =>
  JSON.stringify({ title: 'Bad Request', status: 400, 'o:errorDetails': [{ detail, 'o:errorCode': code }] });

describe('NetSuite REST client', () => {
  it('upserts by external id with a signed OAuth 1.0a HMAC-SHA256 header and returns the id from Location', async () => {
    const { calls, client } = clientAnswering(
      () =>
        new Response(null, {
          status: 204,
          headers: { location: 'https://tstdrv1.example/services/rest/record/v1/invoice/981' },
        }),
    );
    await expect(client.upsert('invoice', 'in_1', { externalId: 'in_1' })).resolves.toBe('981');
    expect(calls[0]?.url).toBe('https://tstdrv1.example/services/rest/record/v1/invoice/eid:in_1');
    expect(calls[0]?.init.method).toBe('PUT');
    const auth = ((calls[0]?.init.headers ?? {}) as Record<string, string>).authorization;
    expect(auth).toMatch(/^OAuth realm="TSTDRV1"/);
    expect(auth).toContain('oauth_signature_method="HMAC-SHA256"');
    expect(auth).toContain('oauth_token="tk"');
  });

  it('classifies 429 as transient and keeps Retry-After', async () => {
    const { client } = clientAnswering(
      () =>
        new Response(errorBody('CONCURRENCY_LIMIT_EXCEEDED', 'too many'), {
          status: 429,
          headers: { 'retry-after': '7' },
        }),
    );
    const error = await client.upsert('invoice', 'in_1', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'CONCURRENCY_LIMIT_EXCEEDED', retryAfterSeconds: 7, status: 429 });
  });

  it('classifies a governance error code as transient even on a 400', async () => {
    const { client } = clientAnswering(
      () => new Response(errorBody('CONCURRENCY_LIMIT_EXCEEDED', 'limit'), { status: 400 }),
    );
    await expect(client.upsert('invoice', 'in_1', {})).rejects.toBeInstanceOf(TransientError);
  });

  it('classifies 5xx and network failures as transient', async () => {
    const { client } = clientAnswering(() => new Response('gateway', { status: 502 }));
    await expect(client.upsert('invoice', 'in_1', {})).rejects.toBeInstanceOf(TransientError);
    const broken = clientAnswering(() => {
      throw new TypeError('fetch failed');
    });
    await expect(broken.client.upsert('invoice', 'in_1', {})).rejects.toMatchObject({
      name: 'TransientError',
      code: 'NetworkError',
    });
  });

  it('classifies other 4xx as permanent with NetSuite’s error code and detail', async () => {
    const { client } = clientAnswering(
      () => new Response(errorBody('INVALID_VALUE', 'Invalid subsidiary'), { status: 400 }),
    );
    const error = await client.upsert('invoice', 'in_1', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error).toMatchObject({ code: 'INVALID_VALUE', status: 400 });
    expect((error as Error).message).toContain('Invalid subsidiary');
  });

  it('returns null for a record that does not exist', async () => {
    const { client } = clientAnswering(
      () => new Response(errorBody('NONEXISTENT_ID', 'not found'), { status: 404 }),
    );
    await expect(client.getByExternalId('customer', 'cus_1')).resolves.toBeNull();
  });
});

describe('NetSuite REST client under the account concurrency leases', () => {
  const leasesThat = (outcome: 'grant' | 'refuse', log: string[]): ConcurrencyLeases => ({
    async acquire(_deadlineMs, leaseMs) {
      log.push(`acquire (lasts ${leaseMs} ms if never given back)`);
      if (outcome === 'refuse') {
        throw new TransientError('all 10 netsuite leases are in use', { code: 'LeaseUnavailable' });
      }
      return async () => {
        log.push('release');
      };
    },
  });
  const clientWith = (leases: ConcurrencyLeases, log: string[], status: number) =>
    new NetSuiteClient({
      baseUrl: 'https://tstdrv1.example',
      credentials,
      timeoutMs: 10_000,
      leases,
      fetchImpl: (async () => {
        log.push('request');
        return new Response(status === 204 ? null : errorBody('UNEXPECTED_ERROR', 'down'), {
          status,
          headers: { location: 'https://tstdrv1.example/services/rest/record/v1/invoice/981' },
        });
      }) as unknown as typeof fetch,
    });

  it('holds a lease while each request is in flight and gives it back after', async () => {
    const log: string[] = [];
    await clientWith(leasesThat('grant', log), log, 204).upsert('invoice', 'in_1', {});
    expect(log).toEqual(['acquire (lasts 40000 ms if never given back)', 'request', 'release']);
  });

  it('gives the lease back when NetSuite fails', async () => {
    const log: string[] = [];
    await expect(
      clientWith(leasesThat('grant', log), log, 503).upsert('invoice', 'in_1', {}),
    ).rejects.toMatchObject({
      name: 'TransientError',
      status: 503,
    });
    expect(log).toEqual(['acquire (lasts 40000 ms if never given back)', 'request', 'release']);
  });

  it('sends nothing and fails retryably when no lease comes in time', async () => {
    const log: string[] = [];
    await expect(
      clientWith(leasesThat('refuse', log), log, 204).upsert('invoice', 'in_1', {}),
    ).rejects.toMatchObject({
      name: 'TransientError',
      code: 'LeaseUnavailable',
    });
    expect(log).toEqual(['acquire (lasts 40000 ms if never given back)']);
  });

  it('shares one lease among the requests of a sharingLease scope, up to requestsPerLease, and gives it back at the end', async () => {
    const log: string[] = [];
    let taken = 0;
    const leases: ConcurrencyLeases = {
      async acquire() {
        const lease = ++taken;
        log.push(`acquire ${lease}`);
        return async () => {
          log.push(`release ${lease}`);
        };
      },
    };
    const client = new NetSuiteClient({
      baseUrl: 'https://tstdrv1.example',
      credentials,
      leases,
      requestsPerLease: 3,
      fetchImpl: (async () => {
        log.push('request');
        return new Response(null, {
          status: 204,
          headers: { location: 'https://tstdrv1.example/services/rest/record/v1/invoice/981' },
        });
      }) as unknown as typeof fetch,
    });
    await client.sharingLease(async () => {
      for (let n = 1; n <= 4; n += 1) await client.upsert('invoice', `in_${n}`, {});
    });
    expect(log).toEqual([
      'acquire 1',
      'request',
      'request',
      'request',
      'release 1',
      'acquire 2',
      'request',
      'release 2',
    ]);
  });

  it('takes a lease of its own for a request made while the shared one is in flight, so the limit holds', async () => {
    let held = 0;
    let most = 0;
    const leases: ConcurrencyLeases = {
      async acquire() {
        held += 1;
        return async () => {
          held -= 1;
        };
      },
    };
    let inFlight = 0;
    const client = new NetSuiteClient({
      baseUrl: 'https://tstdrv1.example',
      credentials,
      leases,
      fetchImpl: (async () => {
        inFlight += 1;
        // Every request in flight is covered by a lease of its own.
        most = Math.max(most, inFlight);
        expect(held).toBeGreaterThanOrEqual(inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
        return new Response(null, {
          status: 204,
          headers: { location: 'https://tstdrv1.example/services/rest/record/v1/invoice/981' },
        });
      }) as unknown as typeof fetch,
    });
    await client.sharingLease(() =>
      Promise.all([1, 2, 3].map((n) => client.upsert('invoice', `in_${n}`, {}))),
    );
    expect(most).toBe(3);
    expect(held).toBe(0);
  });

  it('does not reuse a held lease that could expire before the request times out', async () => {
    const log: string[] = [];
    let now = 1_000_000;
    const realNow = Date.now;
    Date.now = () => now;
    try {
      const leases: ConcurrencyLeases = {
        async acquire(_deadline, leaseMs) {
          log.push(`acquire for ${leaseMs} ms`);
          return async () => {
            log.push('release');
          };
        },
      };
      const client = new NetSuiteClient({
        baseUrl: 'https://tstdrv1.example',
        credentials,
        timeoutMs: 10_000,
        leases,
        fetchImpl: (async () => {
          log.push('request');
          // A slow answer: 30 s of the lease's 40 gone, less left than a request's 10 s timeout + 5 s.
          now += 30_000;
          return new Response(null, {
            status: 204,
            headers: { location: 'https://tstdrv1.example/services/rest/record/v1/invoice/981' },
          });
        }) as unknown as typeof fetch,
      });
      await client.sharingLease(async () => {
        await client.upsert('invoice', 'in_1', {});
        await client.upsert('invoice', 'in_2', {});
      });
    } finally {
      Date.now = realNow;
    }
    expect(log).toEqual([
      'acquire for 40000 ms',
      'request',
      'release',
      'acquire for 40000 ms',
      'request',
      'release',
    ]);
  });
});
