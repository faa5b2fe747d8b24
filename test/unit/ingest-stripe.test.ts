import Stripe from 'stripe';
import type { EventPublisher } from '../../lambdas/adapters/aws/event-publisher';
import type { CanonicalEvent } from '../../lambdas/domain/events';
import { type IngestDeps, ingestStripeWebhook } from '../../lambdas/ingest-stripe/logic';
import { webhookSecretSchema } from '../../lambdas/ingest-stripe/schema';
import { TransientError } from '../../lambdas/shared/errors';
import { stripeEventFor, vendorJson } from '../support/fixtures';

const SECRET = 'whsec_ingest_test';

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
  webhookSecrets: async () => [SECRET],
  publisher,
  account: 'acct_test',
  maxBodyBytes: 256 * 1024,
  ...overrides,
});

const signed = (event: unknown) => {
  const payload = JSON.stringify(event, null, 2);
  return {
    rawBody: Buffer.from(payload),
    signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }),
  };
};

const invoiceEvent = stripeEventFor(
  'invoice.finalized',
  vendorJson('stripe/resources/invoice.json'),
  'evt_ingest_1',
);

describe('Stripe webhook ingestion', () => {
  it('publishes the canonical event and only then answers 200', async () => {
    const { published, publisher } = recordingPublisher();
    const outcome = await ingestStripeWebhook(signed(invoiceEvent), deps(publisher));
    expect(outcome).toMatchObject({ kind: 'published', status: 200, type: 'billing.invoice.finalized' });
    expect(published).toHaveLength(1);
    expect(published[0]?.source.eventId).toBe('evt_ingest_1');
  });

  it('answers 503 when publishing fails, so Stripe retries and nothing is lost', async () => {
    const { publisher } = recordingPublisher(true);
    const outcome = await ingestStripeWebhook(signed(invoiceEvent), deps(publisher));
    expect(outcome).toMatchObject({ kind: 'failed', status: 503 });
  });

  it('answers 503 when the webhook secret cannot be read', async () => {
    const { published, publisher } = recordingPublisher();
    const outcome = await ingestStripeWebhook(
      signed(invoiceEvent),
      deps(publisher, {
        webhookSecrets: async () => {
          throw new TransientError('no secret', { code: 'SecretUnavailable' });
        },
      }),
    );
    expect(outcome).toMatchObject({ kind: 'failed', status: 503 });
    expect(published).toHaveLength(0);
  });

  it('rejects a bad signature with 400 and publishes nothing', async () => {
    const { published, publisher } = recordingPublisher();
    const request = { ...signed(invoiceEvent), signature: 't=1,v1=00' };
    const outcome = await ingestStripeWebhook(request, deps(publisher));
    expect(outcome).toMatchObject({ kind: 'rejected', status: 400 });
    expect(published).toHaveLength(0);
  });

  it('rejects an oversized body with 413 before reading the secret', async () => {
    const { publisher } = recordingPublisher();
    const webhookSecrets = jest.fn(async () => [SECRET]);
    const outcome = await ingestStripeWebhook(
      signed(invoiceEvent),
      deps(publisher, { maxBodyBytes: 100, webhookSecrets }),
    );
    expect(outcome).toMatchObject({ kind: 'rejected', status: 413 });
    expect(webhookSecrets).not.toHaveBeenCalled();
  });

  it('rejects a signed but malformed invoice with 400 naming the field, publishing nothing', async () => {
    const { published, publisher } = recordingPublisher();
    const broken = stripeEventFor('invoice.finalized', {
      ...vendorJson<Record<string, unknown>>('stripe/resources/invoice.json'),
      currency: 7,
    });
    const outcome = await ingestStripeWebhook(signed(broken), deps(publisher));
    expect(outcome).toMatchObject({ kind: 'rejected', status: 400 });
    expect(outcome.kind === 'rejected' && outcome.reason).toMatch(/data\.object\.currency/);
    expect(published).toHaveLength(0);
  });

  it('acknowledges event types it does not handle with 200, so Stripe stops retrying them', async () => {
    const { published, publisher } = recordingPublisher();
    const outcome = await ingestStripeWebhook(
      signed(stripeEventFor('customer.created', vendorJson('stripe/resources/customer.json'))),
      deps(publisher),
    );
    expect(outcome).toMatchObject({ kind: 'ignored', status: 200, vendorType: 'customer.created' });
    expect(published).toHaveLength(0);
  });
});

describe('webhook secret value', () => {
  it('accepts a plain whsec_ string or a list during rotation', () => {
    expect(webhookSecretSchema.parse('whsec_a')).toEqual(['whsec_a']);
    expect(webhookSecretSchema.parse({ webhookSecrets: ['whsec_a', 'whsec_b'] })).toEqual([
      'whsec_a',
      'whsec_b',
    ]);
  });

  it('refuses a value that is not a Stripe webhook secret', () => {
    expect(webhookSecretSchema.safeParse('sk_live_oops').success).toBe(false);
    expect(webhookSecretSchema.safeParse({ webhookSecrets: [] }).success).toBe(false);
  });
});
