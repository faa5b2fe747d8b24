import { StripeApiError } from './errors';
import type { JsonObject } from './json';

/**
 * Stripe's v1 idempotency (https://docs.stripe.com/api/idempotent_requests): the status and body of the
 * first request made with a key are saved and replayed to every retry with the same key and the same
 * parameters; a retry with other parameters or another endpoint is an `idempotency_error`. Keys belong
 * to one API key and may be pruned after 24 hours, after which the key starts a new request.
 */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
/** https://docs.stripe.com/api/idempotent_requests: "Idempotency keys are up to 255 characters long." */
const MAX_KEY_LENGTH = 255;

export interface SavedResponse {
  endpoint: string;
  fingerprint: string;
  status: number;
  body: JsonObject;
  requestId: string;
  savedAt: number;
}

export class IdempotencyCache {
  private readonly saved = new Map<string, SavedResponse>();

  constructor(private readonly clock: () => number) {}

  /**
   * The saved response to replay, or undefined when the key is new (or expired). Throws Stripe's
   * `idempotency_error` when the key was used for another endpoint or other parameters.
   */
  lookup(apiKey: string, key: string, endpoint: string, fingerprint: string): SavedResponse | undefined {
    if (key.length > MAX_KEY_LENGTH) {
      throw new StripeApiError({
        status: 400,
        type: 'invalid_request_error',
        message: `Idempotency-Key header is too long: it must be at most ${MAX_KEY_LENGTH} characters.`,
      });
    }
    const id = this.id(apiKey, key);
    const saved = this.saved.get(id);
    if (saved === undefined) return undefined;
    if (this.clock() - saved.savedAt >= IDEMPOTENCY_RETENTION_MS) {
      this.saved.delete(id);
      return undefined;
    }
    if (saved.endpoint !== endpoint) {
      throw new StripeApiError({
        status: 400,
        type: 'idempotency_error',
        message: `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${saved.endpoint}' vs '${endpoint}'). Try using a key other than '${key}' if you meant to execute a different request.`,
      });
    }
    if (saved.fingerprint !== fingerprint) {
      throw new StripeApiError({
        status: 400,
        type: 'idempotency_error',
        message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      });
    }
    return saved;
  }

  save(apiKey: string, key: string, response: Omit<SavedResponse, 'savedAt'>): void {
    this.prune();
    const id = this.id(apiKey, key);
    // Deleted first, so the map stays in the order the responses were saved and pruning stops early.
    this.saved.delete(id);
    this.saved.set(id, { ...response, savedAt: this.clock() });
  }

  private id(apiKey: string, key: string): string {
    return `${apiKey}\n${key}`;
  }

  private prune(): void {
    const now = this.clock();
    for (const [id, saved] of this.saved) {
      if (now - saved.savedAt < IDEMPOTENCY_RETENTION_MS) break;
      this.saved.delete(id);
    }
  }
}
