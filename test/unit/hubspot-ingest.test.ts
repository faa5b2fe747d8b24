import { Signature } from '@hubspot/api-client';
import type { EventPublisher } from '../../lambdas/adapters/aws/event-publisher';
import type { CanonicalEvent } from '../../lambdas/domain/events';
import {
  type IngestDeps,
  type IngestRequest,
  ingestHubSpotWebhook,
} from '../../lambdas/ingest-hubspot/logic';
import { clientSecretSchema } from '../../lambdas/ingest-hubspot/schema';
import { TransientError } from '../../lambdas/shared/errors';
import { vendorJson } from '../support/fixtures';

const SECRET = 'hubspot-ingest-test-secret';
const URI = 'https://hooks.example.com/webhooks/hubspot';
const NOW = 1_722_418_600_000;

const [contactCreation] = vendorJson<Record<string, unknown>[]>(
  'hubspot/webhook-batch-contact.creation.signature-v1-example.json',
);
const dealWon = (eventId: number, objectId: number) => ({
  ...contactCreation,
  eventId,
  subscriptionType: 'deal.propertyChange',
  objectId,
  propertyName: 'dealstage',
  propertyValue: 'closedwon',
  occurredAt: NOW - 2000,
});

/** A request signed by the official package, as HubSpot would send it. */
const signed = (batch: unknown, timestampMs = NOW): IngestRequest => {
  const payload = JSON.stringify(batch);
  return {
    method: 'POST',
    uri: URI,
    rawBody: Buffer.from(payload),
    signature: Signature.getSignature('POST', 'v3', {
      signature: '',
      clientSecret: SECRET,
      requestBody: payload,
      url: URI,
      timestamp: timestampMs,
    }),
    timestamp: String(timestampMs),
  };
};

const recordingPublisher = (fail = false) => {
  const published: CanonicalEvent[] = [];
  const publisher: EventPublisher = {
    async publish(events) {
      if (fail) throw new TransientError('PutEvents failed', { code: 'PublishFailed' });
      published.push(...events);
    },
  };
  return { published, publisher };
};

const deps = (publisher: EventPublisher, overrides: Partial<IngestDeps> = {}): IngestDeps => ({
  clientSecrets: async () => [SECRET],
  publisher,
  wonStages: ['closedwon'],
  maxBodyBytes: 256 * 1024,
  nowMs: () => NOW,
  ...overrides,
});

describe('HubSpot webhook ingestion', () => {
  it('publishes every won deal of the batch and only then answers 200', async () => {
    const { published, publisher } = recordingPublisher();
    const outcome = await ingestHubSpotWebhook(
      signed([dealWon(1, 11), contactCreation, dealWon(2, 12)]),
      deps(publisher),
    );
    expect(outcome).toMatchObject({ kind: 'accepted', status: 200, events: 3, ignored: 1 });
    expect(published.map((event) => event.source.eventId)).toEqual(['1', '2']);
  });

  it('does not answer until the publish has completed', async () => {
    const order: string[] = [];
    let release: () => void = () => undefined;
    const publisher: EventPublisher = {
      publish: () => {
        order.push('publish started');
        return new Promise<void>((resolve) => {
          release = () => {
            order.push('publish done');
            resolve();
          };
        });
      },
    };
    const pending = ingestHubSpotWebhook(signed([dealWon(1, 11)]), deps(publisher)).then((outcome) => {
      order.push(`answered ${outcome.status}`);
      return outcome;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['publish started']);
    release();
    await pending;
    expect(order).toEqual(['publish started', 'publish done', 'answered 200']);
  });

  it('answers 503 when publishing fails, so HubSpot retries and nothing is lost', async () => {
    const { publisher } = recordingPublisher(true);
    const outcome = await ingestHubSpotWebhook(signed([dealWon(1, 11)]), deps(publisher));
    expect(outcome).toMatchObject({ kind: 'failed', status: 503 });
  });

  it('answers 503 when the client secret cannot be read', async () => {
    const { published, publisher } = recordingPublisher();
    const outcome = await ingestHubSpotWebhook(
      signed([dealWon(1, 11)]),
      deps(publisher, {
        clientSecrets: async () => {
          throw new TransientError('no secret', { code: 'SecretUnavailable' });
        },
      }),
    );
    expect(outcome).toMatchObject({ kind: 'failed', status: 503 });
    expect(published).toHaveLength(0);
  });

  it('acknowledges HubSpot’s contact.creation example with 200 and publishes nothing', async () => {
    const { published, publisher } = recordingPublisher();
    const outcome = await ingestHubSpotWebhook(signed([contactCreation]), deps(publisher));
    expect(outcome).toMatchObject({ kind: 'accepted', status: 200, published: [], ignored: 1 });
    expect(published).toHaveLength(0);
  });

  it.each([
    ['a bad signature', { signature: 'AAAA' }],
    ['a tampered body', { rawBody: Buffer.from(JSON.stringify([dealWon(1, 99)])) }],
    ['another URI', { uri: 'https://hooks.example.com/webhooks/other' }],
    ['a missing timestamp', { timestamp: undefined }],
  ])('rejects %s with 400 and publishes nothing', async (_what, tamper) => {
    const { published, publisher } = recordingPublisher();
    const outcome = await ingestHubSpotWebhook({ ...signed([dealWon(1, 11)]), ...tamper }, deps(publisher));
    expect(outcome).toMatchObject({ kind: 'rejected', status: 400 });
    expect(published).toHaveLength(0);
  });

  it('rejects a stale delivery with 400 and publishes nothing', async () => {
    const { published, publisher } = recordingPublisher();
    const outcome = await ingestHubSpotWebhook(signed([dealWon(1, 11)], NOW - 301_000), deps(publisher));
    expect(outcome).toMatchObject({
      kind: 'rejected',
      status: 400,
      reason: 'signature timestamp outside the tolerance window',
    });
    expect(published).toHaveLength(0);
  });

  it('rejects a signed batch of more than 100 events with 400', async () => {
    const { published, publisher } = recordingPublisher();
    const batch = Array.from({ length: 101 }, (_, i) => dealWon(i + 1, i + 1));
    const outcome = await ingestHubSpotWebhook(signed(batch), deps(publisher));
    expect(outcome).toMatchObject({ kind: 'rejected', status: 400 });
    expect(published).toHaveLength(0);
  });

  it('rejects a signed batch with a malformed won event with 400 naming the field, publishing nothing', async () => {
    const { published, publisher } = recordingPublisher();
    const outcome = await ingestHubSpotWebhook(
      signed([dealWon(1, 11), { ...dealWon(2, 12), objectId: 'twelve' }]),
      deps(publisher),
    );
    expect(outcome).toMatchObject({ kind: 'rejected', status: 400 });
    expect(outcome.kind === 'rejected' && outcome.reason).toMatch(/events\.1\.objectId/);
    expect(published).toHaveLength(0);
  });

  it('rejects an oversized body with 413 before reading the secret', async () => {
    const { publisher } = recordingPublisher();
    const clientSecrets = jest.fn(async () => [SECRET]);
    const outcome = await ingestHubSpotWebhook(
      signed([dealWon(1, 11)]),
      deps(publisher, { maxBodyBytes: 10, clientSecrets }),
    );
    expect(outcome).toMatchObject({ kind: 'rejected', status: 413 });
    expect(clientSecrets).not.toHaveBeenCalled();
  });
});

describe('HubSpot client secret value', () => {
  it('accepts the secret itself or a list during rotation', () => {
    expect(clientSecretSchema.parse(SECRET)).toEqual([SECRET]);
    expect(clientSecretSchema.parse({ clientSecrets: [SECRET, 'the-old-secret'] })).toEqual([
      SECRET,
      'the-old-secret',
    ]);
  });

  it('refuses an empty or missing secret', () => {
    expect(clientSecretSchema.safeParse('').success).toBe(false);
    expect(clientSecretSchema.safeParse({ clientSecrets: [] }).success).toBe(false);
  });
});
