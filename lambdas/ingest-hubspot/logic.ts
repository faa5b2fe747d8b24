import type { EventPublisher } from '../adapters/aws/event-publisher';
import { type MappedBatch, mapHubSpotBatch, parseHubSpotBatch } from '../adapters/hubspot/map';
import { type HubSpotSignedRequest, verifyHubSpotSignature } from '../adapters/hubspot/verify';
import { isPermanent } from '../shared/errors';

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
  | { kind: 'rejected'; status: 400 | 413; reason: string }
  | { kind: 'failed'; status: 503; reason: string; error: unknown };

/**
 * Verify, parse, map, publish — and answer 2xx only once every event of the batch is on the bus.
 * HubSpot retries a delivery that does not get a 2xx, so a 5xx loses nothing; the consumers'
 * idempotency absorbs the events of a batch that are published twice.
 */
export const ingestHubSpotWebhook = async (
  request: IngestRequest,
  deps: IngestDeps,
): Promise<IngestOutcome> => {
  if (request.rawBody.length > deps.maxBodyBytes) {
    return { kind: 'rejected', status: 413, reason: `body larger than ${deps.maxBodyBytes} bytes` };
  }
  let secrets: readonly string[];
  try {
    secrets = await deps.clientSecrets();
  } catch (error) {
    return { kind: 'failed', status: 503, reason: 'client secret unavailable', error };
  }
  const verified = verifyHubSpotSignature(request, secrets, deps.nowMs?.());
  if (!verified.ok) return { kind: 'rejected', status: 400, reason: verified.reason };

  let events: ReturnType<typeof parseHubSpotBatch>;
  let mapped: MappedBatch;
  try {
    events = parseHubSpotBatch(verified.payload);
    mapped = mapHubSpotBatch(events, deps.wonStages);
  } catch (error) {
    if (isPermanent(error)) return { kind: 'rejected', status: 400, reason: error.message };
    throw error;
  }

  if (mapped.events.length > 0) {
    try {
      await deps.publisher.publish(mapped.events);
    } catch (error) {
      return { kind: 'failed', status: 503, reason: 'could not publish the events, retry later', error };
    }
  }
  return {
    kind: 'accepted',
    status: 200,
    events: events.length,
    published: mapped.events.map((event) => ({ eventId: event.id, vendorEventId: event.source.eventId })),
    ignored: mapped.ignored,
  };
};
