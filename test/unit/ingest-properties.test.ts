import { Signature } from '@hubspot/api-client';
import fc from 'fast-check';
import Stripe from 'stripe';
import type { EventPublisher } from '../../lambdas/adapters/aws/event-publisher';
import { type CanonicalEvent, parseEvent } from '../../lambdas/domain/events';
import { ingestHubSpotWebhook } from '../../lambdas/ingest-hubspot/logic';
import { ingestSalesforceMessage } from '../../lambdas/ingest-salesforce/logic';
import { ingestStripeWebhook } from '../../lambdas/ingest-stripe/logic';
import { stripeEventFor, vendorJson } from '../support/fixtures';
import {
  applyByteEdits,
  applyJsonEdits,
  byteEdit,
  jsonEdit,
  PROPERTY_SEED,
  reasonProblems,
} from '../support/mutations';
import {
  FIXTURE_ORG_ID_15,
  notificationXml,
  outboundMessageWith,
  wonOpportunityFields,
} from './salesforce-test-messages';

/**
 * Bad input at volume (issue 12): every ingest, fed seeded mutations of valid vendor requests, never
 * answers 5xx for bad input, never puts an event on the bus from an unsigned or invalid request,
 * never throws, and every rejection says what is wrong in a sentence safe to show the sender.
 */

const RUNS = 300;
const settings = { seed: PROPERTY_SEED, numRuns: RUNS };
const MAX_BODY = 256 * 1024;

const recordingPublisher = () => {
  const published: CanonicalEvent[] = [];
  const publisher: EventPublisher = {
    async publish(events) {
      published.push(...events);
    },
  };
  return { published, publisher };
};

/** An accepted request's events are valid canonical events; a rejected one published nothing. */
const expectConsistent = (
  outcome: { kind: string; status: number; reason?: string },
  published: readonly CanonicalEvent[],
  secrets: readonly string[],
) => {
  expect(outcome.status).toBeLessThan(500);
  if (outcome.status >= 400) {
    expect(published).toEqual([]);
    expect(reasonProblems(outcome.reason ?? '', secrets)).toEqual([]);
  } else {
    for (const event of published) expect(() => parseEvent(event, event.type)).not.toThrow();
  }
};

describe('Stripe ingest under mutated input', () => {
  const SECRET = 'whsec_property_test';
  const NOW = 1_721_954_100;
  const document = stripeEventFor(
    'invoice.finalized',
    vendorJson('stripe/resources/invoice.json'),
    'evt_property_1',
  );
  const sign = (payload: string, timestamp = NOW) =>
    Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp });
  const deps = (publisher: EventPublisher) => ({
    webhookSecrets: async () => [SECRET],
    publisher,
    account: 'acct_property',
    maxBodyBytes: MAX_BODY,
    nowSeconds: () => NOW,
  });
  const payload = JSON.stringify(document, null, 2);

  it('rejects a body changed after signing with 400 and publishes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(byteEdit, { minLength: 1, maxLength: 4 }), async (edits) => {
        const body = applyByteEdits(Buffer.from(payload), edits);
        fc.pre(!body.equals(Buffer.from(payload)));
        const { published, publisher } = recordingPublisher();
        const outcome = await ingestStripeWebhook(
          { rawBody: body, signature: sign(payload) },
          deps(publisher),
        );
        expect(outcome).toMatchObject({ kind: 'rejected', status: 400 });
        expectConsistent(outcome, published, [SECRET]);
        expect(outcome.kind === 'rejected' && outcome.reason).toMatch(/signature|JSON/);
      }),
      settings,
    );
  });

  it('rejects a mangled Stripe-Signature header with 400 naming the header or signature', async () => {
    const header = sign(payload);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .array(byteEdit, { minLength: 1, maxLength: 3 })
            .map((edits) => applyByteEdits(Buffer.from(header), edits).toString('latin1')),
          fc.string({ maxLength: 200 }),
          // t=0 would make the SDK stamp the current time.
          fc.integer({ min: 1, max: NOW - 301 }).map((t) => sign(payload, t)),
        ),
        async (signature) => {
          fc.pre(signature !== header);
          const { published, publisher } = recordingPublisher();
          const outcome = await ingestStripeWebhook(
            { rawBody: Buffer.from(payload), signature },
            deps(publisher),
          );
          // A mutation can only keep the header valid by leaving t= and one v1= intact.
          if (outcome.status === 200) {
            expect(signature).toContain(header.slice(header.indexOf('v1=')));
            return;
          }
          expect(outcome.status).toBe(400);
          expectConsistent(outcome, published, [SECRET]);
          expect(outcome.kind === 'rejected' && outcome.reason).toMatch(/Stripe-Signature|signature/);
        },
      ),
      settings,
    );
  });

  it('answers a signed but malformed event with 200 or a 400 naming the problem, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(jsonEdit(document), { minLength: 1, maxLength: 3 }), async (edits) => {
        const mutated = JSON.stringify(applyJsonEdits(document, edits));
        const { published, publisher } = recordingPublisher();
        const outcome = await ingestStripeWebhook(
          { rawBody: Buffer.from(mutated), signature: sign(mutated) },
          deps(publisher),
        );
        expect(['published', 'ignored', 'rejected']).toContain(outcome.kind);
        expectConsistent(outcome, published, [SECRET]);
      }),
      settings,
    );
  });

  it('rejects any body over the size limit with 413 before reading it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4096 }), async (extra) => {
        const { published, publisher } = recordingPublisher();
        const body = Buffer.alloc(MAX_BODY + extra, 0x20);
        const outcome = await ingestStripeWebhook(
          { rawBody: body, signature: sign(body.toString()) },
          deps(publisher),
        );
        expect(outcome).toMatchObject({ kind: 'rejected', status: 413 });
        expect(published).toEqual([]);
      }),
      { ...settings, numRuns: 20 },
    );
  });
});

describe('HubSpot ingest under mutated input', () => {
  const SECRET = 'hubspot-property-secret';
  const URI = 'https://hooks.example.com/webhooks/hubspot';
  const NOW = 1_722_418_600_000;
  const [contactCreation] = vendorJson<Record<string, unknown>[]>(
    'hubspot/webhook-batch-contact.creation.signature-v1-example.json',
  );
  const document = [
    { ...contactCreation, eventId: 7, subscriptionType: 'deal.propertyChange', objectId: 70 },
    {
      ...contactCreation,
      eventId: 8,
      subscriptionType: 'deal.propertyChange',
      objectId: 80,
      propertyName: 'dealstage',
      propertyValue: 'closedwon',
      occurredAt: NOW - 1000,
    },
  ];
  const sign = (body: string, timestamp = NOW) =>
    Signature.getSignature('POST', 'v3', {
      signature: '',
      clientSecret: SECRET,
      requestBody: body,
      url: URI,
      timestamp,
    });
  const deps = (publisher: EventPublisher) => ({
    clientSecrets: async () => [SECRET],
    publisher,
    wonStages: ['closedwon'],
    maxBodyBytes: MAX_BODY,
    nowMs: () => NOW,
  });
  const request = (body: Buffer, signature: string | undefined, timestamp: string | undefined) => ({
    method: 'POST',
    uri: URI,
    rawBody: body,
    signature,
    timestamp,
  });
  const payload = JSON.stringify(document);

  it('rejects a body changed after signing with 400 and publishes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(byteEdit, { minLength: 1, maxLength: 4 }), async (edits) => {
        const body = applyByteEdits(Buffer.from(payload), edits);
        fc.pre(!body.equals(Buffer.from(payload)));
        const { published, publisher } = recordingPublisher();
        const outcome = await ingestHubSpotWebhook(
          request(body, sign(payload), String(NOW)),
          deps(publisher),
        );
        expect(outcome).toMatchObject({ kind: 'rejected', status: 400 });
        expectConsistent(outcome, published, [SECRET]);
        expect(outcome.kind === 'rejected' && outcome.reason).toMatch(/signature/);
      }),
      settings,
    );
  });

  it('rejects mangled signature and timestamp headers with 400 naming the header', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.string({ maxLength: 100 }), { nil: undefined }),
        fc.option(
          fc.oneof(
            fc.string({ maxLength: 20 }),
            fc.integer({ min: 0, max: NOW - 300_001 }).map(String),
            fc.integer({ min: NOW + 300_001, max: NOW * 2 }).map(String),
          ),
          { nil: undefined },
        ),
        async (signature, timestamp) => {
          const { published, publisher } = recordingPublisher();
          const outcome = await ingestHubSpotWebhook(
            request(Buffer.from(payload), signature, timestamp),
            deps(publisher),
          );
          expect(outcome).toMatchObject({ kind: 'rejected', status: 400 });
          expectConsistent(outcome, published, [SECRET]);
          expect(outcome.kind === 'rejected' && outcome.reason).toMatch(/X-HubSpot|signature/);
        },
      ),
      settings,
    );
  });

  it('answers a signed but malformed batch with 200 or a 400 naming the problem, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(jsonEdit(document), { minLength: 1, maxLength: 3 }), async (edits) => {
        const mutated = JSON.stringify(applyJsonEdits(document, edits));
        const { published, publisher } = recordingPublisher();
        const outcome = await ingestHubSpotWebhook(
          request(Buffer.from(mutated), sign(mutated), String(NOW)),
          deps(publisher),
        );
        expect(['accepted', 'rejected']).toContain(outcome.kind);
        expectConsistent(outcome, published, [SECRET]);
      }),
      settings,
    );
  });
});

describe('Salesforce ingest under mutated input', () => {
  const TOKEN = 'property-test-path-token-0123456789abcdef';
  const message = outboundMessageWith([
    notificationXml('04l000000000001AAA', 'Opportunity', wonOpportunityFields()),
    notificationXml('04l000000000002AAA', 'Lead', { Id: '00Q000000000001AAA' }),
  ]);
  const deps = (publisher: EventPublisher) => ({
    publisher,
    organizationId: FIXTURE_ORG_ID_15,
    wonStages: ['Closed Won'],
    maxBodyBytes: MAX_BODY,
    pathTokens: async () => [TOKEN],
  });

  it('rejects a request without the right path token with 403 and publishes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(fc.string({ maxLength: 64 }), { nil: undefined }), async (pathToken) => {
        fc.pre(pathToken !== TOKEN);
        const { published, publisher } = recordingPublisher();
        const outcome = await ingestSalesforceMessage({ rawBody: message, pathToken }, deps(publisher));
        expect(outcome).toMatchObject({ kind: 'rejected', status: 403 });
        expectConsistent(outcome, published, [TOKEN]);
        expect(outcome.kind === 'rejected' && outcome.reason).toMatch(/path token/);
        expect(outcome.body).not.toContain(TOKEN);
      }),
      settings,
    );
  });

  it('answers a mangled message with the Ack or a SOAP fault naming the problem, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(byteEdit, { minLength: 1, maxLength: 4 }), async (edits) => {
        const body = applyByteEdits(message, edits);
        const { published, publisher } = recordingPublisher();
        const outcome = await ingestSalesforceMessage({ rawBody: body, pathToken: TOKEN }, deps(publisher));
        expect(['acknowledged', 'rejected']).toContain(outcome.kind);
        expectConsistent(outcome, published, [TOKEN]);
        if (outcome.kind === 'rejected') expect(outcome.body).toContain('<faultstring>');
      }),
      settings,
    );
  });

  it('answers mangled opportunity fields with the Ack or a 400 naming the field', async () => {
    const fieldValue = fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 30 }).map((s) => s.replace(/[<&]/g, '')),
      fc.constantFrom('', 'not-a-date', '-1', '1e400', 'true', '0066g00000AbCdEAAX'),
    );
    const fields = Object.keys(wonOpportunityFields());
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(...fields), fieldValue), async (overrides) => {
        const body = outboundMessageWith([
          notificationXml('04l000000000009AAA', 'Opportunity', wonOpportunityFields(overrides)),
        ]);
        const { published, publisher } = recordingPublisher();
        const outcome = await ingestSalesforceMessage({ rawBody: body, pathToken: TOKEN }, deps(publisher));
        expect(['acknowledged', 'rejected']).toContain(outcome.kind);
        expectConsistent(outcome, published, [TOKEN]);
      }),
      settings,
    );
  });
});
