import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../../shared/http';

/**
 * HubSpot request validation, signature v3:
 * https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests#validate-the-v3-request-signature
 * `X-HubSpot-Signature-v3` = base64(HMAC-SHA256(client secret, method + URI + body + timestamp)), where
 * the timestamp is the `X-HubSpot-Request-Timestamp` header (milliseconds since the epoch) and the URI
 * is the full URL HubSpot called, with a documented set of percent-encoded characters decoded.
 *
 * Why node:crypto and not `@hubspot/api-client`'s `Signature` (measured with esbuild 0.28, `--bundle
 * --minify --format=esm --platform=node --target=node22`, a module calling `Signature.getSignature`):
 * - `import { Signature } from '@hubspot/api-client'`: 5,125,425 bytes, the whole API client (the
 *   bundle alone takes ~130 ms to load on Node 20, against ~5 ms for the node:crypto one);
 * - deep import `@hubspot/api-client/lib/src/utils/signature`: 2,188 bytes, but a private path with no
 *   `exports` entry, and its `isValid` compares with `===` and accepts timestamps from the future;
 * - `createHmac` from node:crypto: 125 bytes; this whole module bundled: 1,130 bytes.
 * The tests check this implementation against `Signature.getSignature` (a dev dependency) and the
 * shared vector computed with the official package.
 */

/** HubSpot: reject a request whose timestamp is more than 5 minutes old; we also refuse 5 minutes ahead. */
export const HUBSPOT_TIMESTAMP_TOLERANCE_MS = 5 * 60 * 1000;

export interface HubSpotSignedRequest {
  readonly method: string;
  /** The public URL HubSpot called (see `hubspotRequestUri`). */
  readonly uri: string;
  readonly rawBody: Buffer;
  /** `X-HubSpot-Signature-v3` */
  readonly signature: string | undefined;
  /** `X-HubSpot-Request-Timestamp` */
  readonly timestamp: string | undefined;
}

export type VerifyResult = { ok: true; payload: unknown } | { ok: false; reason: string };

/** The characters HubSpot's documentation says to decode in the URI before signing. */
const DECODED_IN_URI = /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi;

export const decodeSignedUri = (uri: string): string =>
  uri.replace(DECODED_IN_URI, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

/**
 * The URL HubSpot called, rebuilt from the configured public base URL (scheme, host and any stage or
 * base path in front of the gateway's `path`) and the request's path and query. The proxy event
 * (payload format 1.0) keeps no raw query string, so a query is re-encoded from its parsed values:
 * keep the target URL configured in HubSpot free of a query string unless its values need no encoding.
 */
export const hubspotRequestUri = (
  baseUrl: string,
  path: string,
  query?: Readonly<Record<string, readonly string[] | undefined>> | null,
): string => {
  const pairs = Object.entries(query ?? {}).flatMap(([name, values]) =>
    (values ?? []).map((value) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`),
  );
  return `${baseUrl.replace(/\/+$/, '')}${path}${pairs.length > 0 ? `?${pairs.join('&')}` : ''}`;
};

/** The v3 signature of a request, as HubSpot computes it. */
export const hubspotSignatureV3 = (
  clientSecret: string,
  method: string,
  uri: string,
  rawBody: Buffer,
  timestamp: string,
): string =>
  createHmac('sha256', clientSecret)
    // Hashing the parts in sequence equals hashing their UTF-8 concatenation, without decoding the body.
    .update(method, 'utf8')
    .update(decodeSignedUri(uri), 'utf8')
    .update(rawBody)
    .update(timestamp, 'utf8')
    .digest('base64');

/**
 * Verifies `X-HubSpot-Signature-v3` over the exact bytes HubSpot sent, then parses the body as JSON.
 * Any one of several client secrets verifying is enough (our side of a secret rotation). The reasons
 * say what is wrong without saying what would be right.
 */
export const verifyHubSpotSignature = (
  request: HubSpotSignedRequest,
  clientSecrets: readonly string[],
  nowMs: number = Date.now(),
): VerifyResult => {
  if (!request.signature) return { ok: false, reason: 'missing X-HubSpot-Signature-v3 header' };
  if (!request.timestamp) return { ok: false, reason: 'missing X-HubSpot-Request-Timestamp header' };
  if (!/^\d{1,16}$/.test(request.timestamp)) {
    return { ok: false, reason: 'malformed X-HubSpot-Request-Timestamp header' };
  }
  if (Math.abs(nowMs - Number(request.timestamp)) > HUBSPOT_TIMESTAMP_TOLERANCE_MS) {
    return { ok: false, reason: 'signature timestamp outside the tolerance window' };
  }
  const { signature, timestamp } = request;
  // Every secret is tried, so the time taken does not say which one matched.
  const matched = clientSecrets
    .map((secret) =>
      constantTimeEqual(
        signature,
        hubspotSignatureV3(secret, request.method, request.uri, request.rawBody, timestamp),
      ),
    )
    .some(Boolean);
  if (!matched) return { ok: false, reason: 'signature does not match' };
  try {
    return { ok: true, payload: JSON.parse(request.rawBody.toString('utf8')) as unknown };
  } catch {
    return { ok: false, reason: 'body is not valid JSON' };
  }
};
