import { type CanonicalEvent, canonicalEventId, describeIssues } from '../../domain/events';
import { PermanentError } from '../../shared/errors';
import type { OutboundMessage, OutboundNotification } from './outbound-message';
import { opportunityFieldsSchema } from './schema';

/** The standard won stage of a new org; orgs that renamed it configure their own list. */
export const SALESFORCE_DEFAULT_WON_STAGES: readonly string[] = ['Closed Won'];

export interface MappedOutboundMessage {
  readonly events: readonly CanonicalEvent<'crm.deal.won'>[];
  /** Notifications acknowledged without an event: other objects, or opportunities not won. */
  readonly ignored: number;
}

const mapNotification = (
  notification: OutboundNotification,
  index: number,
  organizationId: string,
  wonStages: readonly string[],
): CanonicalEvent<'crm.deal.won'> | null => {
  if (notification.sObject.type !== 'Opportunity') return null;
  const path = `notifications.Notification.${index}.sObject`;
  const result = opportunityFieldsSchema.safeParse(notification.sObject.fields);
  if (!result.success) {
    throw new PermanentError(`Opportunity is malformed: ${describeIssues(result.error.issues, path)}`, {
      code: 'MalformedPayload',
    });
  }
  const opportunity = result.data;
  // IsWon is what the stage's definition says (a renamed or added won stage included), so it wins
  // over the stage name; the name list is the fallback for messages that do not send IsWon.
  let won: boolean;
  if (opportunity.IsWon !== null && opportunity.IsWon !== undefined) {
    won = opportunity.IsWon === 'true' || opportunity.IsWon === '1';
  } else if (opportunity.StageName !== null && opportunity.StageName !== undefined) {
    won = wonStages.includes(opportunity.StageName);
  } else {
    throw new PermanentError(
      `Opportunity is malformed: ${path}: neither IsWon nor StageName is sent; add them to the outbound message's fields`,
      { code: 'MalformedPayload' },
    );
  }
  if (!won) return null;

  // The stamp orders deliveries of the same deal: Salesforce can deliver an older notification last.
  const version = opportunity.LastModifiedDate ?? opportunity.SystemModstamp;
  if (!version) {
    throw new PermanentError(
      `Opportunity is malformed: ${path}.LastModifiedDate: missing (and no SystemModstamp); add one to the outbound message's fields`,
      { code: 'MalformedPayload' },
    );
  }
  const type = 'crm.deal.won' as const;
  return {
    // Salesforce re-sends a notification with the same notification id until it is acknowledged.
    id: canonicalEventId('salesforce', organizationId, notification.id, type),
    type,
    version: 1,
    occurredAt: new Date(version).toISOString(),
    source: { vendor: 'salesforce', account: organizationId, eventId: notification.id },
    correlationId: opportunity.Id,
    causationId: null,
    data: {
      crm: 'salesforce',
      dealId: opportunity.Id,
      version,
      stage: opportunity.StageName ?? '',
      name: opportunity.Name ?? null,
      accountId: opportunity.AccountId ?? null,
    },
  };
};

/**
 * Maps every notification of an outbound message: a won Opportunity becomes `crm.deal.won`, anything
 * else is counted as ignored. `organizationId` is the org's id in its 18-character form, so the
 * canonical id does not depend on which form a message or the configuration used.
 * Throws `PermanentError` naming the field when an Opportunity cannot be read.
 */
export const mapOutboundMessage = (
  message: OutboundMessage,
  organizationId: string,
  wonStages: readonly string[] = SALESFORCE_DEFAULT_WON_STAGES,
): MappedOutboundMessage => {
  const events: CanonicalEvent<'crm.deal.won'>[] = [];
  message.notifications.forEach((notification, index) => {
    const event = mapNotification(notification, index, organizationId, wonStages);
    if (event) events.push(event);
  });
  return { events, ignored: message.notifications.length - events.length };
};
