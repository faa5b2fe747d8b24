import type { FieldDef, SObjectDef } from './schema';
import type { SRecord } from './store';
import { child, parseXml, type XmlElement } from './xml';

/**
 * Outbound Messages as Salesforce sends them: a SOAP 1.1 `notifications` request in the
 * `http://soap.sforce.com/2005/09/outbound` namespace, preceded by a UTF-8 byte order mark (see the
 * vendor fixtures in shared/fixtures/vendors/salesforce), and acknowledged only by a
 * `notificationsResponse` whose `Ack` is true; anything else is retried for up to 24 hours.
 * https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_understanding.htm
 */

export const OUTBOUND_NAMESPACE = 'http://soap.sforce.com/2005/09/outbound';
export const SOAP_ENVELOPE_NAMESPACE = 'http://schemas.xmlsoap.org/soap/envelope/';
export const ENTERPRISE_SOBJECT_NAMESPACE = 'urn:sobject.enterprise.soap.sforce.com';
const BOM = '\uFEFF';

export interface OutboundNotification {
  /** The notification id (key prefix 04l); the same on every retry of the message. */
  id: string;
  sobject: SObjectDef;
  record: SRecord;
  /** The fields the outbound message definition selected; `Id` always comes first. */
  fields: readonly string[];
}

export interface OutboundEnvelope {
  organizationId: string;
  actionId: string;
  /** `undefined` when the definition does not send a session id (then the element is nil). */
  sessionId: string | undefined;
  enterpriseUrl: string;
  partnerUrl: string;
  notifications: readonly OutboundNotification[];
}

export function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * The SOAP API writes xsd:double the way Java's `Double.toString` does: always a fractional digit
 * (`1000.0`) and scientific notation from 10^7 up (`1.5E7`), which a listener has to parse.
 */
export function soapDouble(n: number): string {
  const abs = Math.abs(n);
  if (abs === 0 || (abs >= 1e-3 && abs < 1e7)) {
    return Number.isInteger(n) ? `${n.toFixed(0)}.0` : String(n);
  }
  const [mantissa = '0', exponent = '0'] = n.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

function soapValue(field: FieldDef, value: string | number | boolean): string {
  switch (field.type) {
    case 'currency':
    case 'double':
    case 'percent':
      return soapDouble(Number(value));
    case 'int':
      return String(Math.trunc(Number(value)));
    case 'boolean':
      return value ? 'true' : 'false';
    case 'datetime':
      // The REST API writes +0000, the SOAP API writes Z.
      return new Date(String(value).replace(/\+0000$/, 'Z')).toISOString();
    default:
      return String(value);
  }
}

function sobjectXml(notification: OutboundNotification, indent: string): string {
  const { sobject, record } = notification;
  const lines = [
    `${indent}<sObject xsi:type="sf:${sobject.name}" xmlns:sf="${ENTERPRISE_SOBJECT_NAMESPACE}">`,
  ];
  for (const name of notification.fields) {
    const field = sobject.fields.find((f) => f.name === name);
    const value = record[name];
    // Empty fields are left out of the message rather than sent as nil.
    if (!field || value === null || value === undefined) continue;
    lines.push(`${indent}  <sf:${field.name}>${escapeXml(soapValue(field, value))}</sf:${field.name}>`);
  }
  lines.push(`${indent}</sObject>`);
  return lines.join('\n');
}

export function buildOutboundMessage(envelope: OutboundEnvelope): string {
  const session =
    envelope.sessionId === undefined
      ? '      <SessionId xsi:nil="true"/>'
      : `      <SessionId>${escapeXml(envelope.sessionId)}</SessionId>`;
  const notifications = envelope.notifications.map((n) =>
    [
      '      <Notification>',
      `        <Id>${escapeXml(n.id)}</Id>`,
      sobjectXml(n, '        '),
      '      </Notification>',
    ].join('\n'),
  );
  return [
    `${BOM}<?xml version="1.0" encoding="UTF-8"?>`,
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NAMESPACE}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`,
    '  <soapenv:Body>',
    `    <notifications xmlns="${OUTBOUND_NAMESPACE}">`,
    `      <OrganizationId>${escapeXml(envelope.organizationId)}</OrganizationId>`,
    `      <ActionId>${escapeXml(envelope.actionId)}</ActionId>`,
    session,
    `      <EnterpriseUrl>${escapeXml(envelope.enterpriseUrl)}</EnterpriseUrl>`,
    `      <PartnerUrl>${escapeXml(envelope.partnerUrl)}</PartnerUrl>`,
    ...notifications,
    '    </notifications>',
    '  </soapenv:Body>',
    '</soapenv:Envelope>',
    '',
  ].join('\n');
}

/**
 * Whether a listener's reply acknowledges the message: a 2xx whose body is a SOAP envelope holding a
 * `notificationsResponse` with `Ack` true, both in the outbound namespace (the WSDL qualifies its
 * elements). A bare 200, an `Ack` of false, a SOAP fault or unreadable XML all mean "retry".
 */
export function isOutboundMessageAck(status: number, body: string): boolean {
  if (status < 200 || status >= 300) return false;
  let envelope: XmlElement;
  try {
    envelope = parseXml(body);
  } catch {
    return false;
  }
  if (envelope.local !== 'Envelope' || envelope.namespace !== SOAP_ENVELOPE_NAMESPACE) return false;
  const response = child(
    child(envelope, 'Body', SOAP_ENVELOPE_NAMESPACE),
    'notificationsResponse',
    OUTBOUND_NAMESPACE,
  );
  return child(response, 'Ack', OUTBOUND_NAMESPACE)?.text.trim() === 'true';
}

/** Id first, then alphabetical, the order the fixtures (and real messages) use. */
export function defaultOutboundFields(sobject: SObjectDef): string[] {
  const names = sobject.fields.map((f) => f.name).filter((n) => n !== 'Id');
  names.sort((a, b) => a.localeCompare(b, 'en'));
  return ['Id', ...names];
}
