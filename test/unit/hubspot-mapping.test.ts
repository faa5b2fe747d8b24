import { HUBSPOT_MAX_BATCH, mapHubSpotBatch, parseHubSpotBatch } from '../../lambdas/adapters/hubspot/map';
import { canonicalEventId, parseEvent } from '../../lambdas/domain/events';
import { PermanentError } from '../../lambdas/shared/errors';
import { vendorJson } from '../support/fixtures';

/** HubSpot's own example batch (a contact.creation event), from its v1 request-validation docs. */
const vendorBatch = vendorJson<Record<string, unknown>[]>(
  'hubspot/webhook-batch-contact.creation.signature-v1-example.json',
);
const [contactCreation] = vendorBatch;

/** A deal stage change in the vendor event's shape, as `deal.*` events share it. */
const dealStageChange = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...contactCreation,
  eventId: 1001,
  subscriptionType: 'deal.propertyChange',
  objectId: 9876543210,
  propertyName: 'dealstage',
  propertyValue: 'closedwon',
  changeSource: 'CRM_UI',
  occurredAt: 1_722_418_502_000,
  ...overrides,
});

const map = (batch: unknown, wonStages?: readonly string[]) =>
  mapHubSpotBatch(parseHubSpotBatch(batch), wonStages);

describe('HubSpot webhook batches to canonical events', () => {
  it('parses HubSpot’s own contact.creation example and ignores it', () => {
    expect(parseHubSpotBatch(vendorBatch)).toHaveLength(1);
    expect(map(vendorBatch)).toEqual({ events: [], ignored: 1 });
  });

  it('maps a deal stage change to closedwon to crm.deal.won', () => {
    const { events, ignored } = map([dealStageChange()]);
    expect(ignored).toBe(0);
    const event = parseEvent(events[0], 'crm.deal.won');
    expect(event.data).toEqual({
      crm: 'hubspot',
      dealId: '9876543210',
      version: '1722418502000',
      stage: 'closedwon',
      name: null,
      accountId: null,
    });
    expect(event.source).toEqual({ vendor: 'hubspot', account: '62515', eventId: '1001' });
    expect(event.occurredAt).toBe('2024-07-31T09:35:02.000Z');
    expect(event.correlationId).toBe('9876543210');
    expect(event.id).toBe(canonicalEventId('hubspot', '62515', '1001', 'crm.deal.won'));
  });

  it('gives a redelivered event the same canonical id, and another event another', () => {
    const first = map([dealStageChange({ attemptNumber: 0 })]).events[0];
    const retry = map([dealStageChange({ attemptNumber: 3 })]).events[0];
    const other = map([dealStageChange({ eventId: 1002 })]).events[0];
    expect(retry?.id).toBe(first?.id);
    expect(other?.id).not.toBe(first?.id);
  });

  it('accepts the older eventType spelling of the event type', () => {
    const { subscriptionType: _current, ...older } = dealStageChange({ eventType: 'deal.propertyChange' });
    expect(map([older]).events).toHaveLength(1);
  });

  it('counts a stage as won only when it is in the configured list', () => {
    const custom = dealStageChange({ propertyValue: '123456789' });
    expect(map([custom]).events).toHaveLength(0);
    expect(map([custom], ['closedwon', '123456789']).events).toHaveLength(1);
    expect(map([dealStageChange()], ['123456789']).events).toHaveLength(0);
  });

  it.each([
    ['another stage', { propertyValue: 'contractsent' }],
    ['another property', { propertyName: 'amount', propertyValue: '1000' }],
    [
      'a deal creation',
      { subscriptionType: 'deal.creation', propertyName: undefined, propertyValue: undefined },
    ],
    ['a contact property change to a won-looking value', { subscriptionType: 'contact.propertyChange' }],
    ['a deal deletion', { subscriptionType: 'deal.deletion' }],
  ])('ignores %s', (_what, overrides) => {
    expect(map([dealStageChange(overrides)])).toEqual({ events: [], ignored: 1 });
  });

  it('tolerates ignored events HubSpot shapes differently, such as association changes without objectId', () => {
    const association = {
      eventId: 2001,
      portalId: 62515,
      occurredAt: 1_722_418_502_000,
      subscriptionType: 'contact.associationChange',
      fromObjectId: 1,
      toObjectId: 2,
      associationType: 'CONTACT_TO_COMPANY',
    };
    expect(map([association, dealStageChange()])).toMatchObject({
      ignored: 1,
      events: [{ type: 'crm.deal.won' }],
    });
  });

  it('maps every won deal of a batch', () => {
    const batch = [
      dealStageChange({ eventId: 1, objectId: 11 }),
      contactCreation,
      dealStageChange({ eventId: 2, objectId: 12 }),
    ];
    const { events, ignored } = map(batch);
    expect(events.map((event) => event.data.dealId)).toEqual(['11', '12']);
    expect(ignored).toBe(1);
  });

  it('accepts a batch of exactly 100 events and an empty one', () => {
    const hundred = Array.from({ length: HUBSPOT_MAX_BATCH }, (_, i) => dealStageChange({ eventId: i + 1 }));
    expect(map(hundred).events).toHaveLength(100);
    expect(map([])).toEqual({ events: [], ignored: 0 });
  });

  it('rejects a batch of more than 100 events', () => {
    const tooMany = Array.from({ length: HUBSPOT_MAX_BATCH + 1 }, (_, i) =>
      dealStageChange({ eventId: i + 1 }),
    );
    expect(() => parseHubSpotBatch(tooMany)).toThrow(PermanentError);
    expect(() => parseHubSpotBatch(tooMany)).toThrow(/101 events/);
  });

  it('rejects a body that is not an array', () => {
    expect(() => parseHubSpotBatch(dealStageChange())).toThrow(/not a JSON array/);
  });

  it.each([
    ['eventId', { eventId: undefined }, /events\.0\.eventId/],
    ['portalId', { portalId: undefined }, /events\.0\.portalId/],
    ['occurredAt', { occurredAt: '2024-07-31' }, /events\.0\.occurredAt/],
    [
      'both type spellings',
      { subscriptionType: undefined },
      /events\.0\.subscriptionType: missing \(nor eventType\)/,
    ],
  ])('rejects an event without a usable %s, naming the field', (_what, overrides, reason) => {
    expect(() => parseHubSpotBatch([dealStageChange(overrides)])).toThrow(reason);
  });

  it('rejects a won stage change without the deal id, naming the field and the event’s position', () => {
    expect(() => map([contactCreation, dealStageChange({ objectId: undefined })])).toThrow(
      /events\.1\.objectId/,
    );
  });
});
