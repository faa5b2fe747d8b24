import { mapOutboundMessage } from '../adapters/salesforce/map';
import {
  ACK_RESPONSE_XML,
  type OutboundMessage,
  parseOutboundMessage,
  soapFault,
} from '../adapters/salesforce/outbound-message';
import { sameRecordId, toCaseSafeId } from '../adapters/salesforce/record-id';
import { checkCanonical } from '../domain/events';
import type { EventPublisher } from '../domain/ports';
import { isPermanent } from '../shared/errors';
import { constantTimeEqual } from '../shared/http';

export interface IngestRequest {
  readonly rawBody: Buffer;
  /** The token the request carried in its URL, if any. */
  readonly pathToken: string | undefined;
}

export interface IngestDeps {
  readonly publisher: EventPublisher;
  /** The configured org id, 15 or 18 characters. */
  readonly organizationId: string;
  readonly wonStages: readonly string[];
  readonly maxBodyBytes: number;
  /** The accepted path tokens; absent when no token is configured (then none is required). */
  readonly pathTokens?: () => Promise<readonly string[]>;
}

interface Published {
  readonly eventId: string;
  readonly vendorEventId: string;
}

/** Every outcome carries the SOAP body to answer with: the Ack only when everything was published. */
export type IngestOutcome =
  | {
      kind: 'acknowledged';
      status: 200;
      body: string;
      notifications: number;
      published: readonly Published[];
      ignored: number;
    }
  | { kind: 'rejected'; status: 400 | 403 | 413; body: string; reason: string }
  | { kind: 'failed'; status: 503; body: string; reason: string; error: unknown };

const rejected = (status: 400 | 403 | 413, reason: string): IngestOutcome => ({
  kind: 'rejected',
  status,
  body: soapFault('Client', reason),
  reason,
});

const failed = (reason: string, error: unknown): IngestOutcome => ({
  kind: 'failed',
  status: 503,
  body: soapFault('Server', reason),
  reason,
  error,
});

/**
 * Authenticate, parse, check the org, map, publish — and acknowledge only once every event of the
 * message is on the bus: Salesforce retries an unacknowledged message for up to 24 hours, so a 5xx
 * loses nothing, while an Ack sent too early would.
 *
 * Salesforce does not sign outbound messages. Its documented defences are TLS, the Salesforce IP
 * ranges, the Salesforce client certificate (mutual TLS), and checking the OrganizationId in every
 * message (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_security.htm).
 * The org id is not a secret (it is in every URL and email the org sends), so on its own it only stops
 * other orgs' messages; mutual TLS needs a custom domain with a truststore, which is the lead's call in
 * the API construct. What this function adds is a shared token in the endpoint URL (only TLS protects
 * it), compared in constant time when one is configured, then the org check.
 */
export const ingestSalesforceMessage = async (
  request: IngestRequest,
  deps: IngestDeps,
): Promise<IngestOutcome> => {
  if (request.rawBody.length > deps.maxBodyBytes) {
    return rejected(413, `body larger than ${deps.maxBodyBytes} bytes`);
  }
  if (deps.pathTokens) {
    let tokens: readonly string[];
    try {
      tokens = await deps.pathTokens();
    } catch (error) {
      return failed('path token unavailable, retry later', error);
    }
    if (request.pathToken === undefined) return rejected(403, 'missing path token');
    const presented = request.pathToken;
    // Every configured token is compared, so the time taken does not tell which one (if any) matched.
    const matches = tokens.map((token) => constantTimeEqual(presented, token)).filter(Boolean).length;
    if (matches === 0) return rejected(403, 'path token does not match');
  }

  let message: OutboundMessage;
  try {
    message = parseOutboundMessage(request.rawBody);
  } catch (error) {
    if (isPermanent(error)) return rejected(400, error.message);
    throw error;
  }
  if (message.organizationId !== null && !sameRecordId(message.organizationId, deps.organizationId)) {
    return rejected(403, 'OrganizationId does not match the configured organization');
  }
  const account = toCaseSafeId(deps.organizationId) ?? deps.organizationId;

  let mapped: ReturnType<typeof mapOutboundMessage>;
  try {
    mapped = mapOutboundMessage(message, account, deps.wonStages);
    mapped.events.forEach(checkCanonical);
  } catch (error) {
    if (isPermanent(error)) return rejected(400, error.message);
    throw error;
  }

  if (mapped.events.length > 0) {
    try {
      await deps.publisher.publish(mapped.events);
    } catch (error) {
      return failed('could not publish the events, retry later', error);
    }
  }
  return {
    kind: 'acknowledged',
    status: 200,
    body: ACK_RESPONSE_XML,
    notifications: message.notifications.length,
    published: mapped.events.map((event) => ({ eventId: event.id, vendorEventId: event.source.eventId })),
    ignored: mapped.ignored,
  };
};
