import type { DeliveryFault, FaultInjector } from './faults';

export interface WebhookDelivery {
  url: string;
  /** Sent byte for byte: the caller has signed exactly this. */
  body: string;
  /** Sent as given (signatures included). */
  headers: Record<string, string>;
  /** The vendor's event or delivery id; duplicates share it. */
  id: string;
  /** @default 'POST' */
  method?: string;
  /**
   * Whether the receiver accepted the delivery. @default a 2xx status. Salesforce Outbound Messages, for
   * example, only count as delivered when the body is the SOAP Ack with `<Ack>true</Ack>`.
   */
  accept?: (status: number, body: string) => boolean;
}

export interface DeliveryAttempt {
  id: string;
  url: string;
  /** 1 for the first try of this copy. */
  attempt: number;
  /** 1 for the original, 2 for an injected duplicate. */
  copy: number;
  status?: number;
  error?: string;
  accepted: boolean;
  /** Set on the last attempt when the schedule is exhausted. */
  gaveUp?: boolean;
  /** ISO timestamp of the attempt's end. */
  at: string;
}

export interface WebhookSenderOptions {
  faults: FaultInjector;
  /**
   * Waits between attempts; its length is the number of retries. Vendors retry over hours or days
   * (Stripe up to 3 days, Salesforce 24 h); locally milliseconds keep runs short.
   * @default [50, 200, 1000]
   */
  retryDelaysMs?: number[];
  /** Per attempt. @default 10_000 */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

/**
 * Delivers webhooks the way vendors do: at least once, retried on anything but acceptance, and, per
 * the seeded faults, sometimes late, twice or out of order.
 */
export class WebhookSender {
  private readonly faults: FaultInjector;
  private readonly retryDelaysMs: number[];
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly attempts: DeliveryAttempt[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly controllers = new Set<AbortController>();
  private held: { delivery: WebhookDelivery; fault: DeliveryFault } | undefined;
  private closeWaiters: Array<() => void> = [];
  private closed = false;

  constructor(options: WebhookSenderOptions) {
    this.faults = options.faults;
    this.retryDelaysMs = options.retryDelaysMs ?? [50, 200, 1000];
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetchImpl ?? fetch;
  }

  /** Queues a delivery. Never throws; the outcome is in `log`. */
  send(delivery: WebhookDelivery): void {
    if (this.closed) return;
    const fault = this.faults.nextDeliveryFault();
    const previous = this.held;
    if (previous) {
      // The held delivery goes out right after this one, whatever this one drew: a swapped pair.
      this.held = undefined;
      this.dispatch(delivery, fault);
      this.dispatch(previous.delivery, previous.fault);
      return;
    }
    if (fault.reorder) {
      this.held = { delivery, fault };
      return;
    }
    this.dispatch(delivery, fault);
  }

  /** Sends a delivery held back for reordering now, without waiting for the next one. */
  flush(): void {
    const previous = this.held;
    this.held = undefined;
    if (previous) this.dispatch(previous.delivery, previous.fault);
  }

  /** Resolves when nothing is queued, held or in flight (a held delivery is flushed first). */
  async idle(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
    }
  }

  get log(): readonly DeliveryAttempt[] {
    return this.attempts;
  }

  /** Stops every pending attempt; later `send` calls are ignored. */
  close(): void {
    this.closed = true;
    this.held = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.controllers) controller.abort();
    for (const resolve of this.closeWaiters) resolve();
    this.closeWaiters = [];
  }

  private dispatch(delivery: WebhookDelivery, fault: DeliveryFault): void {
    this.track(this.deliver(delivery, fault.delayMs, 1));
    if (fault.duplicate) this.track(this.deliver(delivery, fault.delayMs, 2));
  }

  private track(task: Promise<void>): void {
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private async deliver(delivery: WebhookDelivery, delayMs: number, copy: number): Promise<void> {
    if (!(await this.sleep(delayMs))) return;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) return;
      const record = await this.attempt(delivery, attempt, copy);
      const retryDelay = this.retryDelaysMs[attempt - 1];
      if (!record.accepted && retryDelay === undefined) record.gaveUp = true;
      this.attempts.push(record);
      if (record.accepted || retryDelay === undefined) return;
      if (!(await this.sleep(retryDelay))) return;
    }
  }

  private async attempt(delivery: WebhookDelivery, attempt: number, copy: number): Promise<DeliveryAttempt> {
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(
      () => controller.abort(new Error(`timed out after ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    const base = { id: delivery.id, url: delivery.url, attempt, copy };
    try {
      const response = await this.fetchImpl(delivery.url, {
        method: delivery.method ?? 'POST',
        headers: delivery.headers,
        body: delivery.body,
        signal: controller.signal,
      });
      const text = await response.text();
      const accepted = delivery.accept
        ? delivery.accept(response.status, text)
        : response.status >= 200 && response.status < 300;
      return { ...base, status: response.status, accepted, at: new Date().toISOString() };
    } catch (error) {
      const reason = controller.signal.aborted ? controller.signal.reason : error;
      const message = reason instanceof Error ? reason.message : String(reason);
      return { ...base, error: message, accepted: false, at: new Date().toISOString() };
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }

  /** Resolves true after `ms`, or false if the sender was closed meanwhile. */
  private sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.closeWaiters = this.closeWaiters.filter((w) => w !== onClose);
        resolve(!this.closed);
      }, ms);
      const onClose = () => {
        resolve(false);
      };
      this.timers.add(timer);
      this.closeWaiters.push(onClose);
    });
  }
}
