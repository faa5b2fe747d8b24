import { mapStripeEvent, parseStripeEvent } from '../adapters/stripe/map';
import { verifyStripeSignature } from '../adapters/stripe/verify';
import type { EventPublisher } from '../domain/ports';
import { type Failed, type Rejected, runSignedWebhook } from '../shared/signed-webhook';

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
  | Rejected
  | Failed;

/**
 * Verify, map, publish — in that order, and answer 2xx only once the event is on the bus. A
 * rejected webhook has touched nothing; a failure after verification answers 5xx so Stripe retries.
 */
export const ingestStripeWebhook = async (
  request: IngestRequest,
  deps: IngestDeps,
): Promise<IngestOutcome> => {
  const result = await runSignedWebhook({
    rawBody: request.rawBody,
    maxBodyBytes: deps.maxBodyBytes,
    secrets: deps.webhookSecrets,
    secretName: 'webhook secret',
    verify: (secrets) =>
      verifyStripeSignature(request.rawBody, request.signature, secrets, deps.nowSeconds?.()),
    map: (payload) => {
      const stripeEvent = parseStripeEvent(payload);
      return { stripeEvent, event: mapStripeEvent(stripeEvent, deps.account) };
    },
    eventsOf: ({ event }) => (event ? [event] : []),
    publisher: deps.publisher,
  });
  if (result.kind !== 'mapped') return result;
  const { stripeEvent, event } = result.mapped;
  if (!event)
    return { kind: 'ignored', status: 200, vendorEventId: stripeEvent.id, vendorType: stripeEvent.type };
  return {
    kind: 'published',
    status: 200,
    eventId: event.id,
    vendorEventId: stripeEvent.id,
    type: event.type,
  };
};
