import { type CanonicalEvent, checkCanonical } from '../domain/events';
import type { EventPublisher } from '../domain/ports';
import { isPermanent } from './errors';

export type Rejected = { kind: 'rejected'; status: 400 | 413; reason: string };
export type Failed = { kind: 'failed'; status: 503; reason: string; error: unknown };

export interface SignedWebhookSteps<P, M> {
  readonly rawBody: Buffer;
  readonly maxBodyBytes: number;
  /** The signing secrets (several while one is rolled), and what they are called in a 503 reason. */
  readonly secrets: () => Promise<readonly string[]>;
  readonly secretName: string;
  readonly verify: (secrets: readonly string[]) => { ok: true; payload: P } | { ok: false; reason: string };
  /** Parses and maps the verified payload; throws `PermanentError` naming the field when malformed. */
  readonly map: (payload: P) => M;
  readonly eventsOf: (mapped: M) => readonly CanonicalEvent[];
  readonly publisher: EventPublisher;
}

/**
 * The order every signed webhook goes through: size, secret, signature on the raw body, parse and
 * map, publish. A rejection (4xx) has touched nothing; a failure (503) makes the vendor retry, and
 * the consumers' idempotency absorbs events published twice. Only after `mapped` may the caller
 * answer 2xx.
 */
export const runSignedWebhook = async <P, M>(
  steps: SignedWebhookSteps<P, M>,
): Promise<Rejected | Failed | { kind: 'mapped'; mapped: M }> => {
  if (steps.rawBody.length > steps.maxBodyBytes) {
    return { kind: 'rejected', status: 413, reason: `body larger than ${steps.maxBodyBytes} bytes` };
  }
  let secrets: readonly string[];
  try {
    secrets = await steps.secrets();
  } catch (error) {
    return { kind: 'failed', status: 503, reason: `${steps.secretName} unavailable`, error };
  }
  const verified = steps.verify(secrets);
  if (!verified.ok) return { kind: 'rejected', status: 400, reason: verified.reason };

  let mapped: M;
  let events: readonly CanonicalEvent[];
  try {
    mapped = steps.map(verified.payload);
    events = steps.eventsOf(mapped).map(checkCanonical);
  } catch (error) {
    if (isPermanent(error)) return { kind: 'rejected', status: 400, reason: error.message };
    throw error;
  }
  if (events.length > 0) {
    try {
      await steps.publisher.publish(events);
    } catch (error) {
      return { kind: 'failed', status: 503, reason: 'could not publish, retry later', error };
    }
  }
  return { kind: 'mapped', mapped };
};
