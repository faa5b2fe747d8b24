import { Signature } from '@hubspot/api-client';
import {
  decodeSignedUri,
  HUBSPOT_TIMESTAMP_TOLERANCE_MS,
  type HubSpotSignedRequest,
  hubspotRequestUri,
  hubspotSignatureV3,
  verifyHubSpotSignature,
} from '../../lambdas/adapters/hubspot/verify';
import { readVendorFixture, vendorJson } from '../support/fixtures';

const SECRET = 'hubspot-unit-test-client-secret';
const URI = 'https://hooks.example.com/prod/webhooks/hubspot';
const body = readVendorFixture('hubspot/webhook-batch-contact.creation.signature-v1-example.json');
const now = Date.now();

/** Signs with the official package, as HubSpot's own SDK computes a v3 signature. */
const officialSignature = (
  payload: string,
  timestampMs: number,
  uri = URI,
  method = 'POST',
  secret = SECRET,
) =>
  Signature.getSignature(method, 'v3', {
    signature: '',
    clientSecret: secret,
    requestBody: payload,
    url: uri,
    timestamp: timestampMs,
  });

const signed = (overrides: Partial<HubSpotSignedRequest> = {}, timestampMs = now): HubSpotSignedRequest => ({
  method: 'POST',
  uri: URI,
  rawBody: Buffer.from(body),
  signature: officialSignature(body, timestampMs),
  timestamp: String(timestampMs),
  ...overrides,
});

interface HubSpotV3Vector {
  vendor: string;
  package?: string;
  clientSecret: string;
  method: string;
  uri: string;
  body: string;
  timestampMs: string;
  expectedSignatureV3: string;
}
const sharedVectors = vendorJson<{ generatedWithOfficialPackage: HubSpotV3Vector[] }>(
  'signature-vectors/signature-vectors.json',
).generatedWithOfficialPackage.filter((vector) => vector.vendor === 'hubspot' && vector.expectedSignatureV3);

describe('HubSpot v3 signature verification', () => {
  it('accepts a signature made by the official package over the exact bytes', () => {
    const result = verifyHubSpotSignature(signed(), [SECRET], now);
    expect(result).toEqual({ ok: true, payload: JSON.parse(body) });
  });

  it('computes the same signature as the official package, which also finds it valid', () => {
    const timestampMs = Date.now();
    const ours = hubspotSignatureV3(SECRET, 'POST', URI, Buffer.from(body), String(timestampMs));
    expect(ours).toBe(officialSignature(body, timestampMs));
    expect(
      Signature.isValid({
        signatureVersion: 'v3',
        signature: ours,
        clientSecret: SECRET,
        requestBody: body,
        url: URI,
        method: 'POST',
        timestamp: timestampMs,
      }),
    ).toBe(true);
  });

  it('agrees with the official package on a non-ASCII body', () => {
    const payload = '[{"propertyName":"dealname","propertyValue":"Zürich – Ølstykke 株式会社"}]';
    expect(hubspotSignatureV3(SECRET, 'POST', URI, Buffer.from(payload), String(now))).toBe(
      officialSignature(payload, now),
    );
  });

  it('has a shared v3 vector computed with the official package', () => {
    expect(sharedVectors.length).toBeGreaterThan(0);
  });

  it.each(sharedVectors)('accepts the shared vector ($package) at its own time', (vector) => {
    const request: HubSpotSignedRequest = {
      method: vector.method,
      uri: vector.uri,
      rawBody: Buffer.from(vector.body),
      signature: vector.expectedSignatureV3,
      timestamp: vector.timestampMs,
    };
    expect(
      hubspotSignatureV3(
        vector.clientSecret,
        vector.method,
        vector.uri,
        Buffer.from(vector.body),
        vector.timestampMs,
      ),
    ).toBe(vector.expectedSignatureV3);
    expect(verifyHubSpotSignature(request, [vector.clientSecret], Number(vector.timestampMs)).ok).toBe(true);
    // The same request now is a replay: its timestamp is long past.
    expect(verifyHubSpotSignature(request, [vector.clientSecret], now)).toEqual({
      ok: false,
      reason: 'signature timestamp outside the tolerance window',
    });
  });

  it.each([
    ['a re-serialized body', { rawBody: Buffer.from(JSON.stringify(JSON.parse(body), null, 1)) }],
    ['a trailing newline', { rawBody: Buffer.from(`${body}\n`) }],
    ['one changed object id', { rawBody: Buffer.from(body.replace('"objectId":123', '"objectId":124')) }],
    ['another path', { uri: 'https://hooks.example.com/prod/webhooks/stripe' }],
    ['another host', { uri: 'https://attacker.example.com/prod/webhooks/hubspot' }],
    ['http instead of https', { uri: 'http://hooks.example.com/prod/webhooks/hubspot' }],
    ['another method', { method: 'PUT' }],
    ['another timestamp within the window', { timestamp: String(now - 1000) }],
  ])('rejects %s', (_what, tamper) => {
    expect(verifyHubSpotSignature(signed(tamper), [SECRET], now)).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
  });

  it('rejects a signature of another length without throwing', () => {
    const truncated = signed().signature?.slice(0, 20);
    expect(verifyHubSpotSignature(signed({ signature: truncated }), [SECRET], now)).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
  });

  it('rejects a signature made with another secret', () => {
    const request = signed({ signature: officialSignature(body, now, URI, 'POST', 'attacker-secret') });
    expect(verifyHubSpotSignature(request, [SECRET], now).ok).toBe(false);
  });

  it('accepts when any one of our configured secrets verifies (our side of a rotation)', () => {
    expect(verifyHubSpotSignature(signed(), ['the-next-client-secret', SECRET], now).ok).toBe(true);
  });

  it('accepts timestamps up to 5 minutes old or ahead, and nothing beyond', () => {
    const at = (offsetMs: number) => verifyHubSpotSignature(signed({}, now + offsetMs), [SECRET], now);
    expect(at(-HUBSPOT_TIMESTAMP_TOLERANCE_MS).ok).toBe(true);
    expect(at(HUBSPOT_TIMESTAMP_TOLERANCE_MS).ok).toBe(true);
    expect(at(-HUBSPOT_TIMESTAMP_TOLERANCE_MS - 1)).toEqual({
      ok: false,
      reason: 'signature timestamp outside the tolerance window',
    });
    expect(at(HUBSPOT_TIMESTAMP_TOLERANCE_MS + 1)).toEqual({
      ok: false,
      reason: 'signature timestamp outside the tolerance window',
    });
  });

  it('reads the timestamp as milliseconds: a seconds timestamp is far in the past', () => {
    const seconds = String(Math.floor(now / 1000));
    const request = signed({
      timestamp: seconds,
      signature: hubspotSignatureV3(SECRET, 'POST', URI, Buffer.from(body), seconds),
    });
    expect(verifyHubSpotSignature(request, [SECRET], now).ok).toBe(false);
  });

  it.each([
    ['signature', { signature: undefined }, 'missing X-HubSpot-Signature-v3 header'],
    ['empty signature', { signature: '' }, 'missing X-HubSpot-Signature-v3 header'],
    ['timestamp', { timestamp: undefined }, 'missing X-HubSpot-Request-Timestamp header'],
    ['non-numeric timestamp', { timestamp: 'yesterday' }, 'malformed X-HubSpot-Request-Timestamp header'],
    [
      'ISO timestamp',
      { timestamp: new Date(now).toISOString() },
      'malformed X-HubSpot-Request-Timestamp header',
    ],
  ])('rejects a missing or malformed %s', (_what, overrides, reason) => {
    expect(verifyHubSpotSignature(signed(overrides), [SECRET], now)).toEqual({ ok: false, reason });
  });

  it('rejects a correctly signed body that is not JSON', () => {
    const payload = 'not json';
    const request = signed({ rawBody: Buffer.from(payload), signature: officialSignature(payload, now) });
    expect(verifyHubSpotSignature(request, [SECRET], now)).toEqual({
      ok: false,
      reason: 'body is not valid JSON',
    });
  });

  it('never puts the secret or the expected signature in its reason', () => {
    const expected = officialSignature(`${body} `, now);
    const result = verifyHubSpotSignature(signed({ rawBody: Buffer.from(`${body} `) }), [SECRET], now);
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(JSON.stringify(result)).not.toContain(expected);
  });
});

describe('the URI HubSpot signs', () => {
  it('decodes the characters HubSpot’s documentation lists, and only those', () => {
    expect(decodeSignedUri('https://h.example.com/a%3Ab%2Fc%3Fd%40e%21f%24g%27h%28i%29j%2Ak%2Cl%3Bm')).toBe(
      "https://h.example.com/a:b/c?d@e!f$g'h(i)j*k,l;m",
    );
    expect(decodeSignedUri('https://h.example.com/a%3ab')).toBe('https://h.example.com/a:b');
    expect(decodeSignedUri('https://h.example.com/a%20b%26c%3Dd%25')).toBe(
      'https://h.example.com/a%20b%26c%3Dd%25',
    );
  });

  it('verifies a request whose URL HubSpot sent with encoded characters against the decoded URL it signed', () => {
    const decoded = 'https://hooks.example.com/prod/webhooks/hubspot?portal=a:b';
    const request = signed({
      uri: 'https://hooks.example.com/prod/webhooks/hubspot?portal=a%3Ab',
      signature: officialSignature(body, now, decoded),
    });
    expect(verifyHubSpotSignature(request, [SECRET], now).ok).toBe(true);
  });

  it('rebuilds the public URL from the configured base URL and the gateway’s path and query', () => {
    expect(
      hubspotRequestUri('https://abc.execute-api.eu-west-1.amazonaws.com/prod/', '/webhooks/hubspot'),
    ).toBe('https://abc.execute-api.eu-west-1.amazonaws.com/prod/webhooks/hubspot');
    expect(hubspotRequestUri('https://hooks.example.com', '/webhooks/hubspot', null)).toBe(
      'https://hooks.example.com/webhooks/hubspot',
    );
    expect(
      hubspotRequestUri('https://hooks.example.com', '/webhooks/hubspot', {
        app: ['crm sync'],
        v: ['1', '2'],
      }),
    ).toBe('https://hooks.example.com/webhooks/hubspot?app=crm%20sync&v=1&v=2');
  });
});
