import * as z from 'zod/mini';

/**
 * HubSpot webhook events, as delivered in a batch (a JSON array).
 * https://developers.hubspot.com/docs/api/webhooks#webhook-payloads
 * Only the fields every event has are required here; the fields a mapping needs are checked by that
 * mapping, so an event revbridge ignores cannot fail the batch it came in. Unknown fields are tolerated.
 * The type is `subscriptionType` in current payloads and `eventType` in older documentation: either.
 */

// HubSpot sends ids as JSON numbers; a string of digits is accepted too.
const numericId = z.union([z.int().check(z.nonnegative()), z.string().check(z.regex(/^\d+$/))]);

export const hubspotEventSchema = z.object({
  eventId: numericId,
  portalId: numericId,
  occurredAt: z.int().check(z.positive()),
  subscriptionType: z.optional(z.string().check(z.minLength(1))),
  eventType: z.optional(z.string().check(z.minLength(1))),
  objectId: z.optional(numericId),
  propertyName: z.optional(z.unknown()),
  propertyValue: z.optional(z.unknown()),
});
export type HubSpotEvent = z.infer<typeof hubspotEventSchema>;

/** What a deal stage change must carry to be mapped. */
export const dealStageChangeSchema = z.object({
  objectId: numericId,
  propertyName: z.literal('dealstage'),
  propertyValue: z.string(),
});
