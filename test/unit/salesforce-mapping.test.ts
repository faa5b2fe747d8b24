import { mapOutboundMessage } from '../../lambdas/adapters/salesforce/map';
import { parseOutboundMessage } from '../../lambdas/adapters/salesforce/outbound-message';
import { canonicalEventId, parseEvent } from '../../lambdas/domain/events';
import { PermanentError } from '../../lambdas/shared/errors';
import {
  LEAD_MESSAGE,
  notificationXml,
  outboundMessageWith,
  salesforceFixture,
  wonOpportunityFields,
} from './salesforce-test-messages';

const ORG = '00D000000000001EAA';
const WON = ['Closed Won'];
const map = (raw: Buffer, wonStages = WON) => mapOutboundMessage(parseOutboundMessage(raw), ORG, wonStages);
const opportunity = (fields: Record<string, string | null>, notificationId = '04l000000000001AAA') =>
  notificationXml(notificationId, 'Opportunity', fields);

describe('Salesforce outbound messages to canonical events', () => {
  it('maps a closed-won Opportunity, in the fixture’s envelope, to crm.deal.won', () => {
    const { events, ignored } = map(outboundMessageWith([opportunity(wonOpportunityFields())]));
    expect(ignored).toBe(0);
    expect(events).toHaveLength(1);
    const event = parseEvent(events[0], 'crm.deal.won');
    expect(event.data).toEqual({
      crm: 'salesforce',
      dealId: '0066g00000AbCdEAAV',
      version: '2024-07-31T09:15:02.000Z',
      stage: 'Closed Won',
      name: 'Acme & Co — 3-year platform',
      accountId: '0016g00000XyZaBAAV',
    });
    expect(event.source).toEqual({ vendor: 'salesforce', account: ORG, eventId: '04l000000000001AAA' });
    expect(event.correlationId).toBe('0066g00000AbCdEAAV');
    expect(event.occurredAt).toBe('2024-07-31T09:15:02.000Z');
  });

  it('gives a re-sent notification the same canonical id, keyed on the notification id', () => {
    const first = map(outboundMessageWith([opportunity(wonOpportunityFields())])).events[0];
    const retry = map(outboundMessageWith([opportunity(wonOpportunityFields())])).events[0];
    const other = map(outboundMessageWith([opportunity(wonOpportunityFields(), '04l000000000002AAA')]))
      .events[0];
    expect(first?.id).toBe(canonicalEventId('salesforce', ORG, '04l000000000001AAA', 'crm.deal.won'));
    expect(retry?.id).toBe(first?.id);
    expect(other?.id).not.toBe(first?.id);
  });

  it('parses the vendor’s three-Lead message and ignores its Leads', () => {
    expect(map(salesforceFixture(LEAD_MESSAGE))).toEqual({ events: [], ignored: 3 });
  });

  it('ignores an Opportunity that is not won', () => {
    const open = wonOpportunityFields({ StageName: 'Negotiation/Review', IsWon: 'false', IsClosed: 'false' });
    const lost = wonOpportunityFields({ StageName: 'Closed Lost', IsWon: 'false' });
    expect(map(outboundMessageWith([opportunity(open), opportunity(lost)]))).toEqual({
      events: [],
      ignored: 2,
    });
  });

  it('trusts IsWon over the stage name, so a renamed won stage still counts', () => {
    const renamed = wonOpportunityFields({ StageName: 'Signed', IsWon: 'true' });
    expect(map(outboundMessageWith([opportunity(renamed)])).events).toHaveLength(1);
  });

  it('falls back to the configured won stages when the message does not send IsWon', () => {
    const { IsWon: _notSent, ...withoutIsWon } = wonOpportunityFields({ StageName: 'Signed' });
    const raw = outboundMessageWith([opportunity(withoutIsWon)]);
    expect(map(raw).events).toHaveLength(0);
    expect(map(raw, ['Closed Won', 'Signed']).events).toHaveLength(1);
  });

  it('uses SystemModstamp as the version when LastModifiedDate is not sent', () => {
    const { LastModifiedDate: _notSent, ...fields } = wonOpportunityFields();
    const event = map(outboundMessageWith([opportunity(fields)])).events[0];
    expect(event?.data.version).toBe('2024-07-31T09:15:03.000Z');
  });

  it('maps every won Opportunity of a message and counts the rest as ignored', () => {
    const raw = outboundMessageWith([
      opportunity(wonOpportunityFields(), '04l000000000001AAA'),
      notificationXml('04l000000000002AAA', 'Lead', { Id: '00Q000000000001AAA' }),
      opportunity(wonOpportunityFields({ Id: '0066g00000AbCdFAAV' }), '04l000000000003AAA'),
    ]);
    const { events, ignored } = map(raw);
    expect(events.map((event) => event.data.dealId)).toEqual(['0066g00000AbCdEAAV', '0066g00000AbCdFAAV']);
    expect(ignored).toBe(1);
  });

  it('keeps a nil AccountId or Name as null', () => {
    const event = map(
      outboundMessageWith([opportunity(wonOpportunityFields({ AccountId: null, Name: null }))]),
    ).events[0];
    expect(event?.data).toMatchObject({ accountId: null, name: null });
  });

  it.each([
    [
      'no version stamp',
      { LastModifiedDate: undefined, SystemModstamp: undefined },
      /LastModifiedDate: missing/,
    ],
    [
      'neither IsWon nor StageName',
      { IsWon: undefined, StageName: undefined },
      /neither IsWon nor StageName/,
    ],
    ['a malformed Id', { Id: 'not-an-id' }, /Notification\.0\.sObject\.Id/],
    ['a malformed LastModifiedDate', { LastModifiedDate: 'yesterday' }, /sObject\.LastModifiedDate/],
  ])('rejects a won Opportunity with %s, naming the field', (_what, overrides, reason) => {
    const fields = Object.fromEntries(
      Object.entries({ ...wonOpportunityFields(), ...overrides }).filter(([, value]) => value !== undefined),
    ) as Record<string, string | null>;
    const raw = outboundMessageWith([opportunity(fields)]);
    expect(() => map(raw)).toThrow(PermanentError);
    expect(() => map(raw)).toThrow(reason);
  });
});
