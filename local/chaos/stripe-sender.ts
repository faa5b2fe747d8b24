import { FaultInjector, WebhookSender } from '../twins/common';
import { stripeSignatureHeader } from '../twins/stripe';

/**
 * Stripe's webhook delivery for the chaos run's billing events: signed as Stripe signs them, at least
 * once, retried with backoff on anything but a 2xx, and (seeded) duplicated and reordered. Stripe
 * retries for up to three days; the schedule here is that backoff compressed to about a minute.
 * https://docs.stripe.com/webhooks#retries
 */
export const STRIPE_RETRY_SCHEDULE_MS = [
  100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000,
];

export interface StripeSenderOptions {
  readonly url: string;
  readonly secret: string;
  readonly seed: number;
  readonly duplicateRate: number;
  readonly reorderRate: number;
}

export class StripeSender {
  readonly faults: FaultInjector;
  private readonly sender: WebhookSender;

  constructor(private readonly options: StripeSenderOptions) {
    this.faults = new FaultInjector({
      seed: options.seed,
      duplicateRate: options.duplicateRate,
      reorderRate: options.reorderRate,
    });
    this.sender = new WebhookSender({
      faults: this.faults,
      retryDelaysMs: STRIPE_RETRY_SCHEDULE_MS,
      timeoutMs: 15_000,
    });
  }

  send(eventId: string, type: string, object: Record<string, unknown>): void {
    const body = JSON.stringify(
      {
        id: eventId,
        object: 'event',
        api_version: '2026-10-28.endive',
        created: Math.floor(Date.now() / 1000),
        livemode: false,
        pending_webhooks: 1,
        type,
        data: { object },
      },
      null,
      2,
    );
    const signature = stripeSignatureHeader(body, [this.options.secret], Math.floor(Date.now() / 1000));
    this.sender.send({
      url: this.options.url,
      id: eventId,
      body,
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature },
    });
  }

  /** Every attempt so far (duplicates are the second copies, `copy: 2`). */
  get log() {
    return this.sender.log;
  }

  idle(): Promise<void> {
    return this.sender.idle();
  }

  close(): void {
    this.sender.close();
  }
}
