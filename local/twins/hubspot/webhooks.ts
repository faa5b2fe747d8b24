/**
 * Webhooks v3 subscriptions: property changes and creations become webhook events for the matching
 * subscriptions, batched, signed and retried by the WebhookBatcher.
 */
import type { DeliveryAttempt, FaultInjector } from '../common';
import type { CrmStore, PropertyChange } from './store';
import { type HubSpotWebhookEvent, type WebhookBatch, WebhookBatcher } from './webhook-batcher';

/**
 * Changes made through the API with an app's token arrive as `INTEGRATION` with the app id as
 * `sourceId` (older payloads said `API`); changes made by a user in HubSpot say `CRM_UI`.
 */
export const API_CHANGE_SOURCE = 'INTEGRATION';
export const UI_CHANGE_SOURCE = 'CRM_UI';
/** The user the helpers act as (`sourceId: userId:<id>` in webhook events). */
export const UI_USER_ID = 12_345_678;

export interface WebhookSubscription {
  /** `deal.propertyChange`, `deal.creation`, `company.propertyChange`, ... */
  subscriptionType: string;
  /** For propertyChange subscriptions: the one property watched. */
  propertyName?: string;
  /** @default assigned from 3_000_001 up */
  id?: number;
}

export interface HubSpotWebhookOptions {
  /** The public URL HubSpot posts to; it is also what the v3 signature covers. */
  url: string;
  /** @default [{ subscriptionType: 'deal.propertyChange', propertyName: 'dealstage' }] */
  subscriptions?: readonly WebhookSubscription[];
  /** @default 25 */
  batchWindowMs?: number;
  /** @default 100 */
  maxBatchSize?: number;
  /** @default a short local schedule of 10 retries */
  retryDelaysMs?: number[];
  /** @default 5000 */
  timeoutMs?: number;
}

/** Who made a change, as webhook events report it. */
export interface ChangeSource {
  changeSource: string;
  sourceId: string;
}

export interface HubSpotWebhooksOptions {
  store: CrmStore;
  faults: FaultInjector;
  /** The app's client secret that signs webhooks. */
  clientSecret: string;
  /** Seeds event ids. */
  seed: number;
  portalId: number;
  appId: number;
}

export class HubSpotWebhooks {
  private readonly options: HubSpotWebhooksOptions;
  private eventCount = 0;
  private webhook:
    | { options: HubSpotWebhookOptions; subscriptions: Required<WebhookSubscription>[] }
    | undefined;
  private batcher: WebhookBatcher | undefined;
  private readonly retired: WebhookBatcher[] = [];

  constructor(options: HubSpotWebhooksOptions) {
    this.options = options;
  }

  configure(config: HubSpotWebhookOptions | undefined): void {
    if (this.batcher) {
      // Batches already sent keep retrying; new events go to the new target.
      this.batcher.flush();
      this.retired.push(this.batcher);
    }
    if (!config) {
      this.webhook = undefined;
      this.batcher = undefined;
      return;
    }
    let nextSubscription = 3_000_001;
    const subscriptions = (
      config.subscriptions ?? [{ subscriptionType: 'deal.propertyChange', propertyName: 'dealstage' }]
    ).map((s) => ({
      id: s.id ?? nextSubscription++,
      subscriptionType: s.subscriptionType,
      propertyName: s.propertyName ?? '',
    }));
    this.webhook = { options: config, subscriptions };
    this.batcher = new WebhookBatcher({
      url: config.url,
      clientSecret: this.options.clientSecret,
      faults: this.options.faults,
      ...(config.batchWindowMs === undefined ? {} : { batchWindowMs: config.batchWindowMs }),
      ...(config.maxBatchSize === undefined ? {} : { maxBatchSize: config.maxBatchSize }),
      ...(config.retryDelaysMs === undefined ? {} : { retryDelaysMs: config.retryDelaysMs }),
      ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    });
  }

  /** Turns property changes into webhook events for the matching subscriptions. */
  notify(changes: PropertyChange[], source: ChangeSource): void {
    const { webhook, batcher } = this;
    if (!webhook || !batcher) return;
    const { store, seed, portalId, appId } = this.options;
    const occurredAt = Date.now();
    const created = new Set<string>();
    for (const change of changes) {
      const singular = store.def(change.type).singular;
      for (const subscription of webhook.subscriptions) {
        const isCreation =
          subscription.subscriptionType === `${singular}.creation` &&
          change.creation &&
          !created.has(`${subscription.id}:${change.objectId}`);
        const isPropertyChange =
          subscription.subscriptionType === `${singular}.propertyChange` &&
          subscription.propertyName === change.propertyName;
        if (!isCreation && !isPropertyChange) continue;
        if (isCreation) created.add(`${subscription.id}:${change.objectId}`);
        this.eventCount++;
        const event: HubSpotWebhookEvent = {
          eventId: 1_000_000_000 + seed * 1_000 + this.eventCount,
          subscriptionId: subscription.id,
          portalId,
          appId,
          occurredAt,
          subscriptionType: subscription.subscriptionType,
          attemptNumber: 0,
          objectId: Number(change.objectId),
          ...(isCreation ? { changeFlag: 'CREATED' } : {}),
          changeSource: source.changeSource,
          sourceId: source.sourceId,
          ...(isPropertyChange
            ? { propertyName: change.propertyName, propertyValue: change.value ?? '' }
            : {}),
        };
        batcher.enqueue(event);
      }
    }
  }

  /** Sends events waiting for their batch window now. */
  flush(): void {
    this.batcher?.flush();
  }

  batches(): WebhookBatch[] {
    return this.allBatchers().flatMap((b) => b.batches);
  }

  deliveries(): DeliveryAttempt[] {
    return this.allBatchers().flatMap((b) => [...b.log]);
  }

  async idle(): Promise<void> {
    await Promise.all(this.allBatchers().map((b) => b.idle()));
  }

  close(): void {
    for (const b of this.allBatchers()) b.close();
  }

  private allBatchers(): WebhookBatcher[] {
    return [...this.retired, ...(this.batcher ? [this.batcher] : [])];
  }
}
