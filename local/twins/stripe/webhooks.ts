import { createHmac } from 'node:crypto';
import { type FaultInjector, WebhookSender } from '../common';
import type { JsonObject } from './json';
import { renderEvent } from './render';
import type { EventRecord, Store, WebhookEndpointRecord } from './store';

/**
 * Stripe's webhook signature (https://docs.stripe.com/webhooks#verify-manually): `t=<unix seconds>`
 * and one `v1=` per active secret, each the hex HMAC-SHA256 of `${t}.${payload}` keyed with the whole
 * `whsec_...` string. During a secret roll both the new and the old secret sign.
 */
export function stripeSignatureHeader(
  payload: string,
  secrets: readonly string[],
  timestamp: number,
): string {
  const signatures = secrets.map(
    (secret) => `v1=${createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex')}`,
  );
  return [`t=${timestamp}`, ...signatures].join(',');
}

/** One HTTP attempt to deliver an event to an endpoint, in the order the attempts were started. */
export interface StripeDeliveryAttempt {
  eventId: string;
  eventType: string;
  endpointId: string;
  url: string;
  /** 1 for the first request of this event to this endpoint; injected duplicates count on. */
  attempt: number;
  /** Set once the receiver answered. */
  status?: number;
  error?: string;
  /** Wall-clock ms when the attempt started. */
  startedAt: number;
}

export interface StripeWebhooksOptions {
  store: Store;
  faults: FaultInjector;
  apiVersion: string;
  retryDelaysMs: number[];
  timeoutMs: number;
}

const DELIVERY_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
  'Cache-Control': 'no-cache',
  Accept: '*/*; q=0.5, application/xml',
} as const;

/**
 * Creates Events and delivers them to the registered endpoints the way Stripe does: JSON bodies
 * pretty-printed with two spaces, signed, retried on anything but a 2xx, with the seeded duplicate,
 * reorder and delay faults of the shared `WebhookSender`.
 */
export class StripeWebhooks {
  readonly sender: WebhookSender;
  readonly attempts: StripeDeliveryAttempt[] = [];
  private readonly store: Store;
  private readonly apiVersion: string;
  /** `${url}\n${eventId}` to endpoint id: which secret signs a given delivery. */
  private readonly routes = new Map<string, string>();
  private readonly attemptCounts = new Map<string, number>();
  private readonly delivered = new Set<string>();

  constructor(options: StripeWebhooksOptions) {
    this.store = options.store;
    this.apiVersion = options.apiVersion;
    this.sender = new WebhookSender({
      faults: options.faults,
      retryDelaysMs: options.retryDelaysMs,
      timeoutMs: options.timeoutMs,
      fetchImpl: this.signedFetch,
    });
  }

  /** Records an Event and queues its delivery to every enabled endpoint that listens for its type. */
  emit(
    type: string,
    object: JsonObject,
    previousAttributes: JsonObject | null,
    request: { id: string | null; idempotency_key: string | null },
  ): EventRecord {
    const endpoints = [...this.store.webhookEndpoints.values()].filter(
      (w) => w.status === 'enabled' && (w.enabledEvents.includes('*') || w.enabledEvents.includes(type)),
    );
    const event: EventRecord = {
      id: this.store.id('evt_'),
      seq: this.store.nextSeq(),
      created: this.store.now(),
      type,
      object,
      previousAttributes,
      request,
      pendingWebhooks: endpoints.length,
    };
    this.store.events.set(event.id, event);
    for (const endpoint of endpoints) {
      const body = JSON.stringify(renderEvent(event, endpoint.apiVersion ?? this.apiVersion), null, 2);
      this.routes.set(routeKey(endpoint.url, event.id), endpoint.id);
      this.sender.send({
        url: endpoint.url,
        id: event.id,
        body,
        headers: { ...DELIVERY_HEADERS, 'Stripe-Signature': this.sign(endpoint, body) },
      });
    }
    return event;
  }

  /** Resolves once nothing is queued, held back or in flight. */
  idle(): Promise<void> {
    return this.sender.idle();
  }

  close(): void {
    this.sender.close();
  }

  private sign(endpoint: WebhookEndpointRecord, body: string): string {
    const now = this.store.now();
    const secrets = [
      endpoint.secret,
      ...endpoint.previousSecrets.filter((s) => s.expiresAt > now).map((s) => s.secret),
    ];
    return stripeSignatureHeader(body, secrets, now);
  }

  /**
   * Stripe signs every attempt afresh, so a retry hours later still falls inside the receiver's
   * tolerance window. The shared sender sends fixed headers, so the signature is replaced here, at the
   * moment of each attempt, which is also where attempts are logged and `pending_webhooks` settles.
   */
  private readonly signedFetch: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const body = typeof init?.body === 'string' ? init.body : '';
    const event = parseEventHead(body);
    const endpointId = this.routes.get(routeKey(url, event.id)) ?? '';
    const endpoint = this.store.webhookEndpoints.get(endpointId);
    const headers = new Headers(init?.headers);
    if (endpoint) headers.set('Stripe-Signature', this.sign(endpoint, body));

    const key = `${endpointId}\n${event.id}`;
    const attempt = (this.attemptCounts.get(key) ?? 0) + 1;
    this.attemptCounts.set(key, attempt);
    const record: StripeDeliveryAttempt = {
      eventId: event.id,
      eventType: event.type,
      endpointId,
      url,
      attempt,
      startedAt: Date.now(),
    };
    this.attempts.push(record);
    try {
      const response = await fetch(input, { ...init, headers });
      record.status = response.status;
      if (response.status >= 200 && response.status < 300 && !this.delivered.has(key)) {
        this.delivered.add(key);
        const stored = this.store.events.get(event.id);
        if (stored) stored.pendingWebhooks = Math.max(0, stored.pendingWebhooks - 1);
      }
      return response;
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
      throw error;
    }
  };
}

const routeKey = (url: string, eventId: string): string => `${url}\n${eventId}`;

function parseEventHead(body: string): { id: string; type: string } {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'id' in parsed && 'type' in parsed) {
      return { id: String(parsed.id), type: String(parsed.type) };
    }
  } catch {
    // Not an event body: logged with empty ids below.
  }
  return { id: '', type: '' };
}
