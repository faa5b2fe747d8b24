import { XMLParser } from 'fast-xml-parser';
import {
  ACK_RESPONSE_XML,
  parseOutboundMessage,
  soapFault,
} from '../../lambdas/adapters/salesforce/outbound-message';
import { PermanentError } from '../../lambdas/shared/errors';
import {
  ACK_RESPONSE,
  EMPTY_MESSAGE,
  LEAD_MESSAGE,
  notificationXml,
  outboundMessageWith,
  salesforceFixture,
  wonOpportunityFields,
} from './salesforce-test-messages';

const SOAP_HEAD =
  '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>';
const SOAP_TAIL = '</soapenv:Body></soapenv:Envelope>';

describe('parsing Salesforce outbound messages', () => {
  it('reads the vendor fixture, byte order mark and all: header fields and three Lead notifications', () => {
    const raw = salesforceFixture(LEAD_MESSAGE);
    expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const message = parseOutboundMessage(raw);
    expect(message).toMatchObject({
      organizationId: '0123456789ABCDENNN',
      actionId: '05h370200108OsUAAU',
      enterpriseUrl: 'https://na31.salesforce.com/services/Soap/c/34.0/0123456789ABCDE',
      partnerUrl: 'https://na31.salesforce.com/services/Soap/u/34.0/0123456789ABCDE',
      sessionIdSent: true,
    });
    expect(message.notifications.map((n) => n.id)).toEqual([
      '04l37000000L0E5AAK',
      '14l37000123L0E5AAK',
      '24l37123450L0E5AAK',
    ]);
    expect(message.notifications.map((n) => n.sObject.type)).toEqual(['Lead1', 'Lead2', 'Lead3']);
    expect(message.notifications[1]?.sObject.fields).toMatchObject({
      Id: '1123456789ABCDEEAE',
      FirstName: 'Benjamin',
      PostalCode: '98052',
      IsConverted: 'false',
      LastModifiedDate: '2015-08-14T18:27:02.000Z',
    });
    expect(Object.keys(message.notifications[0]?.sObject.fields ?? {})).toHaveLength(28);
  });

  it('keeps every value a string: no id or amount is turned into a number', () => {
    const message = parseOutboundMessage(
      outboundMessageWith([notificationXml('04l000000000001AAA', 'Opportunity', wonOpportunityFields())]),
    );
    const fields = message.notifications[0]?.sObject.fields;
    expect(fields?.Amount).toBe('1.5E7');
    expect(fields?.Name).toBe('Acme & Co — 3-year platform');
  });

  it('never keeps the session id, which is a live API session of the org', () => {
    const raw = salesforceFixture(LEAD_MESSAGE);
    const sessionId = /<SessionId>([^<]+)<\/SessionId>/.exec(raw.toString('utf8'))?.[1];
    expect(sessionId).toMatch(/^0123456789ABCDE!BSGSRAzG9lPxyKRPjJ3\./);
    expect(JSON.stringify(parseOutboundMessage(raw))).not.toContain(sessionId);
  });

  it('reads a message without BOM, with a nil session id and nil fields', () => {
    const raw = outboundMessageWith([
      notificationXml('04l000000000001AAA', 'Opportunity', wonOpportunityFields({ AccountId: null })),
    ])
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .replace(/<SessionId>[^<]*<\/SessionId>/, '<SessionId xsi:nil="true"/>');
    const message = parseOutboundMessage(raw);
    expect(message.sessionIdSent).toBe(false);
    expect(message.notifications[0]?.sObject.fields.AccountId).toBeNull();
  });

  it('resolves namespaces rather than prefixes: any prefix for the outbound namespace, any for xsi', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
 <s:Body>
  <om:notifications xmlns:om="http://soap.sforce.com/2005/09/outbound">
   <om:OrganizationId>00D000000000001</om:OrganizationId>
   <om:Notification>
    <om:Id>04l000000000001AAA</om:Id>
    <om:sObject i:type="obj:Opportunity" xmlns:obj="urn:sobject.enterprise.soap.sforce.com">
     <obj:Id>0066g00000AbCdEAAV</obj:Id>
     <obj:AccountId i:nil="true"/>
    </om:sObject>
   </om:Notification>
  </om:notifications>
 </s:Body>
</s:Envelope>`;
    const message = parseOutboundMessage(xml);
    expect(message.organizationId).toBe('00D000000000001');
    expect(message.notifications[0]?.sObject).toEqual({
      type: 'Opportunity',
      fields: { Id: '0066g00000AbCdEAAV', AccountId: null },
    });
  });

  it('acknowledges an empty notifications element as zero notifications, without error', () => {
    const message = parseOutboundMessage(salesforceFixture(EMPTY_MESSAGE));
    expect(message.notifications).toEqual([]);
    expect(message.organizationId).toBeNull();
  });

  it.each([
    ['an empty body', '', /body is empty/],
    ['malformed XML', `${SOAP_HEAD}<notifications>${SOAP_TAIL}`, /not well-formed XML/],
    ['text that is not XML', 'OrganizationId=00D000000000001', /not well-formed XML/],
    ['a document type declaration', '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', /DTD/],
    ['a body that is not a SOAP envelope', '<notifications/>', /not a SOAP 1\.1 Envelope/],
    [
      'a SOAP 1.2 envelope',
      '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>',
      /not a SOAP 1\.1 Envelope/,
    ],
    [
      'an envelope without a Body',
      '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"/>',
      /has no Body/,
    ],
    [
      'a body holding some other request',
      `${SOAP_HEAD}<query xmlns="urn:partner.soap.sforce.com"/>${SOAP_TAIL}`,
      /does not hold a notifications element/,
    ],
    [
      'a notifications element in the wrong namespace',
      `${SOAP_HEAD}<notifications xmlns="urn:example"/>${SOAP_TAIL}`,
      /does not hold a notifications element/,
    ],
    ['an undeclared prefix', `${SOAP_HEAD}<x:notifications/>${SOAP_TAIL}`, /prefix 'x' is not declared/],
  ])('rejects %s with a reason', (_what, body, reason) => {
    expect(() => parseOutboundMessage(body)).toThrow(PermanentError);
    expect(() => parseOutboundMessage(body)).toThrow(reason);
  });

  it('rejects notifications without an OrganizationId, naming it', () => {
    const raw = outboundMessageWith([
      notificationXml('04l000000000001AAA', 'Lead', { Id: '00Q000000000001AAA' }),
    ])
      .toString('utf8')
      .replace(/<OrganizationId>[^<]*<\/OrganizationId>/, '');
    expect(() => parseOutboundMessage(raw)).toThrow('notifications.OrganizationId: missing');
  });

  it('rejects an OrganizationId that is not a Salesforce id', () => {
    const raw = outboundMessageWith([], { organizationId: 'acme-org' });
    expect(() => parseOutboundMessage(raw)).toThrow(/OrganizationId: not a 15- or 18-character/);
  });

  it('rejects a notification without an Id or without a typed sObject, naming which one', () => {
    const lead = notificationXml('04l000000000001AAA', 'Lead', { Id: '00Q000000000001AAA' });
    const noId = lead.replace(/<Id>04l[^<]*<\/Id>/, '');
    expect(() => parseOutboundMessage(outboundMessageWith([lead, noId]))).toThrow(
      'notifications.Notification.1.Id: missing',
    );
    const untyped = lead.replace(' xsi:type="sf:Lead"', '');
    expect(() => parseOutboundMessage(outboundMessageWith([untyped]))).toThrow(
      /notifications\.Notification\.0\.sObject: missing xsi:type/,
    );
  });

  it('never quotes field values in its reasons', () => {
    const raw = outboundMessageWith([], { organizationId: 'secret-looking-value' });
    let reason = '';
    try {
      parseOutboundMessage(raw);
    } catch (error) {
      reason = error instanceof Error ? error.message : '';
    }
    expect(reason).toMatch(/OrganizationId/);
    expect(reason).not.toContain('secret-looking-value');
  });
});

describe('answering Salesforce', () => {
  it('acknowledges with exactly the vendor fixture’s notificationsResponse (its file BOM aside)', () => {
    const expected = salesforceFixture(ACK_RESPONSE)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    expect(ACK_RESPONSE_XML).toBe(expected);
  });

  it('builds an Ack that an XML parser reads as notificationsResponse/Ack = true in the outbound namespace', () => {
    const parsed = new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(ACK_RESPONSE_XML);
    const response = parsed['soapenv:Envelope']['soapenv:Body'].notificationsResponse;
    expect(response['@_xmlns']).toBe('http://soap.sforce.com/2005/09/outbound');
    expect(response.Ack).toBe('true');
  });

  it('answers a failure with a SOAP fault that carries no Ack and escapes its reason', () => {
    const fault = soapFault('Client', 'a < b & "c"');
    expect(fault).not.toContain('<Ack>');
    expect(fault).toContain('<faultcode>soapenv:Client</faultcode>');
    expect(fault).toContain('<faultstring>a &lt; b &amp; &quot;c&quot;</faultstring>');
  });
});
