/**
 * Delivery to targets with the retry policy and dead-letter queue EventBridge applies
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html): it tracks the invocations in
 * flight and remembers the ones given up on.
 */
import { errorCode, errorMessage } from './errors';
import { DEFAULT_EVENT_AGE_SECONDS, DEFAULT_RETRY_ATTEMPTS } from './parameters';
import type { Rule } from './rules';
import { targetPayload } from './targets';
import type { Deliver, DeliveryFailure, EventBridgeEvent, EventBridgeStatus, Target } from './types';

/** The engine's event counters, shared by the engine, delivery and archives; `status()` shows a copy. */
export type EventCounts = { -readonly [K in keyof EventBridgeStatus['events']]: number };

export interface TargetDeliveryOptions {
  readonly deliver: Deliver;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly backoff: (retry: number) => number;
  readonly isRetryable: (error: unknown) => boolean;
  readonly warn: (message: string) => void;
  readonly counts: EventCounts;
}

export class TargetDelivery {
  private readonly deliver: Deliver;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly backoff: (retry: number) => number;
  private readonly isRetryable: (error: unknown) => boolean;
  private readonly warn: (message: string) => void;
  private readonly counts: EventCounts;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly failureLog: DeliveryFailure[] = [];

  constructor(options: TargetDeliveryOptions) {
    this.deliver = options.deliver;
    this.now = options.now;
    this.sleep = options.sleep;
    this.backoff = options.backoff;
    this.isRetryable = options.isRetryable;
    this.warn = options.warn;
    this.counts = options.counts;
  }

  /** Starts one target invocation in the background; `idle()` waits for it. */
  start(rule: Rule, target: Target, event: EventBridgeEvent, acceptedAt: number): void {
    const task = this.invoke(rule, target, event, acceptedAt).catch((error: unknown) =>
      this.warn(
        `eventbridge: delivery of event ${event.id} to ${target.Arn} crashed: ${errorMessage(error)}`,
      ),
    );
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  /** Resolves once no delivery (including retries and dead-lettering) is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Target invocations given up on, oldest first. */
  failures(): readonly DeliveryFailure[] {
    return [...this.failureLog];
  }

  /** One target invocation with EventBridge's retry policy, then the DLQ. */
  private async invoke(
    rule: Rule,
    target: Target,
    event: EventBridgeEvent,
    acceptedAt: number,
  ): Promise<void> {
    const payload = targetPayload(rule, target, event, acceptedAt);
    const maxRetries = target.RetryPolicy?.MaximumRetryAttempts ?? DEFAULT_RETRY_ATTEMPTS;
    const maxAgeMs = (target.RetryPolicy?.MaximumEventAgeInSeconds ?? DEFAULT_EVENT_AGE_SECONDS) * 1000;
    let attempts = 0;
    for (;;) {
      attempts += 1;
      let failure: unknown;
      try {
        await this.deliver(target.Arn, payload);
        this.counts.delivered += 1;
        return;
      } catch (error) {
        failure = error;
      }
      let exhausted: DeliveryFailure['exhaustedRetryCondition'] | 'not-retryable' | undefined;
      const delay = this.backoff(attempts);
      if (!this.isRetryable(failure)) exhausted = 'not-retryable';
      else if (attempts > maxRetries) exhausted = 'MaximumRetryAttempts';
      else if (this.now() + delay - acceptedAt > maxAgeMs) exhausted = 'MaximumEventAgeInSeconds';
      if (exhausted !== undefined) {
        await this.giveUp(
          rule,
          target,
          event,
          failure,
          attempts,
          exhausted === 'not-retryable' ? undefined : exhausted,
        );
        return;
      }
      this.counts.retried += 1;
      await this.sleep(delay);
    }
  }

  private async giveUp(
    rule: Rule,
    target: Target,
    event: EventBridgeEvent,
    error: unknown,
    attempts: number,
    exhausted: DeliveryFailure['exhaustedRetryCondition'],
  ): Promise<void> {
    this.counts.failed += 1;
    const code = errorCode(error);
    const message = errorMessage(error);
    const dlq = target.DeadLetterConfig?.Arn;
    let deadLetter: DeliveryFailure['deadLetter'] = 'none';
    if (dlq) {
      // The DLQ message is the event itself, with the failure described in message attributes (eb-rule-dlq.html).
      const attributes: Record<string, string> = {
        ERROR_CODE: code,
        ERROR_MESSAGE: message,
        RETRY_ATTEMPTS: String(attempts - 1),
        RULE_ARN: rule.arn,
        TARGET_ARN: target.Arn,
        ...(exhausted === undefined ? {} : { EXHAUSTED_RETRY_CONDITION: exhausted }),
      };
      try {
        await this.deliver(dlq, JSON.stringify(event), attributes);
        deadLetter = 'sent';
        this.counts.sentToDeadLetter += 1;
      } catch (dlqError) {
        deadLetter = 'failed';
        this.counts.deadLetterFailed += 1;
        this.warn(
          `eventbridge: event ${event.id} for ${target.Arn} failed (${message}) and could not be sent to DLQ ${dlq}: ${errorMessage(dlqError)}`,
        );
      }
    } else {
      this.warn(
        `eventbridge: dropped event ${event.id} of rule ${rule.arn} for ${target.Arn} after ${attempts} attempt(s), no DLQ: ${message}`,
      );
    }
    this.failureLog.push({
      eventId: event.id,
      ruleArn: rule.arn,
      targetId: target.Id,
      targetArn: target.Arn,
      attempts,
      errorCode: code,
      errorMessage: message,
      ...(exhausted === undefined ? {} : { exhaustedRetryCondition: exhausted }),
      deadLetter,
    });
  }
}
