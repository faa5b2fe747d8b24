export { isOutboundMessageAck, OUTBOUND_NAMESPACE, SOAP_ENVELOPE_NAMESPACE } from './outbound-message';
export { toId18 } from './record-ids';
export type { CustomFieldSpec, CustomFields, SObjectName } from './schema';
export type { SRecord } from './store';
export * from './twin';
export { child as xmlChild, parseXml, type XmlElement, XmlParseError } from './xml';
