import type { EventPublisher } from '../adapters/aws/event-publisher';
import { mapStripeEvent, parseStripeEvent } from '../adapters/stripe/map';
import { verifyStripeSignature } from '../adapters/stripe/verify';
import { isPermanent } from '../shared/errors';

export interface IngestRequest {
  readonly rawBody: Buffer;
  readonly signature: string | undefined;
}

export interface IngestDeps {
  readonly webhookSecrets: () => Promise<readonly string[]>;
  readonly publisher: EventPublisher;
  readonly account: string;
  readonly maxBodyBytes: number;
  readonly nowSeconds?: () => number;
}

export type IngestOutcome =
  | { kind: 'published'; status: 200; eventId: string; vendorEventId: string; type: string }
  | { kind: 'ignored'; status: 200; vendorEventId: string; vendorType: string }
  | { kind: 'rejected'; status: 400 | 413; reason: string }
  | { kind: 'failed'; status: 503; reason: string; error: unknown };

/**
 * Verify, map, publish — in that order, and answer 2xx only once the event is on the bus. A
 * rejected webhook has touched nothing; a failure after verification answers 5xx so Stripe retries.
 */
export const ingestStripeWebhook = async (
  request: IngestRequest,
  deps: IngestDeps,
): Promise<IngestOutcome> => {
  if (request.rawBody.length > deps.maxBodyBytes) {
    return { kind: 'rejected', status: 413, reason: `body larger than ${deps.maxBodyBytes} bytes` };
  }
  let secrets: readonly string[];
  try {
    secrets = await deps.webhookSecrets();
  } catch (error) {
    return { kind: 'failed', status: 503, reason: 'webhook secret unavailable', error };
  }
  const verified = verifyStripeSignature(request.rawBody, request.signature, secrets, deps.nowSeconds?.());
  if (!verified.ok) return { kind: 'rejected', status: 400, reason: verified.reason };

  let event: ReturnType<typeof mapStripeEvent>;
  let stripeEvent: ReturnType<typeof parseStripeEvent>;
  try {
    stripeEvent = parseStripeEvent(verified.payload);
    event = mapStripeEvent(stripeEvent, deps.account);
  } catch (error) {
    if (isPermanent(error)) return { kind: 'rejected', status: 400, reason: error.message };
    throw error;
  }
  if (!event)
    return { kind: 'ignored', status: 200, vendorEventId: stripeEvent.id, vendorType: stripeEvent.type };

  try {
    await deps.publisher.publish([event]);
  } catch (error) {
    return { kind: 'failed', status: 503, reason: 'could not publish the event, retry later', error };
  }
  return {
    kind: 'published',
    status: 200,
    eventId: event.id,
    vendorEventId: stripeEvent.id,
    type: event.type,
  };
};
