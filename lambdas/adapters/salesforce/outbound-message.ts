import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { PermanentError } from '../../shared/errors';
import { isRecordId } from './record-id';

/**
 * Salesforce outbound messages: a SOAP 1.1 `notifications` request that Salesforce retries for up to
 * 24 hours until the listener answers a `notificationsResponse` whose `Ack` is true. Salesforce does not
 * sign them; see `lambdas/ingest-salesforce/logic.ts` for how a message is authenticated.
 * https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_understanding.htm
 * https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_wsdl.htm
 */

export const SOAP_ENVELOPE_NAMESPACE = 'http://schemas.xmlsoap.org/soap/envelope/';
export const OUTBOUND_NAMESPACE = 'http://soap.sforce.com/2005/09/outbound';
const XSI_NAMESPACE = 'http://www.w3.org/2001/XMLSchema-instance';
const BOM = '\uFEFF';

export interface OutboundSObject {
  /** The local part of `xsi:type` (`sf:Opportunity` → `Opportunity`). */
  readonly type: string;
  /** Field local names to their text; `null` for a field sent as `xsi:nil="true"`. */
  readonly fields: Readonly<Record<string, string | null>>;
}

export interface OutboundNotification {
  /** The notification id: the same on every retry of this notification, so the key to dedupe on. */
  readonly id: string;
  readonly sObject: OutboundSObject;
}

export interface OutboundMessage {
  /** `null` only for a message with no notification (see `parseOutboundMessage`). */
  readonly organizationId: string | null;
  readonly actionId: string | null;
  readonly enterpriseUrl: string | null;
  readonly partnerUrl: string | null;
  /**
   * Whether the message carried a session id. Its value is a live API session of a Salesforce user,
   * so it is never kept, returned or logged: revbridge calls Salesforce with its own credentials.
   */
  readonly sessionIdSent: boolean;
  readonly notifications: readonly OutboundNotification[];
}

interface XmlElement {
  readonly namespace: string | undefined;
  readonly local: string;
  readonly children: readonly XmlElement[];
  readonly text: string;
  readonly nil: boolean;
  /** `xsi:type`, its prefix resolved, when present. */
  readonly xsiType: { namespace: string | undefined; local: string } | undefined;
}

type OrderedNode = Record<string, unknown>;

const malformed = (reason: string): PermanentError =>
  new PermanentError(reason, { code: 'MalformedOutboundMessage' });

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Every value stays a string: ids such as `0123456789` or amounts such as `1.5E7` must not become numbers.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: true,
});

const splitQName = (qname: string): { prefix: string; local: string } => {
  const colon = qname.indexOf(':');
  return colon === -1
    ? { prefix: '', local: qname }
    : { prefix: qname.slice(0, colon), local: qname.slice(colon + 1) };
};

const resolvePrefix = (prefix: string, scope: ReadonlyMap<string, string>): string | undefined => {
  const namespace = scope.get(prefix);
  if (prefix !== '' && namespace === undefined) {
    throw malformed(`body is not well-formed XML: namespace prefix '${prefix}' is not declared`);
  }
  return namespace === '' ? undefined : namespace;
};

const tagOf = (node: OrderedNode): string | undefined => Object.keys(node).find((key) => key !== ':@');

/** Turns fast-xml-parser's ordered output into elements with their namespaces resolved. */
const toElement = (node: OrderedNode, tag: string, parentScope: ReadonlyMap<string, string>): XmlElement => {
  const rawAttributes = (node[':@'] ?? {}) as Record<string, unknown>;
  const attributes = new Map<string, string>();
  for (const [name, value] of Object.entries(rawAttributes)) {
    if (typeof value === 'string') attributes.set(name.replace(/^@_/, ''), value);
  }
  const scope = new Map(parentScope);
  for (const [name, value] of attributes) {
    if (name === 'xmlns') scope.set('', value);
    else if (name.startsWith('xmlns:')) scope.set(name.slice('xmlns:'.length), value);
  }
  const xsiAttribute = (local: string): string | undefined => {
    for (const [name, value] of attributes) {
      const { prefix, local: attributeLocal } = splitQName(name);
      // Unprefixed attributes are in no namespace, whatever the default namespace is.
      if (prefix !== '' && prefix !== 'xmlns' && attributeLocal === local) {
        if (resolvePrefix(prefix, scope) === XSI_NAMESPACE) return value;
      }
    }
    return undefined;
  };
  const typeValue = xsiAttribute('type');
  let xsiType: XmlElement['xsiType'];
  if (typeValue !== undefined) {
    const { prefix, local } = splitQName(typeValue.trim());
    xsiType = { namespace: resolvePrefix(prefix, scope), local };
  }

  const { prefix, local } = splitQName(tag);
  const children: XmlElement[] = [];
  let text = '';
  const content = node[tag];
  for (const child of Array.isArray(content) ? (content as OrderedNode[]) : []) {
    const childTag = tagOf(child);
    if (childTag === undefined) continue;
    if (childTag === '#text') text += String(child[childTag]);
    else if (!childTag.startsWith('#') && !childTag.startsWith('?')) {
      children.push(toElement(child, childTag, scope));
    }
  }
  const nilValue = xsiAttribute('nil')?.trim();
  return {
    namespace: resolvePrefix(prefix, scope),
    local,
    children,
    text,
    nil: nilValue === 'true' || nilValue === '1',
    xsiType,
  };
};

const childrenNamed = (parent: XmlElement, namespace: string, local: string): XmlElement[] =>
  parent.children.filter((child) => child.namespace === namespace && child.local === local);

/** The text of the one child element, `null` when it is absent, empty or nil. */
const optionalText = (parent: XmlElement, local: string, path: string): string | null => {
  const found = childrenNamed(parent, OUTBOUND_NAMESPACE, local);
  if (found.length > 1) throw malformed(`${path}.${local}: appears ${found.length} times`);
  const element = found[0];
  if (!element || element.nil || element.text === '') return null;
  return element.text;
};

const parseNotification = (element: XmlElement, index: number): OutboundNotification => {
  const path = `notifications.Notification.${index}`;
  const id = optionalText(element, 'Id', path);
  if (id === null) throw malformed(`${path}.Id: missing`);
  const sObjects = childrenNamed(element, OUTBOUND_NAMESPACE, 'sObject');
  const sObject = sObjects[0];
  if (!sObject) throw malformed(`${path}.sObject: missing`);
  if (sObjects.length > 1) throw malformed(`${path}.sObject: appears ${sObjects.length} times`);
  if (!sObject.xsiType || sObject.xsiType.local === '') {
    throw malformed(`${path}.sObject: missing xsi:type (the object type)`);
  }
  const fields: Record<string, string | null> = {};
  for (const field of sObject.children) {
    // Outbound messages carry the object's own fields only, each a leaf in the sObject namespace.
    fields[field.local] = field.nil ? null : field.text;
  }
  return { id, sObject: { type: sObject.xsiType.local, fields } };
};

/**
 * Parses the raw body of an outbound message. Throws `PermanentError` (code `MalformedOutboundMessage`)
 * with a reason naming what is wrong or missing; the reason never quotes field values.
 *
 * A `notifications` element with no `Notification` in it yields zero notifications without error, even
 * without an `OrganizationId` (one of the vendor-authored fixtures is exactly that): acknowledging it
 * publishes nothing. With at least one notification, `OrganizationId` is required.
 */
export const parseOutboundMessage = (rawBody: Buffer | string): OutboundMessage => {
  let xml = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  // Salesforce (like the vendor fixtures) may start the body with a UTF-8 byte order mark.
  if (xml.startsWith(BOM)) xml = xml.slice(BOM.length);
  if (xml.trim() === '') throw malformed('body is empty');
  // SOAP 1.1 section 3: a SOAP message must not contain a DTD. Refusing one also rules out entity expansion.
  if (/<!DOCTYPE/i.test(xml)) throw malformed('body contains a DTD, which a SOAP message must not');
  const validation = XMLValidator.validate(xml);
  if (validation !== true) {
    const { code, line, col } = validation.err;
    throw malformed(`body is not well-formed XML: ${code} at line ${line}, column ${col}`);
  }

  let document: OrderedNode[];
  try {
    document = parser.parse(xml) as OrderedNode[];
  } catch (error) {
    // The validator lets a few malformed constructs through (an unclosed processing instruction)
    // that the parser then refuses: still the sender's error.
    throw malformed(`body is not well-formed XML: ${error instanceof Error ? error.message : 'unreadable'}`);
  }
  const roots = document.flatMap((node) => {
    const tag = tagOf(node);
    return tag === undefined || tag.startsWith('#') || tag.startsWith('?') ? [] : [{ node, tag }];
  });
  const root = roots[0];
  if (!root || roots.length > 1) throw malformed('body is not well-formed XML: expected one root element');
  const envelope = toElement(root.node, root.tag, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]));
  if (envelope.namespace !== SOAP_ENVELOPE_NAMESPACE || envelope.local !== 'Envelope') {
    throw malformed(`body is not a SOAP 1.1 Envelope (namespace ${SOAP_ENVELOPE_NAMESPACE})`);
  }
  const body = childrenNamed(envelope, SOAP_ENVELOPE_NAMESPACE, 'Body')[0];
  if (!body) throw malformed('SOAP Envelope has no Body');
  const notifications = body.children[0];
  if (
    !notifications ||
    notifications.namespace !== OUTBOUND_NAMESPACE ||
    notifications.local !== 'notifications'
  ) {
    throw malformed(`SOAP Body does not hold a notifications element (namespace ${OUTBOUND_NAMESPACE})`);
  }

  const parsed = childrenNamed(notifications, OUTBOUND_NAMESPACE, 'Notification').map(parseNotification);
  const organizationId = optionalText(notifications, 'OrganizationId', 'notifications');
  if (organizationId === null && parsed.length > 0) throw malformed('notifications.OrganizationId: missing');
  if (organizationId !== null && !isRecordId(organizationId)) {
    throw malformed('notifications.OrganizationId: not a 15- or 18-character Salesforce id');
  }
  return {
    organizationId,
    actionId: optionalText(notifications, 'ActionId', 'notifications'),
    enterpriseUrl: optionalText(notifications, 'EnterpriseUrl', 'notifications'),
    partnerUrl: optionalText(notifications, 'PartnerUrl', 'notifications'),
    sessionIdSent: optionalText(notifications, 'SessionId', 'notifications') !== null,
    notifications: parsed,
  };
};

/**
 * The acknowledgement Salesforce waits for (byte for byte the vendor fixture
 * `outbound-message.ack-response.xml`, without the file's byte order mark). Only this, with HTTP 200,
 * stops the retries; send it only once every notification of the message is safely published.
 */
export const ACK_RESPONSE_XML = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NAMESPACE}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="${XSI_NAMESPACE}">
 <soapenv:Body>
  <notificationsResponse xmlns="${OUTBOUND_NAMESPACE}">
   <Ack>true</Ack>
  </notificationsResponse>
 </soapenv:Body>
</soapenv:Envelope>
`;

const escapeXml = (value: string): string =>
  value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');

/**
 * A SOAP 1.1 fault: what a SOAP listener answers instead of the Ack. Salesforce shows the fault string
 * in Setup's outbound message delivery status, so it must be safe to show (no payload, no secret).
 * `Client` when the message itself is at fault, `Server` when a retry can succeed.
 */
export const soapFault = (faultCode: 'Client' | 'Server', reason: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NAMESPACE}">
 <soapenv:Body>
  <soapenv:Fault>
   <faultcode>soapenv:${faultCode}</faultcode>
   <faultstring>${escapeXml(reason)}</faultstring>
  </soapenv:Fault>
 </soapenv:Body>
</soapenv:Envelope>
`;
