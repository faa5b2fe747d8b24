import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import Stripe from 'stripe';
import { localSecrets } from '../../local/config';
import type { LocalRuntime } from '../../local/runtime/runtime';
import { invoiceFinalized, startRuntime } from '../support/local-runtime';
import { applyByteEdits, byteEdit, PROPERTY_SEED } from '../support/mutations';
import { notificationXml, outboundMessageWith, wonOpportunityFields } from '../unit/salesforce-test-messages';

/**
 * Bad input at volume through the deployed shape: the API route, the gateway's event format and the
 * real handler bundle. Whatever arrives, the answer is never a 5xx (a 5xx makes the vendor retry
 * what can never succeed), and a rejected request puts nothing on the bus.
 */

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startRuntime();
});

afterAll(async () => {
  await runtime?.stop();
});

const settings = { seed: PROPERTY_SEED, numRuns: 60 };
const eventsPut = () => runtime.status().events.events.put;

const headerValue = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.constantFrom('', 't=', 't=1,v1=', 'v1=00', 't=abc,v1=zz', '0'.repeat(600)),
);

/** Posts one request and returns its status and whether anything reached the bus because of it. */
const post = async (
  vendor: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; published: number; text: string }> => {
  const before = eventsPut();
  const response = await fetch(`${runtime.apiUrl}/webhooks/${vendor}`, {
    method: 'POST',
    headers,
    body,
  });
  const text = await response.text();
  return { status: response.status, published: eventsPut() - before, text };
};

const expectSafeRejection = (answer: { status: number; published: number; text: string }) => {
  expect(answer.status).toBeGreaterThanOrEqual(400);
  expect(answer.status).toBeLessThan(500);
  expect(answer.published).toBe(0);
  expect(answer.text).not.toMatch(/\n\s+at /);
};

describe('webhook routes under mutated requests', () => {
  it('answers any unsigned or mis-signed Stripe request with a 4xx and publishes nothing', async () => {
    const payload = JSON.stringify(invoiceFinalized());
    const valid = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: localSecrets().stripeWebhookSecret,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(byteEdit, { maxLength: 3 }),
        fc.option(headerValue, { nil: undefined }),
        fc.constantFrom('application/json', 'text/plain', 'application/octet-stream'),
        async (edits, signature, contentType) => {
          const body = applyByteEdits(Buffer.from(payload), edits);
          fc.pre(!(body.equals(Buffer.from(payload)) && signature === valid));
          const headers: Record<string, string> = { 'content-type': contentType };
          if (signature !== undefined) headers['stripe-signature'] = signature;
          expectSafeRejection(await post('stripe', body, headers));
        },
      ),
      settings,
    );
  });

  it('answers any unsigned or mis-signed HubSpot request with a 4xx and publishes nothing', async () => {
    const payload = JSON.stringify([
      { eventId: 1, subscriptionType: 'deal.propertyChange', objectId: 5, propertyName: 'dealstage' },
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(byteEdit, { maxLength: 3 }),
        fc.option(headerValue, { nil: undefined }),
        fc.option(fc.oneof(fc.string({ maxLength: 20 }), fc.constant(String(Date.now()))), {
          nil: undefined,
        }),
        async (edits, signature, timestamp) => {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (signature !== undefined) headers['x-hubspot-signature-v3'] = signature;
          if (timestamp !== undefined) headers['x-hubspot-request-timestamp'] = timestamp;
          expectSafeRejection(await post('hubspot', applyByteEdits(Buffer.from(payload), edits), headers));
        },
      ),
      settings,
    );
  });

  it('answers any mangled Salesforce outbound message without a 5xx, and publishes only what it acknowledges', async () => {
    // The dev stage's org, so that unmangled parts of a message can be accepted and published.
    const stages = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context[
      'revbridge:stages'
    ];
    const message = outboundMessageWith(
      [notificationXml('04l000000000001AAA', 'Opportunity', wonOpportunityFields())],
      { organizationId: stages.dev.salesforce.orgId },
    );
    let acknowledged = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(byteEdit, { minLength: 1, maxLength: 4 }), async (edits) => {
        const answer = await post(
          `salesforce/${localSecrets().salesforcePathToken}`,
          applyByteEdits(message, edits),
          {
            'content-type': 'text/xml; charset=utf-8',
            soapaction: '""',
          },
        );
        expect(answer.status).toBeLessThan(500);
        if (answer.status >= 400) expectSafeRejection(answer);
        else {
          acknowledged += 1;
          expect(answer.text).toContain('<Ack>true</Ack>');
        }
      }),
      settings,
    );
    // Mutations that miss the parts that matter leave a message Salesforce would send: some pass.
    expect(acknowledged).toBeGreaterThan(0);
  });

  it('refuses a Salesforce message without the stage token, or with a wrong one, before any function runs', async () => {
    const message = outboundMessageWith([
      notificationXml('04l000000000001AAA', 'Opportunity', wonOpportunityFields()),
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.stringMatching(/^[A-Za-z0-9]{0,60}$/), { nil: undefined }),
        async (token) => {
          fc.pre(token !== localSecrets().salesforcePathToken);
          const answer = await post(token === undefined ? 'salesforce' : `salesforce/${token}`, message, {
            'content-type': 'text/xml; charset=utf-8',
          });
          // No route without a token, empty included (the HTTP API's 404); a wrong one is the function's 403.
          expect(answer.status).toBe(token === undefined || token === '' ? 404 : 403);
          expect(answer.published).toBe(0);
        },
      ),
      { ...settings, numRuns: 30 },
    );
  });

  it('answers an oversized body on every route with 413 and publishes nothing', async () => {
    const body = Buffer.alloc(300 * 1024, 0x7b);
    for (const vendor of ['stripe', 'hubspot', `salesforce/${localSecrets().salesforcePathToken}`]) {
      const answer = await post(vendor, body, { 'content-type': 'application/json' });
      expect({ vendor, status: answer.status }).toEqual({ vendor, status: 413 });
      expect(answer.published).toBe(0);
    }
  });
});
