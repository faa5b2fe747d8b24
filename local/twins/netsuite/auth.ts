import { createHmac, timingSafeEqual } from 'node:crypto';
import OAuth from 'oauth-1.0a';
import { invalidLogin } from './errors';

export interface NetSuiteCredentials {
  consumerKey: string;
  consumerSecret: string;
  tokenId: string;
  tokenSecret: string;
}

export const DEFAULT_ACCOUNT = 'TSTDRV1234567';

export const DEFAULT_CREDENTIALS: NetSuiteCredentials = {
  consumerKey: 'revbridge-local-consumer-key',
  consumerSecret: 'revbridge-local-consumer-secret',
  tokenId: 'revbridge-local-token-id',
  tokenSecret: 'revbridge-local-token-secret',
};

/** NetSuite rejects a timestamp too far from its clock and a nonce it has already seen. */
const TIMESTAMP_TOLERANCE_SECONDS = 300;

const hmacSha256 = (base: string, key: string): string =>
  createHmac('sha256', key).update(base).digest('base64');

/**
 * Verifies token-based authentication (OAuth 1.0a, HMAC-SHA256) the way NetSuite does: the realm is the
 * account id, the signature covers the method, the URL as the client addressed it and its query
 * parameters (never a JSON body), and every failure answers the same opaque INVALID_LOGIN.
 */
export class TokenBasedAuth {
  private readonly oauth: OAuth;
  private readonly seenNonces = new Map<string, number>();

  constructor(
    private readonly account: string,
    private readonly credentials: NetSuiteCredentials,
    private readonly now: () => number = Date.now,
  ) {
    this.oauth = new OAuth({
      consumer: { key: credentials.consumerKey, secret: credentials.consumerSecret },
      signature_method: 'HMAC-SHA256',
      hash_function: hmacSha256,
      realm: account,
    });
  }

  /** Throws NetSuite's 401 unless the header is a valid signature for this request. */
  verify(method: string, url: string, header: string | undefined): void {
    if (!this.isValid(method, url, header)) throw invalidLogin();
  }

  private isValid(method: string, url: string, header: string | undefined): boolean {
    const params = parseOAuthHeader(header);
    if (!params) return false;
    const {
      realm,
      oauth_consumer_key: consumerKey,
      oauth_token: token,
      oauth_signature_method: signatureMethod,
      oauth_timestamp: timestamp,
      oauth_nonce: nonce,
      oauth_version: version,
      oauth_signature: signature,
    } = params;
    if (
      realm !== this.account ||
      consumerKey !== this.credentials.consumerKey ||
      token !== this.credentials.tokenId ||
      signatureMethod !== 'HMAC-SHA256' ||
      (version !== undefined && version !== '1.0') ||
      timestamp === undefined ||
      !/^\d+$/.test(timestamp) ||
      nonce === undefined ||
      nonce === '' ||
      signature === undefined
    ) {
      return false;
    }
    const nowSeconds = Math.floor(this.now() / 1000);
    const ts = Number(timestamp);
    if (Math.abs(nowSeconds - ts) > TIMESTAMP_TOLERANCE_SECONDS) return false;

    const data: OAuth.Data = {
      oauth_consumer_key: consumerKey,
      oauth_nonce: nonce,
      oauth_signature_method: signatureMethod,
      oauth_timestamp: ts,
      oauth_version: version ?? '1.0',
      oauth_token: token,
    };
    const expected = this.oauth.getSignature({ url, method, data: {} }, this.credentials.tokenSecret, data);
    if (!safeEqual(expected, signature)) return false;

    this.forgetOldNonces(nowSeconds);
    const nonceKey = `${consumerKey}:${nonce}`;
    if (this.seenNonces.has(nonceKey)) return false;
    this.seenNonces.set(nonceKey, ts);
    return true;
  }

  private forgetOldNonces(nowSeconds: number): void {
    for (const [key, ts] of this.seenNonces) {
      if (nowSeconds - ts > TIMESTAMP_TOLERANCE_SECONDS * 2) this.seenNonces.delete(key);
    }
  }
}

/** Parses `OAuth realm="X", oauth_consumer_key="..."` into decoded values; undefined if not OAuth. */
export function parseOAuthHeader(header: string | undefined): Record<string, string> | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*OAuth\s+(.*)$/i.exec(header);
  if (!match?.[1]) return undefined;
  const params: Record<string, string> = {};
  for (const part of match[1].matchAll(/([A-Za-z_]+)\s*=\s*"([^"]*)"/g)) {
    const [, key, value] = part;
    if (key === undefined || value === undefined) continue;
    try {
      params[key] = decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return params;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
