import {
  type DeliveryAttempt,
  type FaultConfig,
  FaultInjector,
  faultsFromEnv,
  IdGenerator,
  startTwinServer,
} from '../common';
import { createHubSpotApi } from './routes';
import { type CustomProperties, defaultAssociationType, type ObjectType } from './schema';
import { type AssociationInput, type CrmObject, CrmStore } from './store';
import type { WebhookBatch } from './webhook-batcher';
import { type HubSpotWebhookOptions, HubSpotWebhooks, UI_CHANGE_SOURCE, UI_USER_ID } from './webhooks';

export type { HubSpotWebhookOptions, WebhookSubscription } from './webhooks';

export const HUBSPOT_DEFAULT_PORT = 4040;
export const HUBSPOT_DEFAULT_ACCESS_TOKEN = 'revbridge-local-hs-token';
export const HUBSPOT_DEFAULT_CLIENT_SECRET = 'revbridge-local-hubspot-secret';
/** The portal and app ids of HubSpot's own webhook example (see the vendor fixture). */
export const HUBSPOT_DEFAULT_PORTAL_ID = 62515;
export const HUBSPOT_DEFAULT_APP_ID = 54321;

export interface HubSpotTwinOptions {
  /** @default 4040; 0 picks a free port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Seeds correlation ids and, unless `faults.seed` is set, the fault sequence. @default 1 */
  seed?: number;
  /** @default faultsFromEnv('hubspot'), i.e. `TWIN_FAULTS_HUBSPOT` */
  faults?: FaultConfig;
  /** The private app token the API accepts. @default 'revbridge-local-hs-token' */
  accessToken?: string;
  /** @default 54321 */
  appId?: number;
  /** @default 62515 */
  portalId?: number;
  /** The app's client secret that signs webhooks. @default 'revbridge-local-hubspot-secret' */
  clientSecret?: string;
  webhook?: HubSpotWebhookOptions;
  /** Custom properties per object type; HubSpot rejects writes to properties a portal does not have. */
  customProperties?: CustomProperties;
  /**
   * The burst limit of a private app (Professional: 190 requests per 10 s), answered with 429 and
   * `policyName: TEN_SECONDLY_ROLLING` like HubSpot. @default { max: 190, intervalMs: 10_000 }
   */
  rateLimit?: { max: number; intervalMs: number };
}

export interface HubSpotTwin {
  url: string;
  port: number;
  accessToken: string;
  portalId: number;
  appId: number;
  clientSecret: string;
  faults: FaultInjector;
  getObject(type: ObjectType, id: string): CrmObject | undefined;
  objects(type: ObjectType): CrmObject[];
  /** Creates a record as a user in the CRM would (change source CRM_UI); returns its id. */
  createObject(
    type: ObjectType,
    properties: Record<string, string>,
    associations?: AssociationInput[],
  ): string;
  /** Edits properties as a user in the CRM would (change source CRM_UI). */
  updateObject(type: ObjectType, id: string, properties: Record<string, string>): void;
  /** Moves a deal to a stage as a sales rep would; `closedwon` by default. */
  setDealStage(dealId: string, stage?: string): void;
  /** Adds the default (unlabeled) association between two records. */
  associate(fromType: ObjectType, fromId: string, toType: ObjectType, toId: string): void;
  configureWebhook(options: HubSpotWebhookOptions | undefined): void;
  /** Sends events waiting for their batch window now. */
  flushWebhooks(): void;
  readonly webhookBatches: readonly WebhookBatch[];
  readonly deliveries: readonly DeliveryAttempt[];
  /** Resolves when no webhook is batched, waiting or being retried. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A HubSpot portal in one process: CRM v3 objects (deals, companies, line items, products, contacts),
 * v4 associations, properties and pipelines as `@hubspot/api-client` calls them, with HubSpot's error
 * bodies and rate limit, and Webhooks v3: batched, signed (v3 and v1), retried.
 *
 * This file wires the portal together; the jobs live beside it: `routes.ts` (the API), `render.ts` (wire
 * shapes), `search.ts` (CRM search), `store.ts` (records, properties, associations), `webhooks.ts`
 * (subscriptions to webhook events) and `webhook-batcher.ts` (batching, signing, retries).
 */
export async function startHubSpotTwin(options: HubSpotTwinOptions = {}): Promise<HubSpotTwin> {
  const seed = options.seed ?? 1;
  const faultConfig = { ...(options.faults ?? faultsFromEnv('hubspot')) };
  if (faultConfig.seed === undefined) faultConfig.seed = seed;
  const faults = new FaultInjector(faultConfig);
  const ids = new IdGenerator(seed);
  const accessToken = options.accessToken ?? HUBSPOT_DEFAULT_ACCESS_TOKEN;
  const clientSecret = options.clientSecret ?? HUBSPOT_DEFAULT_CLIENT_SECRET;
  const portalId = options.portalId ?? HUBSPOT_DEFAULT_PORTAL_ID;
  const appId = options.appId ?? HUBSPOT_DEFAULT_APP_ID;
  const rateLimit = options.rateLimit ?? { max: 190, intervalMs: 10_000 };
  const store = new CrmStore({
    ...(options.customProperties === undefined ? {} : { customProperties: options.customProperties }),
  });
  const webhooks = new HubSpotWebhooks({ store, faults, clientSecret, seed, portalId, appId });
  webhooks.configure(options.webhook);
  const uiSource = { changeSource: UI_CHANGE_SOURCE, sourceId: `userId:${UI_USER_ID}` };
  const notify = webhooks.notify.bind(webhooks);
  const { handler, json, rateLimited } = createHubSpotApi({
    store,
    webhooks,
    ids,
    accessToken,
    appId,
    rateLimit,
  });

  const server = await startTwinServer({
    name: 'hubspot',
    port: options.port ?? HUBSPOT_DEFAULT_PORT,
    ...(options.host === undefined ? {} : { host: options.host }),
    faults,
    handler,
    vendorError: (status, retryAfterSeconds) => {
      if (status === 429) return rateLimited(retryAfterSeconds ?? 1);
      if (status < 500) {
        // An injected refusal, in HubSpot's validation error shape.
        return json(status, {
          status: 'error',
          message: 'The request was refused by a rule of this portal.',
          correlationId: ids.uuid(),
          category: 'VALIDATION_ERROR',
        });
      }
      return json(status, {
        status: 'error',
        message: status === 503 ? 'Service Unavailable' : 'internal error',
        correlationId: ids.uuid(),
        category: status === 503 ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_ERROR',
      });
    },
  });

  return {
    url: server.url,
    port: server.port,
    accessToken,
    portalId,
    appId,
    clientSecret,
    faults,
    getObject: (type, id) => store.get(type, id),
    objects: (type) => store.list(type),
    createObject(type, properties, associations = []) {
      const { object, changes } = store.create(type, properties, associations);
      notify(changes, uiSource);
      return object.id;
    },
    updateObject(type, id, properties) {
      notify(store.update(type, id, properties).changes, uiSource);
    },
    setDealStage(dealId, stage = 'closedwon') {
      notify(store.update('deals', dealId, { dealstage: stage }).changes, uiSource);
    },
    associate(fromType, fromId, toType, toId) {
      const type = defaultAssociationType(fromType, toType);
      if (!type) throw new Error(`no default association from ${fromType} to ${toType}`);
      store.associate(fromType, fromId, toId, [type.id]);
    },
    configureWebhook: (config) => webhooks.configure(config),
    flushWebhooks: () => webhooks.flush(),
    get webhookBatches() {
      return webhooks.batches();
    },
    get deliveries() {
      return webhooks.deliveries();
    },
    idle: () => webhooks.idle(),
    close: async () => {
      webhooks.close();
      await server.close();
    },
  };
}
