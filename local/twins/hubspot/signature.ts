import { createHash, createHmac } from 'node:crypto';

/**
 * HubSpot request signatures.
 *
 * v3 (`X-HubSpot-Signature-v3`): base64(HMAC-SHA256(clientSecret, method + uri + body + timestamp)),
 * timestamp in milliseconds from `X-HubSpot-Request-Timestamp`. The uri is the target URL as configured,
 * with these percent-encodings decoded and every other one left alone (the docs' table); receivers reject
 * timestamps older than five minutes, so every delivery attempt is signed afresh.
 * https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests
 *
 * v1 (`X-HubSpot-Signature`, `X-HubSpot-Signature-Version: v1`): hex(SHA-256(clientSecret + body)), still
 * sent with webhook deliveries for older receivers.
 */

const DECODED_IN_URI: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export function signatureUri(url: string): string {
  return url.replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (match) => DECODED_IN_URI[match.toUpperCase()] ?? match,
  );
}

export function signV3(input: {
  clientSecret: string;
  method: string;
  url: string;
  body: string;
  timestamp: string;
}): string {
  const source = `${input.method}${signatureUri(input.url)}${input.body}${input.timestamp}`;
  return createHmac('sha256', input.clientSecret).update(source, 'utf8').digest('base64');
}

export function signV1(clientSecret: string, body: string): string {
  return createHash('sha256').update(`${clientSecret}${body}`, 'utf8').digest('hex');
}
