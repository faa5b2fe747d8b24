import type { CanonicalEvent } from '../../lambdas/domain/events';
import { PermanentError } from '../../lambdas/shared/errors';
import { runSignedWebhook, type SignedWebhookSteps } from '../../lambdas/shared/signed-webhook';
import { invoicePaidEvent } from '../support/canonical-events';

type Payload = { readonly id: string };

/** A webhook whose every step is recorded, so each test can see which steps ran. */
const webhook = (overrides: Partial<SignedWebhookSteps<Payload, Payload>> = {}) => {
  const steps: string[] = [];
  const published: CanonicalEvent[][] = [];
  const event = invoicePaidEvent();
  const base: SignedWebhookSteps<Payload, Payload> = {
    rawBody: Buffer.from('{"id":"evt_1"}'),
    maxBodyBytes: 1024,
    secrets: async () => {
      steps.push('secrets');
      return ['whsec_old', 'whsec_new'];
    },
    secretName: 'stripe signing secret',
    verify: (secrets) => {
      steps.push(`verify:${secrets.length}`);
      return { ok: true, payload: { id: 'evt_1' } };
    },
    map: (payload) => {
      steps.push('map');
      return payload;
    },
    eventsOf: () => [event],
    publisher: {
      publish: async (events) => {
        steps.push('publish');
        published.push([...events]);
      },
    },
  };
  return { steps, published, event, run: () => runSignedWebhook({ ...base, ...overrides }) };
};

describe('the signed-webhook pipeline', () => {
  it('verifies with every secret, maps, publishes the checked events and returns what was mapped', async () => {
    const hook = webhook();
    await expect(hook.run()).resolves.toEqual({ kind: 'mapped', mapped: { id: 'evt_1' } });
    expect(hook.steps).toEqual(['secrets', 'verify:2', 'map', 'publish']);
    expect(hook.published).toEqual([[hook.event]]);
  });

  it('rejects a body over the limit with 413 before reading any secret', async () => {
    const hook = webhook({ rawBody: Buffer.alloc(1025) });
    await expect(hook.run()).resolves.toEqual({
      kind: 'rejected',
      status: 413,
      reason: 'body larger than 1024 bytes',
    });
    expect(hook.steps).toEqual([]);
  });

  it('fails with 503 naming the secret when it cannot be read, so the vendor retries', async () => {
    const cause = new Error('throttled');
    const hook = webhook({
      secrets: async () => {
        throw cause;
      },
    });
    await expect(hook.run()).resolves.toEqual({
      kind: 'failed',
      status: 503,
      reason: 'stripe signing secret unavailable',
      error: cause,
    });
  });

  it('rejects a bad signature with 400 and maps nothing', async () => {
    const hook = webhook({ verify: () => ({ ok: false, reason: 'no signature matches' }) });
    await expect(hook.run()).resolves.toEqual({
      kind: 'rejected',
      status: 400,
      reason: 'no signature matches',
    });
    expect(hook.steps).toEqual(['secrets']);
  });

  it('rejects a payload the mapper calls malformed with 400 and publishes nothing', async () => {
    const hook = webhook({
      map: () => {
        throw new PermanentError('data.object.customer is missing', { code: 'MalformedPayload' });
      },
    });
    await expect(hook.run()).resolves.toEqual({
      kind: 'rejected',
      status: 400,
      reason: 'data.object.customer is missing',
    });
    expect(hook.published).toEqual([]);
  });

  it('rejects with 400 an event that maps to an invalid canonical event', async () => {
    const broken = { ...invoicePaidEvent(), occurredAt: 'yesterday' } as CanonicalEvent;
    const hook = webhook({ eventsOf: () => [broken] });
    const answer = await hook.run();
    expect(answer).toMatchObject({ kind: 'rejected', status: 400 });
    expect((answer as { reason: string }).reason).toMatch(
      /^payload maps to an invalid billing\.invoice\.paid event: /,
    );
    expect(hook.published).toEqual([]);
  });

  it('lets a mapper bug that is not a PermanentError escape, so it is not hidden as a 400', async () => {
    const hook = webhook({
      map: () => {
        throw new TypeError('cannot read properties of undefined');
      },
    });
    await expect(hook.run()).rejects.toThrow(TypeError);
  });

  it('fails with 503 when publishing fails, so the vendor sends it again', async () => {
    const cause = new Error('PutEvents failed');
    const hook = webhook({
      publisher: {
        publish: async () => {
          throw cause;
        },
      },
    });
    await expect(hook.run()).resolves.toEqual({
      kind: 'failed',
      status: 503,
      reason: 'could not publish, retry later',
      error: cause,
    });
  });

  it('answers mapped without publishing when the payload carries no event', async () => {
    const hook = webhook({ eventsOf: () => [] });
    await expect(hook.run()).resolves.toEqual({ kind: 'mapped', mapped: { id: 'evt_1' } });
    expect(hook.steps).toEqual(['secrets', 'verify:2', 'map']);
  });
});
