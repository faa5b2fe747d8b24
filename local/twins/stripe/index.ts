import {
  type FaultConfig,
  FaultInjector,
  faultsFromEnv,
  startTwinServer,
  type WebhookSender,
} from '../common';
import { createApiHandler, type StripeRequestLogEntry, stripeVendorError } from './api';
import { makeEmit } from './context';
import type { JsonObject } from './json';
import { retryScheduledPayment } from './payment-retries';
import {
  renderCreditNote,
  renderCustomer,
  renderEvent,
  renderInvoice,
  renderSubscription,
  renderWebhookEndpoint,
} from './render';
import { renderById } from './routes';
import { Store, type WebhookEndpointRecord } from './store';
import { renewSubscription } from './subscriptions';
import { type StripeDeliveryAttempt, StripeWebhooks } from './webhooks';

export type { StripeRequestLogEntry } from './api';
export { type StripeDeliveryAttempt, stripeSignatureHeader } from './webhooks';

export const STRIPE_TWIN_DEFAULT_PORT = 4010;
export const STRIPE_TWIN_DEFAULT_API_KEY = 'sk_test_revbridge_local';
export const STRIPE_TWIN_DEFAULT_WEBHOOK_SECRET = 'whsec_revbridge_local_secret';
/** The version stripe-node 23 pins; events are rendered with it unless an endpoint pins another. */
export const STRIPE_TWIN_API_VERSION = '2026-10-28.endive';
/** Stripe retries for up to three days; locally a short schedule keeps runs fast. */
export const STRIPE_TWIN_DEFAULT_RETRY_DELAYS_MS = [100, 500, 2000];

export interface StripeTwinOptions {
  /** @default 4010; 0 picks a free port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Seeds object ids and, unless `faults.seed` is set, the fault injector. @default 1 */
  seed?: number;
  /** @default faultsFromEnv('stripe'), i.e. `TWIN_FAULTS_STRIPE` */
  faults?: FaultConfig;
  /** The one secret key the twin accepts. @default 'sk_test_revbridge_local' */
  apiKey?: string;
  /** Registers a webhook endpoint for every event type at start. */
  webhook?: { url: string; secret?: string };
  /** Milliseconds since the epoch. @default Date.now */
  clock?: () => number;
  /** Waits between delivery attempts; its length is the number of retries. @default [100, 500, 2000] */
  webhookRetryDelaysMs?: number[];
  /** Per delivery attempt. @default 5000 */
  webhookTimeoutMs?: number;
  /** @default '2026-10-28.endive' */
  apiVersion?: string;
}

export type StripeObjectKind =
  | 'customer'
  | 'product'
  | 'price'
  | 'tax_rate'
  | 'subscription'
  | 'invoice'
  | 'credit_note'
  | 'webhook_endpoint';

export interface StripeTwin {
  url: string;
  port: number;
  apiKey: string;
  faults: FaultInjector;
  /** The shared sender: its `log` has one entry per finished attempt. */
  webhooks: WebhookSender;
  /** Every delivery attempt in the order it started, with the event it carried. */
  readonly deliveries: readonly StripeDeliveryAttempt[];
  /** Every API request served. */
  readonly requests: readonly StripeRequestLogEntry[];
  /** Any object by id, rendered as the API would return it. */
  get(id: string): JsonObject | undefined;
  /** Objects of one kind, oldest first, as the API renders them. */
  list(kind: StripeObjectKind): JsonObject[];
  /** Events, oldest first. */
  events(): JsonObject[];
  /**
   * Registers the endpoint that receives every event, replacing the one registered by `webhook` or an
   * earlier call. @returns the endpoint, with its signing secret.
   */
  setWebhookEndpoint(url: string, secret?: string): { id: string; url: string; secret: string };
  /** Stripe's secret roll: a new secret signs at once, the old one too until it expires. */
  rollWebhookSecret(options?: { expiresInSeconds?: number; newSecret?: string }): { secret: string };
  /** Bills the next period of a subscription now, as a test clock advancing would. */
  renewSubscription(id: string): JsonObject | undefined;
  /**
   * Runs the invoice's scheduled payment retry now, as Stripe does at `next_payment_attempt`; with a
   * decline token (`pm_card_chargeDeclined`) it fails again. @returns the invoice after the attempt
   */
  retryInvoicePayment(id: string, paymentMethod?: string): JsonObject;
  /**
   * Takes a subscription (and its items) away without an event, as a test-mode data reset does:
   * tests use it to remove records behind revbridge's back. @returns whether it existed
   */
  forceDeleteSubscription(id: string): boolean;
  /** Resolves once every webhook is delivered or given up (and nothing is held back). */
  flushWebhooks(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A local Stripe: the v1 API the official `stripe` package calls (customers, products, prices, tax
 * rates, subscriptions, invoices, invoice items, credit notes, events, webhook endpoints), with
 * Stripe's errors and idempotency, and signed webhooks with seeded delivery faults.
 */
export async function startStripeTwin(options: StripeTwinOptions = {}): Promise<StripeTwin> {
  const seed = options.seed ?? 1;
  const clock = options.clock ?? Date.now;
  const apiKey = options.apiKey ?? STRIPE_TWIN_DEFAULT_API_KEY;
  const apiVersion = options.apiVersion ?? STRIPE_TWIN_API_VERSION;
  const faultConfig = options.faults ?? faultsFromEnv('stripe');
  const faults = new FaultInjector({ ...faultConfig, seed: faultConfig.seed ?? seed });
  const store = new Store(seed, clock);
  const webhooks = new StripeWebhooks({
    store,
    faults,
    apiVersion,
    retryDelaysMs: options.webhookRetryDelaysMs ?? STRIPE_TWIN_DEFAULT_RETRY_DELAYS_MS,
    timeoutMs: options.webhookTimeoutMs ?? 5000,
  });
  const requests: StripeRequestLogEntry[] = [];
  let primaryEndpoint: string | undefined;

  const setWebhookEndpoint = (url: string, secret?: string) => {
    const existing = primaryEndpoint === undefined ? undefined : store.webhookEndpoints.get(primaryEndpoint);
    const endpoint: WebhookEndpointRecord = existing ?? {
      id: store.id('we_'),
      seq: store.nextSeq(),
      created: store.now(),
      url,
      secret: '',
      previousSecrets: [],
      enabledEvents: ['*'],
      description: 'Registered by the Stripe twin',
      metadata: {},
      status: 'enabled',
      apiVersion: null,
    };
    endpoint.url = url;
    endpoint.secret = secret ?? (existing ? existing.secret : STRIPE_TWIN_DEFAULT_WEBHOOK_SECRET);
    endpoint.previousSecrets = [];
    store.webhookEndpoints.set(endpoint.id, endpoint);
    primaryEndpoint = endpoint.id;
    return { id: endpoint.id, url: endpoint.url, secret: endpoint.secret };
  };
  if (options.webhook) setWebhookEndpoint(options.webhook.url, options.webhook.secret);

  const server = await startTwinServer({
    name: 'stripe',
    port: options.port ?? STRIPE_TWIN_DEFAULT_PORT,
    ...(options.host === undefined ? {} : { host: options.host }),
    faults,
    handler: createApiHandler({ store, webhooks, apiKey, apiVersion, requestLog: requests }),
    vendorError: (status, retryAfter) => stripeVendorError(store, status, retryAfter),
    maxBodyBytes: 1024 * 1024,
  });

  /** What Stripe does on its own (a renewal, a scheduled retry): events with no API request behind them. */
  const automaticCtx = () => {
    const request = { id: null, idempotency_key: null };
    return {
      store,
      emit: makeEmit((type, object, previous) => webhooks.emit(type, object, previous, request)),
    };
  };

  const byKind = (kind: StripeObjectKind): JsonObject[] => {
    const ordered = <T extends { seq: number }>(map: ReadonlyMap<string, T>): T[] =>
      [...map.values()].sort((a, b) => a.seq - b.seq);
    switch (kind) {
      case 'customer':
        return ordered(store.customers).map(renderCustomer);
      case 'subscription':
        return ordered(store.subscriptions).map((s) => renderSubscription(store, s));
      case 'invoice':
        return ordered(store.invoices).map((i) => renderInvoice(store, i));
      case 'credit_note':
        return ordered(store.creditNotes).map((n) => renderCreditNote(store, n));
      case 'webhook_endpoint':
        return ordered(store.webhookEndpoints).map((w) => renderWebhookEndpoint(w));
      case 'product':
      case 'price':
      case 'tax_rate': {
        const map = kind === 'product' ? store.products : kind === 'price' ? store.prices : store.taxRates;
        return ordered<{ id: string; seq: number }>(map).flatMap((r) => {
          const rendered = renderById(store, r.id);
          return rendered ? [rendered] : [];
        });
      }
    }
  };

  return {
    url: server.url,
    port: server.port,
    apiKey,
    faults,
    webhooks: webhooks.sender,
    deliveries: webhooks.attempts,
    requests,
    get: (id) => {
      const event = store.events.get(id);
      if (event) return renderEvent(event, apiVersion);
      const endpoint = store.webhookEndpoints.get(id);
      if (endpoint) return renderWebhookEndpoint(endpoint);
      return renderById(store, id);
    },
    list: byKind,
    events: () =>
      [...store.events.values()].sort((a, b) => a.seq - b.seq).map((e) => renderEvent(e, apiVersion)),
    setWebhookEndpoint,
    rollWebhookSecret: ({ expiresInSeconds = 24 * 3600, newSecret } = {}) => {
      const endpoint =
        primaryEndpoint === undefined ? undefined : store.webhookEndpoints.get(primaryEndpoint);
      if (!endpoint) throw new Error('No webhook endpoint is registered; call setWebhookEndpoint first.');
      endpoint.previousSecrets.push({ secret: endpoint.secret, expiresAt: store.now() + expiresInSeconds });
      endpoint.secret = newSecret ?? store.webhookSecret();
      return { secret: endpoint.secret };
    },
    renewSubscription: (id) => {
      const invoice = renewSubscription(automaticCtx(), id);
      return invoice && renderInvoice(store, invoice);
    },
    retryInvoicePayment: (id, paymentMethod) =>
      renderInvoice(store, retryScheduledPayment(automaticCtx(), id, paymentMethod)),
    forceDeleteSubscription: (id) => {
      if (!store.subscriptions.delete(id)) return false;
      for (const [itemId, item] of store.subscriptionItems) {
        if (item.subscription === id) store.subscriptionItems.delete(itemId);
      }
      return true;
    },
    flushWebhooks: () => webhooks.idle(),
    close: async () => {
      webhooks.close();
      await server.close();
    },
  };
}
