export { HubSpotApiError } from './errors';
export type { CustomProperties, CustomPropertySpec, ObjectType } from './schema';
export { signatureUri, signV1, signV3 } from './signature';
export type { AssociationInput, CrmObject } from './store';
export * from './twin';
export type { HubSpotWebhookEvent, WebhookBatch } from './webhook-batcher';
