import { type CanonicalEvent, canonicalEventId, describeIssues } from '../../domain/events';
import { PermanentError } from '../../shared/errors';
import { dealStageChangeSchema, type HubSpotEvent, hubspotEventSchema } from './schema';

/** HubSpot sends at most 100 events per request. https://developers.hubspot.com/docs/api/webhooks */
export const HUBSPOT_MAX_BATCH = 100;

/** The internal value of the default pipeline's won stage; other pipelines configure their own. */
export const HUBSPOT_DEFAULT_WON_STAGES: readonly string[] = ['closedwon'];

const malformed = (reason: string): PermanentError =>
  new PermanentError(reason, { code: 'MalformedPayload' });

/** The event's type under either spelling. */
export const hubspotEventType = (event: HubSpotEvent): string =>
  event.subscriptionType ?? event.eventType ?? '';

/** Parses a verified body: a JSON array of 0 to 100 events. Throws `PermanentError` naming the field. */
export const parseHubSpotBatch = (payload: unknown): HubSpotEvent[] => {
  if (!Array.isArray(payload)) throw malformed('body is not a JSON array of webhook events');
  if (payload.length > HUBSPOT_MAX_BATCH) {
    throw malformed(`batch holds ${payload.length} events, more than the ${HUBSPOT_MAX_BATCH} HubSpot sends`);
  }
  return payload.map((value: unknown, index) => {
    const result = hubspotEventSchema.safeParse(value);
    if (!result.success) {
      throw malformed(`event is malformed: ${describeIssues(result.error.issues, `events.${index}`)}`);
    }
    if (hubspotEventType(result.data) === '') {
      throw malformed(`event is malformed: events.${index}.subscriptionType: missing (nor eventType)`);
    }
    return result.data;
  });
};

/**
 * Maps one event: a `deal.propertyChange` of `dealstage` to a won stage becomes `crm.deal.won`; any
 * other event gives `null` (acknowledged and ignored).
 */
export const mapHubSpotEvent = (
  event: HubSpotEvent,
  index: number,
  wonStages: readonly string[] = HUBSPOT_DEFAULT_WON_STAGES,
): CanonicalEvent<'crm.deal.won'> | null => {
  if (hubspotEventType(event) !== 'deal.propertyChange' || event.propertyName !== 'dealstage') return null;
  const result = dealStageChangeSchema.safeParse(event);
  if (!result.success) {
    throw malformed(`event is malformed: ${describeIssues(result.error.issues, `events.${index}`)}`);
  }
  const change = result.data;
  if (!wonStages.includes(change.propertyValue)) return null;
  const type = 'crm.deal.won' as const;
  const portalId = String(event.portalId);
  const eventId = String(event.eventId);
  const dealId = String(change.objectId);
  return {
    // HubSpot retries a failed delivery with the same eventId.
    id: canonicalEventId('hubspot', portalId, eventId, type),
    type,
    version: 1,
    occurredAt: new Date(event.occurredAt).toISOString(),
    source: { vendor: 'hubspot', account: portalId, eventId },
    correlationId: dealId,
    causationId: null,
    data: {
      crm: 'hubspot',
      dealId,
      // occurredAt orders deliveries of the same deal: HubSpot does not deliver in order.
      version: String(event.occurredAt),
      stage: change.propertyValue,
      name: null,
      accountId: null,
    },
  };
};

export interface MappedBatch {
  readonly events: readonly CanonicalEvent<'crm.deal.won'>[];
  readonly ignored: number;
}

export const mapHubSpotBatch = (
  events: readonly HubSpotEvent[],
  wonStages: readonly string[] = HUBSPOT_DEFAULT_WON_STAGES,
): MappedBatch => {
  const mapped: CanonicalEvent<'crm.deal.won'>[] = [];
  events.forEach((event, index) => {
    const canonical = mapHubSpotEvent(event, index, wonStages);
    if (canonical) mapped.push(canonical);
  });
  return { events: mapped, ignored: events.length - mapped.length };
};
