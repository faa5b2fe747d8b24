import Stripe from 'stripe';
import { STRIPE_TOLERANCE_SECONDS, verifyStripeSignature } from '../../lambdas/adapters/stripe/verify';
import { readVendorFixture, vendorJson } from '../support/fixtures';

const SECRET = 'whsec_unit_test_secret';
const body = readVendorFixture('stripe/events-legacy-api/invoice.finalized.json');
const now = Math.floor(Date.now() / 1000);
const sign = (payload: string, secret = SECRET, timestamp = now) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });

interface SignatureVector {
  vendor: string;
  secret: string;
  timestamp: number;
  body: string;
  expectedHeader: string;
}
const vectors = vendorJson<{ generatedWithOfficialPackage: SignatureVector[] }>(
  'signature-vectors/signature-vectors.json',
).generatedWithOfficialPackage.filter((vector) => vector.vendor === 'stripe');

describe('Stripe signature verification', () => {
  it('accepts a header made by the official SDK over the exact bytes', () => {
    const result = verifyStripeSignature(Buffer.from(body), sign(body), [SECRET]);
    expect(result).toMatchObject({ ok: true, payload: { id: JSON.parse(body).id } });
  });

  it.each(vectors)('accepts the shared vector signed by $package', (vector) => {
    const result = verifyStripeSignature(
      Buffer.from(vector.body),
      vector.expectedHeader,
      [vector.secret],
      vector.timestamp,
    );
    expect(result.ok).toBe(true);
  });

  it('has at least one shared Stripe vector to check against', () => {
    expect(vectors.length).toBeGreaterThan(0);
  });

  it('accepts any of several v1 signatures, as Stripe sends while a secret is rolled', () => {
    const other = sign(body, 'whsec_the_old_one').split(',')[1];
    const header = `${sign(body)},${other}`;
    expect(verifyStripeSignature(Buffer.from(body), header, ['whsec_the_old_one']).ok).toBe(true);
    expect(verifyStripeSignature(Buffer.from(body), header, [SECRET]).ok).toBe(true);
  });

  it('accepts when any one of our configured secrets verifies (our side of a rotation)', () => {
    expect(verifyStripeSignature(Buffer.from(body), sign(body), ['whsec_new_not_yet_used', SECRET]).ok).toBe(
      true,
    );
  });

  it.each([
    ['a re-serialized body', (raw: string) => JSON.stringify(JSON.parse(raw))],
    ['CRLF line endings', (raw: string) => raw.replace(/\n/g, '\r\n')],
    ['a trailing newline', (raw: string) => `${raw}\n`],
    ['one changed amount', (raw: string) => raw.replace('"total": ', '"total": 1')],
  ])('rejects %s', (_what, tamper) => {
    const tampered = tamper(body);
    expect(tampered).not.toBe(body);
    expect(verifyStripeSignature(Buffer.from(tampered), sign(body), [SECRET])).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
  });

  it('rejects a timestamp outside the 300 s tolerance', () => {
    const stale = sign(body, SECRET, now - STRIPE_TOLERANCE_SECONDS - 5);
    expect(verifyStripeSignature(Buffer.from(body), stale, [SECRET])).toEqual({
      ok: false,
      reason: 'signature timestamp outside the tolerance window',
    });
  });

  it('rejects a signature made with another secret', () => {
    expect(verifyStripeSignature(Buffer.from(body), sign(body, 'whsec_attacker'), [SECRET]).ok).toBe(false);
  });

  it('rejects a missing header', () => {
    expect(verifyStripeSignature(Buffer.from(body), undefined, [SECRET])).toEqual({
      ok: false,
      reason: 'missing Stripe-Signature header',
    });
  });

  it('rejects a header with no timestamp or signature', () => {
    expect(verifyStripeSignature(Buffer.from(body), 'garbage', [SECRET])).toEqual({
      ok: false,
      reason: 'malformed Stripe-Signature header',
    });
  });

  it('never puts the secret or the expected signature in its reason', () => {
    const result = verifyStripeSignature(Buffer.from(`${body} `), sign(body), [SECRET]);
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(JSON.stringify(result)).not.toMatch(/[0-9a-f]{64}/);
  });
});
