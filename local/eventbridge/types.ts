/** The local EventBridge's public types: engine options, API inputs and outputs, events, failures and status. */
import type { JsonValue } from './pattern';

/**
 * Sends `payload` to the resource `targetArn`. For a dead-letter queue, `deadLetter` carries the message
 * attributes EventBridge puts on the SQS message (ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION,
 * RETRY_ATTEMPTS, RULE_ARN, TARGET_ARN). Rejecting means the target did not take the event.
 */
export type Deliver = (
  targetArn: string,
  payload: string,
  deadLetter?: Readonly<Record<string, string>>,
) => Promise<void>;

export interface EventBridgeEngineOptions {
  readonly deliver: Deliver;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Clock in epoch milliseconds, for event time and MaximumEventAgeInSeconds. @default Date.now */
  readonly now?: () => number;
  /** Waits between delivery attempts. @default a setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Delay in ms before retry `retry` (1-based). EventBridge backs off exponentially with jitter.
   * @default 100 ms doubling up to 10 s, with jitter
   */
  readonly backoff?: (retry: number) => number;
  /** Whether a rejected delivery can succeed later. @default every rejection is retried */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Reports an event that could not be delivered nor dead-lettered. @default console.warn */
  readonly warn?: (message: string) => void;
  /**
   * Largest PutEvents request, counted the way EventBridge counts entry sizes
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html).
   * @default 262144 (256 KiB)
   */
  readonly maxRequestBytes?: number;
}

export type RuleState = 'ENABLED' | 'DISABLED' | 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';

export interface RetryPolicy {
  /** 0 to 185. @default 185 */
  readonly MaximumRetryAttempts?: number;
  /** 60 to 86400. @default 86400 */
  readonly MaximumEventAgeInSeconds?: number;
}

export interface InputTransformer {
  readonly InputPathsMap?: Readonly<Record<string, string>>;
  readonly InputTemplate: string;
}

export interface Target {
  readonly Id: string;
  readonly Arn: string;
  readonly Input?: string;
  readonly InputPath?: string;
  readonly InputTransformer?: InputTransformer;
  readonly RoleArn?: string;
  readonly DeadLetterConfig?: { readonly Arn?: string };
  readonly RetryPolicy?: RetryPolicy;
}

export interface PutRuleInput {
  readonly Name: string;
  readonly EventBusName?: string;
  readonly EventPattern?: string;
  readonly ScheduleExpression?: string;
  readonly State?: RuleState;
  readonly Description?: string;
  readonly RoleArn?: string;
}

export interface PutEventsRequestEntry {
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
  readonly EventBusName?: string;
  readonly Time?: Date;
  readonly Resources?: readonly string[];
}

export type PutEventsResultEntry =
  | { readonly EventId: string }
  | { readonly ErrorCode: string; readonly ErrorMessage: string };

export interface PutEventsResult {
  readonly FailedEntryCount: number;
  readonly Entries: readonly PutEventsResultEntry[];
}

/** An event as targets receive it (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html). */
export interface EventBridgeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: { readonly [key: string]: JsonValue };
  /** Set on events sent again by a replay (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-replay-archived-event.html). */
  readonly 'replay-name'?: string;
}

export interface RuleDescription {
  readonly Name: string;
  readonly Arn: string;
  readonly EventBusName: string;
  readonly State: RuleState;
  readonly EventPattern?: string | undefined;
  readonly ScheduleExpression?: string | undefined;
  readonly Description?: string | undefined;
  readonly RoleArn?: string | undefined;
}

export interface CreateArchiveInput {
  readonly ArchiveName: string;
  /** ARN (or name) of the bus whose events are archived. */
  readonly EventSourceArn: string;
  readonly EventPattern?: string;
  readonly Description?: string;
  /** 0 keeps events forever. @default 0 */
  readonly RetentionDays?: number;
}

export interface ArchiveDescription {
  readonly ArchiveName: string;
  readonly ArchiveArn: string;
  readonly EventSourceArn: string;
  readonly EventPattern?: string | undefined;
  readonly Description?: string | undefined;
  readonly State: 'ENABLED';
  readonly RetentionDays: number;
  readonly SizeBytes: number;
  readonly EventCount: number;
  readonly CreationTime: Date;
}

export interface ReplayOptions {
  /** @default a generated name */
  readonly replayName?: string;
  /** Only these rules get the replayed events. @default every rule on the archive's bus */
  readonly ruleArns?: readonly string[];
}

export interface ReplayDescription {
  readonly ReplayName: string;
  readonly ReplayArn: string;
  readonly EventSourceArn: string;
  readonly State: 'COMPLETED';
  readonly EventStartTime: Date;
  readonly EventEndTime: Date;
  readonly EventLastReplayedTime?: Date | undefined;
  readonly ReplayStartTime: Date;
  readonly ReplayEndTime: Date;
  readonly Destination: { readonly Arn: string; readonly FilterArns?: readonly string[] | undefined };
  /** How many archived events were sent again. */
  readonly EventCount: number;
}

/** A target invocation EventBridge gave up on. */
export interface DeliveryFailure {
  readonly eventId: string;
  readonly ruleArn: string;
  readonly targetId: string;
  readonly targetArn: string;
  readonly attempts: number;
  readonly errorCode: string;
  readonly errorMessage: string;
  /** Which RetryPolicy limit ended the retries; absent when the error was not retryable. */
  readonly exhaustedRetryCondition?: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds';
  /** What happened to the event: sent to the target's DLQ, DLQ send failed, or no DLQ configured. */
  readonly deadLetter: 'sent' | 'failed' | 'none';
}

export interface EventBridgeStatus {
  readonly buses: ReadonlyArray<{ name: string; arn: string; rules: number; archives: readonly string[] }>;
  readonly rules: ReadonlyArray<{
    name: string;
    bus: string;
    arn: string;
    state: RuleState;
    targets: number;
  }>;
  readonly archives: ReadonlyArray<{ name: string; bus: string; events: number }>;
  readonly events: {
    /** Entries accepted by PutEvents. */
    readonly put: number;
    /** Entries PutEvents reported as failed. */
    readonly rejected: number;
    /** Rule matches (one event matching two rules counts twice). */
    readonly matched: number;
    readonly delivered: number;
    readonly retried: number;
    /** Target invocations given up on. */
    readonly failed: number;
    readonly sentToDeadLetter: number;
    readonly deadLetterFailed: number;
    readonly archived: number;
    readonly replayed: number;
  };
  readonly inFlight: number;
}
