import { type DeliveryAttempt, type FaultInjector, WebhookSender } from '../common';
import { signV1, signV3 } from './signature';

/**
 * One webhook event as HubSpot's Webhooks API (v3 app subscriptions) posts it, inside a JSON array.
 * https://developers.hubspot.com/docs/api/webhooks#webhook-payloads
 */
export interface HubSpotWebhookEvent {
  /** Not guaranteed unique by HubSpot; receivers deduplicate on more than this. */
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  /** Milliseconds since the epoch. */
  occurredAt: number;
  subscriptionType: string;
  /** 0 on the first attempt, then 1, 2, ... on retries of the same batch. */
  attemptNumber: number;
  objectId: number;
  changeSource: string;
  sourceId?: string;
  propertyName?: string;
  propertyValue?: string;
  changeFlag?: string;
}

export interface WebhookBatch {
  id: string;
  events: HubSpotWebhookEvent[];
  /** The body of the first attempt (retries carry their own attemptNumber). */
  body: string;
}

export interface WebhookBatcherOptions {
  url: string;
  clientSecret: string;
  faults: FaultInjector;
  /** Events closer together than this go out in one request. @default 25 */
  batchWindowMs?: number;
  /** HubSpot sends at most 100 events per request. @default 100 */
  maxBatchSize?: number;
  retryDelaysMs?: number[];
  timeoutMs?: number;
}

/**
 * HubSpot retries a failed delivery (any 4xx or 5xx, a timeout) up to 10 times spread over 24 hours;
 * locally the same number of retries finishes in about twenty seconds.
 */
export const DEFAULT_HUBSPOT_RETRY_MS = [50, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000];
/** HubSpot gives a receiver 5 seconds to answer before it counts the attempt as failed. */
export const DEFAULT_HUBSPOT_TIMEOUT_MS = 5_000;

/**
 * Collects events into batches and delivers them with the common WebhookSender (retries, duplicates,
 * reordering and delays from the seeded faults). The sender resends a body byte for byte, but HubSpot
 * signs every attempt with a fresh timestamp and counts `attemptNumber` up, so the batcher hands the
 * sender a `fetch` that rewrites and re-signs each attempt just before it goes out.
 */
export class WebhookBatcher {
  readonly batches: WebhookBatch[] = [];
  private readonly sender: WebhookSender;
  private readonly byBody = new Map<string, WebhookBatch>();
  private pending: HubSpotWebhookEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private count = 0;

  constructor(private readonly options: WebhookBatcherOptions) {
    this.sender = new WebhookSender({
      faults: options.faults,
      retryDelaysMs: options.retryDelaysMs ?? DEFAULT_HUBSPOT_RETRY_MS,
      timeoutMs: options.timeoutMs ?? DEFAULT_HUBSPOT_TIMEOUT_MS,
      fetchImpl: (input, init) => this.signedFetch(input, init),
    });
  }

  get log(): readonly DeliveryAttempt[] {
    return this.sender.log;
  }

  enqueue(event: HubSpotWebhookEvent): void {
    this.pending.push(event);
    if (this.pending.length >= (this.options.maxBatchSize ?? 100)) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), this.options.batchWindowMs ?? 25);
  }

  /** Sends whatever is waiting for the batch window now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const max = this.options.maxBatchSize ?? 100;
    while (this.pending.length > 0) {
      const events = this.pending.splice(0, max);
      this.count++;
      const batch: WebhookBatch = { id: `hubspot-batch-${this.count}`, events, body: JSON.stringify(events) };
      this.batches.push(batch);
      this.byBody.set(batch.body, batch);
      this.sender.send({
        url: this.options.url,
        id: batch.id,
        body: batch.body,
        headers: { 'Content-Type': 'application/json' },
      });
    }
  }

  async idle(): Promise<void> {
    this.flush();
    await this.sender.idle();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
    this.sender.close();
  }

  private signedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const original = typeof init?.body === 'string' ? init.body : '';
    const batch = this.byBody.get(original);
    let body = original;
    if (batch) {
      // Attempts already logged for this batch (any copy) tell which retry this is.
      const previous = this.sender.log
        .filter((a) => a.id === batch.id)
        .reduce((max, a) => Math.max(max, a.attempt), 0);
      if (previous > 0) body = JSON.stringify(batch.events.map((e) => ({ ...e, attemptNumber: previous })));
    }
    const timestamp = String(Date.now());
    const method = init?.method ?? 'POST';
    const headers = new Headers(init?.headers);
    headers.set('X-HubSpot-Request-Timestamp', timestamp);
    headers.set(
      'X-HubSpot-Signature-v3',
      signV3({ clientSecret: this.options.clientSecret, method, url: this.options.url, body, timestamp }),
    );
    headers.set('X-HubSpot-Signature', signV1(this.options.clientSecret, body));
    headers.set('X-HubSpot-Signature-Version', 'v1');
    return fetch(input, { ...init, method, headers, body });
  }
}
