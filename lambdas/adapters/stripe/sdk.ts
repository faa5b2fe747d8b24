import Stripe from 'stripe';
import { secretShape } from '../../shared/contracts/secrets';
import { loadSecret } from '../../shared/secrets';

/** The Stripe secret key, as the secret holds it: `"sk_..."` or `{"apiKey":"sk_..."}`. */
export const stripeApiKeySchema = secretShape('apiKey');

/** Reads the key from Secrets Manager, cached for 5 minutes (a rotated key is picked up). */
export const stripeApiKeyFrom = (secretId: string) => (): Promise<string> =>
  loadSecret(secretId, stripeApiKeySchema);

export interface StripeSdkOptions {
  readonly apiKey: () => Promise<string>;
  /** @default 'https://api.stripe.com' */
  readonly baseUrl?: string;
  /** Per request. @default 10000 */
  readonly timeoutMs?: number;
  /** The SDK's HTTP client (the bench's in-process server). @default Node's */
  readonly httpClient?: Stripe.HttpClient;
}

/**
 * The official SDK for the current key: one instance per key, so a rotated key gets a new one. The
 * caller's retry policy (the queue's backoff) owns retries; a second layer here would multiply them.
 */
export const stripeSdk = (options: StripeSdkOptions): (() => Promise<Stripe>) => {
  let cached: { key: string; stripe: Stripe } | undefined;
  const url = new URL(options.baseUrl ?? 'https://api.stripe.com');
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return async () => {
    const key = await options.apiKey();
    if (cached?.key !== key) {
      cached = {
        key,
        stripe: new Stripe(key, {
          host: url.hostname,
          port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443,
          protocol,
          maxNetworkRetries: 0,
          timeout: options.timeoutMs ?? 10_000,
          telemetry: false,
          ...(options.httpClient ? { httpClient: options.httpClient } : {}),
        }),
      };
    }
    return cached.stripe;
  };
};
