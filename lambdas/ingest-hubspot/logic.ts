import { mapHubSpotBatch, parseHubSpotBatch } from '../adapters/hubspot/map';
import { type HubSpotSignedRequest, verifyHubSpotSignature } from '../adapters/hubspot/verify';
import type { EventPublisher } from '../domain/ports';
import { type Failed, type Rejected, runSignedWebhook } from '../shared/signed-webhook';

export type IngestRequest = HubSpotSignedRequest;

export interface IngestDeps {
  readonly clientSecrets: () => Promise<readonly string[]>;
  readonly publisher: EventPublisher;
  readonly wonStages: readonly string[];
  readonly maxBodyBytes: number;
  readonly nowMs?: () => number;
}

export type IngestOutcome =
  | {
      kind: 'accepted';
      status: 200;
      events: number;
      published: readonly { eventId: string; vendorEventId: string }[];
      ignored: number;
    }
  | Rejected
  | Failed;

/**
 * Verify, parse, map, publish — and answer 2xx only once every event of the batch is on the bus.
 * HubSpot retries a delivery that does not get a 2xx, so a 5xx loses nothing; the consumers'
 * idempotency absorbs the events of a batch that are published twice.
 */
export const ingestHubSpotWebhook = async (
  request: IngestRequest,
  deps: IngestDeps,
): Promise<IngestOutcome> => {
  const result = await runSignedWebhook({
    rawBody: request.rawBody,
    maxBodyBytes: deps.maxBodyBytes,
    secrets: deps.clientSecrets,
    secretName: 'client secret',
    verify: (secrets) => verifyHubSpotSignature(request, secrets, deps.nowMs?.()),
    map: (payload) => {
      const events = parseHubSpotBatch(payload);
      return { count: events.length, batch: mapHubSpotBatch(events, deps.wonStages) };
    },
    eventsOf: ({ batch }) => batch.events,
    publisher: deps.publisher,
  });
  if (result.kind !== 'mapped') return result;
  const { count, batch } = result.mapped;
  return {
    kind: 'accepted',
    status: 200,
    events: count,
    published: batch.events.map((event) => ({ eventId: event.id, vendorEventId: event.source.eventId })),
    ignored: batch.ignored,
  };
};
