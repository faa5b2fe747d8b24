import { AwsServiceError } from '../aws/json-protocol';
import { type CompiledPattern, InvalidEventPatternError, type JsonValue, parseEventPattern } from './pattern';

/**
 * The local EventBridge: event buses, rules with targets, archives and replays, and PutEvents with AWS's
 * per-entry error reporting. Delivery to targets goes through one injected callback (the local runtime routes
 * it to SQS, Step Functions or Lambda by ARN), with the retry policy and dead-letter queue EventBridge applies
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
 */

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

interface Rule {
  readonly name: string;
  readonly bus: string;
  readonly arn: string;
  eventPattern: string | undefined;
  pattern: CompiledPattern | undefined;
  scheduleExpression: string | undefined;
  state: RuleState;
  description: string | undefined;
  roleArn: string | undefined;
  readonly targets: Map<string, Target>;
}

interface Bus {
  readonly name: string;
  readonly arn: string;
  readonly rules: Map<string, Rule>;
  readonly creationTime: Date;
}

interface ArchivedEvent {
  readonly event: EventBridgeEvent;
  readonly time: number;
  readonly size: number;
}

interface Archive {
  readonly name: string;
  readonly arn: string;
  readonly bus: string;
  readonly eventPattern: string | undefined;
  readonly pattern: CompiledPattern | undefined;
  readonly description: string | undefined;
  readonly retentionDays: number;
  readonly creationTime: Date;
  readonly events: ArchivedEvent[];
}

type PathStep = string | number;

const DEFAULT_BUS = 'default';
// Limits from https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html and the API reference.
const MAX_ENTRIES_PER_PUT = 10;
const MAX_TARGETS_PER_RULE = 5;
const DEFAULT_RETRY_ATTEMPTS = 185;
const DEFAULT_EVENT_AGE_SECONDS = 86_400;
const NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;

const validation = (message: string) => new AwsServiceError('ValidationException', message);
const notFound = (message: string) => new AwsServiceError('ResourceNotFoundException', message);
const isJsonObject = (value: unknown): value is { [key: string]: JsonValue } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** EventBridge writes event times to the second: "2017-12-22T18:43:48Z". */
const eventTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const utf8Bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));
const errorCode = (error: unknown): string => {
  if (typeof error === 'object' && error !== null) {
    const { code, name } = error as { code?: unknown; name?: unknown };
    if (typeof code === 'string') return code;
    if (typeof name === 'string') return name;
  }
  return 'Error';
};
const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The JSONPath subset EventBridge accepts in InputPath and InputPathsMap: `$`, `.name`, `[0]`, `['name']`. */
const parseJsonPath = (path: string): PathStep[] => {
  if (!path.startsWith('$')) throw validation(`InputPath ${path} is not valid: it must start with $`);
  const steps: PathStep[] = [];
  const step = /^(?:\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;
  let rest = path.slice(1);
  while (rest.length > 0) {
    const match = step.exec(rest);
    if (!match) throw validation(`InputPath ${path} is not valid JSONPath`);
    const [whole, dotted, index, single, double] = match;
    steps.push(index !== undefined ? Number(index) : (dotted ?? single ?? double ?? ''));
    rest = rest.slice(whole.length);
  }
  return steps;
};

const selectPath = (value: unknown, steps: readonly PathStep[]): unknown => {
  let current = value;
  for (const step of steps) {
    if (typeof step === 'number') current = Array.isArray(current) ? current[step] : undefined;
    else current = isJsonObject(current) && Object.hasOwn(current, step) ? current[step] : undefined;
    if (current === undefined) return undefined;
  }
  return current;
};

const resolveBusName = (nameOrArn: string | undefined): string => {
  if (nameOrArn === undefined || nameOrArn === '') return DEFAULT_BUS;
  const marker = ':event-bus/';
  const at = nameOrArn.indexOf(marker);
  return nameOrArn.startsWith('arn:') && at >= 0 ? nameOrArn.slice(at + marker.length) : nameOrArn;
};

const compile = (eventPattern: string): CompiledPattern => {
  try {
    return parseEventPattern(eventPattern);
  } catch (error) {
    if (error instanceof InvalidEventPatternError) {
      throw new AwsServiceError('InvalidEventPatternException', error.message);
    }
    throw error;
  }
};

export class EventBridgeEngine {
  readonly region: string;
  readonly accountId: string;
  private readonly deliver: Deliver;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly backoff: (retry: number) => number;
  private readonly isRetryable: (error: unknown) => boolean;
  private readonly warn: (message: string) => void;
  private readonly maxRequestBytes: number;
  private readonly buses = new Map<string, Bus>();
  private readonly archives = new Map<string, Archive>();
  private readonly replays = new Map<string, ReplayDescription>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly failureLog: DeliveryFailure[] = [];
  private readonly counts = {
    put: 0,
    rejected: 0,
    matched: 0,
    delivered: 0,
    retried: 0,
    failed: 0,
    sentToDeadLetter: 0,
    deadLetterFailed: 0,
    archived: 0,
    replayed: 0,
  };

  constructor(options: EventBridgeEngineOptions) {
    this.deliver = options.deliver;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.backoff =
      options.backoff ?? ((retry) => Math.min(10_000, 100 * 2 ** (retry - 1)) * (0.5 + Math.random() / 2));
    this.isRetryable = options.isRetryable ?? (() => true);
    this.warn = options.warn ?? ((message) => console.warn(message));
    this.maxRequestBytes = options.maxRequestBytes ?? 256 * 1024;
    this.addBus(DEFAULT_BUS);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Event buses
  // ---------------------------------------------------------------------------------------------------------

  createEventBus(name: string): { EventBusArn: string } {
    if (!BUS_NAME.test(name)) throw validation(`Event bus name ${name} is not valid.`);
    if (this.buses.has(name))
      throw new AwsServiceError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
    return { EventBusArn: this.addBus(name).arn };
  }

  describeEventBus(nameOrArn?: string): { Name: string; Arn: string; CreationTime: Date } {
    const bus = this.bus(nameOrArn);
    return { Name: bus.name, Arn: bus.arn, CreationTime: bus.creationTime };
  }

  listEventBuses(namePrefix?: string): Array<{ Name: string; Arn: string; CreationTime: Date }> {
    return [...this.buses.values()]
      .filter((bus) => namePrefix === undefined || bus.name.startsWith(namePrefix))
      .map((bus) => ({ Name: bus.name, Arn: bus.arn, CreationTime: bus.creationTime }));
  }

  deleteEventBus(name: string): void {
    if (name === DEFAULT_BUS) throw validation('Cannot delete event bus default.');
    this.buses.delete(name);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Rules and targets
  // ---------------------------------------------------------------------------------------------------------

  /** Creates or replaces a rule; its targets are kept. */
  putRule(input: PutRuleInput): { RuleArn: string } {
    if (!NAME.test(input.Name)) throw validation(`Rule name ${input.Name} is not valid.`);
    if (input.EventPattern === undefined && input.ScheduleExpression === undefined) {
      throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
    }
    const bus = this.bus(input.EventBusName);
    if (input.ScheduleExpression !== undefined && bus.name !== DEFAULT_BUS) {
      throw validation('ScheduleExpression is supported only on the default event bus.');
    }
    const pattern = input.EventPattern === undefined ? undefined : compile(input.EventPattern);
    const existing = bus.rules.get(input.Name);
    const rule: Rule = existing ?? {
      name: input.Name,
      bus: bus.name,
      arn: this.ruleArn(bus.name, input.Name),
      eventPattern: undefined,
      pattern: undefined,
      scheduleExpression: undefined,
      state: 'ENABLED',
      description: undefined,
      roleArn: undefined,
      targets: new Map(),
    };
    rule.eventPattern = input.EventPattern;
    rule.pattern = pattern;
    rule.scheduleExpression = input.ScheduleExpression;
    rule.state = input.State ?? 'ENABLED';
    rule.description = input.Description;
    rule.roleArn = input.RoleArn;
    bus.rules.set(rule.name, rule);
    return { RuleArn: rule.arn };
  }

  describeRule(name: string, eventBusName?: string): RuleDescription {
    return this.describe(this.rule(name, eventBusName));
  }

  listRules(options: { eventBusName?: string; namePrefix?: string } = {}): RuleDescription[] {
    return [...this.bus(options.eventBusName).rules.values()]
      .filter((rule) => options.namePrefix === undefined || rule.name.startsWith(options.namePrefix))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((rule) => this.describe(rule));
  }

  setRuleState(name: string, state: 'ENABLED' | 'DISABLED', eventBusName?: string): void {
    this.rule(name, eventBusName).state = state;
  }

  /** Like AWS, a rule with targets is only deleted with `force`. */
  deleteRule(name: string, eventBusName?: string, force = false): void {
    const bus = this.bus(eventBusName);
    const rule = bus.rules.get(name);
    if (!rule) return;
    if (rule.targets.size > 0 && !force) throw validation("Rule can't be deleted since it has targets.");
    bus.rules.delete(name);
  }

  putTargets(
    ruleName: string,
    eventBusName: string | undefined,
    targets: readonly Target[],
  ): {
    FailedEntryCount: number;
    FailedEntries: Array<{ TargetId: string; ErrorCode: string; ErrorMessage: string }>;
  } {
    const rule = this.rule(ruleName, eventBusName);
    for (const target of targets) this.checkTarget(target);
    const ids = new Set([...rule.targets.keys(), ...targets.map((target) => target.Id)]);
    if (ids.size > MAX_TARGETS_PER_RULE) {
      throw new AwsServiceError(
        'LimitExceededException',
        `The requested resource exceeds the maximum number allowed (${MAX_TARGETS_PER_RULE} targets per rule).`,
      );
    }
    for (const target of targets) rule.targets.set(target.Id, target);
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  removeTargets(ruleName: string, eventBusName: string | undefined, ids: readonly string[]): void {
    const rule = this.rule(ruleName, eventBusName);
    for (const id of ids) rule.targets.delete(id);
  }

  listTargetsByRule(ruleName: string, eventBusName?: string): Target[] {
    return [...this.rule(ruleName, eventBusName).targets.values()];
  }

  /** TestEventPattern: the event must be a full event with the fields the API reference lists as mandatory. */
  testEventPattern(eventPattern: string, event: string): boolean {
    const pattern = compile(eventPattern);
    let parsed: unknown;
    try {
      parsed = JSON.parse(event);
    } catch {
      throw validation('Parameter Event is not valid. Reason: it is not valid JSON.');
    }
    if (!isJsonObject(parsed))
      throw validation('Parameter Event is not valid. Reason: it is not a JSON object.');
    const missing = ['id', 'account', 'source', 'time', 'region', 'resources', 'detail-type'].filter(
      (field) => !Object.hasOwn(parsed, field),
    );
    if (missing.length > 0) {
      throw validation(
        `Parameter Event is not valid. Reason: Provided Event is missing ${missing.join(', ')}.`,
      );
    }
    return pattern.matches(parsed);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Events
  // ---------------------------------------------------------------------------------------------------------

  /**
   * Accepts the entries and hands matching events to delivery; resolves before delivery finishes (await
   * `idle()` for that). Entry problems are reported per entry; only a request-level problem (entry count,
   * total size) throws, as AWS fails the whole call for those.
   */
  async putEvents(entries: readonly PutEventsRequestEntry[]): Promise<PutEventsResult> {
    if (entries.length < 1 || entries.length > MAX_ENTRIES_PER_PUT) {
      throw validation(
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES_PER_PUT}`,
      );
    }
    const size = entries.reduce((total, entry) => total + this.entrySize(entry), 0);
    if (size > this.maxRequestBytes) {
      throw validation(
        `Total size of the entries in the request is over the limit (${size} bytes, limit ${this.maxRequestBytes}).`,
      );
    }
    const results = entries.map((entry) => this.acceptEntry(entry));
    const failed = results.filter((result) => 'ErrorCode' in result).length;
    this.counts.rejected += failed;
    return { FailedEntryCount: failed, Entries: results };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Archives and replays
  // ---------------------------------------------------------------------------------------------------------

  createArchive(input: CreateArchiveInput): { ArchiveArn: string; State: 'ENABLED'; CreationTime: Date } {
    if (!/^[.\-_A-Za-z0-9]{1,48}$/.test(input.ArchiveName)) {
      throw validation(`Archive name ${input.ArchiveName} is not valid.`);
    }
    if (this.archives.has(input.ArchiveName)) {
      throw new AwsServiceError(
        'ResourceAlreadyExistsException',
        `Archive ${input.ArchiveName} already exists.`,
      );
    }
    const bus = this.bus(input.EventSourceArn);
    const retentionDays = input.RetentionDays ?? 0;
    if (!Number.isInteger(retentionDays) || retentionDays < 0)
      throw validation('RetentionDays must be 0 or more.');
    const archive: Archive = {
      name: input.ArchiveName,
      arn: `arn:aws:events:${this.region}:${this.accountId}:archive/${input.ArchiveName}`,
      bus: bus.name,
      eventPattern: input.EventPattern,
      pattern: input.EventPattern === undefined ? undefined : compile(input.EventPattern),
      description: input.Description,
      retentionDays,
      creationTime: new Date(this.now()),
      events: [],
    };
    this.archives.set(archive.name, archive);
    return { ArchiveArn: archive.arn, State: 'ENABLED', CreationTime: archive.creationTime };
  }

  describeArchive(name: string): ArchiveDescription {
    return this.describeArchiveOf(this.archive(name));
  }

  listArchives(eventSourceArn?: string): ArchiveDescription[] {
    const bus = eventSourceArn === undefined ? undefined : resolveBusName(eventSourceArn);
    return [...this.archives.values()]
      .filter((archive) => bus === undefined || archive.bus === bus)
      .map((archive) => this.describeArchiveOf(archive));
  }

  /**
   * Sends the archived events whose event time is within [from, to] to the rules of the archive's bus again,
   * oldest first, with `replay-name` set. Resolves when they are handed to delivery, like `putEvents`.
   */
  async replay(
    archiveName: string,
    from: Date,
    to: Date,
    options: ReplayOptions = {},
  ): Promise<ReplayDescription> {
    const archive = this.archive(archiveName);
    if (!(from.getTime() < to.getTime())) {
      throw validation(
        'Parameter EventStartTime is not valid. Reason: EventStartTime must be before EventEndTime.',
      );
    }
    const replayName = options.replayName ?? `replay-${archiveName}-${this.replays.size + 1}`;
    if (!/^[.\-_A-Za-z0-9]{1,64}$/.test(replayName))
      throw validation(`Replay name ${replayName} is not valid.`);
    if (this.replays.has(replayName)) {
      throw new AwsServiceError('ResourceAlreadyExistsException', `Replay ${replayName} already exists.`);
    }
    const bus = this.bus(archive.bus);
    const ruleArns = options.ruleArns === undefined ? undefined : new Set(options.ruleArns);
    const startedAt = new Date(this.now());
    const selected = this.retained(archive)
      .filter(({ time }) => time >= from.getTime() && time <= to.getTime())
      .sort((a, b) => a.time - b.time);
    for (const { event } of selected) {
      this.counts.replayed += 1;
      this.dispatch(bus, { ...event, 'replay-name': replayName }, this.now(), ruleArns);
    }
    const last = selected.at(-1);
    const description: ReplayDescription = {
      ReplayName: replayName,
      ReplayArn: `arn:aws:events:${this.region}:${this.accountId}:replay/${replayName}`,
      EventSourceArn: archive.arn,
      State: 'COMPLETED',
      EventStartTime: from,
      EventEndTime: to,
      EventLastReplayedTime: last === undefined ? undefined : new Date(last.time),
      ReplayStartTime: startedAt,
      ReplayEndTime: new Date(this.now()),
      Destination: { Arn: bus.arn, FilterArns: options.ruleArns },
      EventCount: selected.length,
    };
    this.replays.set(replayName, description);
    return description;
  }

  describeReplay(name: string): ReplayDescription {
    const replay = this.replays.get(name);
    if (!replay) throw notFound(`Replay ${name} does not exist.`);
    return replay;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Observability
  // ---------------------------------------------------------------------------------------------------------

  /** Resolves once no delivery (including retries and dead-lettering) is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Target invocations given up on, oldest first. */
  failures(): readonly DeliveryFailure[] {
    return [...this.failureLog];
  }

  status(): EventBridgeStatus {
    const buses = [...this.buses.values()];
    return {
      buses: buses.map((bus) => ({
        name: bus.name,
        arn: bus.arn,
        rules: bus.rules.size,
        archives: [...this.archives.values()].filter((a) => a.bus === bus.name).map((a) => a.name),
      })),
      rules: buses.flatMap((bus) =>
        [...bus.rules.values()].map((rule) => ({
          name: rule.name,
          bus: bus.name,
          arn: rule.arn,
          state: rule.state,
          targets: rule.targets.size,
        })),
      ),
      archives: [...this.archives.values()].map((archive) => ({
        name: archive.name,
        bus: archive.bus,
        events: this.retained(archive).length,
      })),
      events: { ...this.counts },
      inFlight: this.inFlight.size,
    };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Internals
  // ---------------------------------------------------------------------------------------------------------

  private addBus(name: string): Bus {
    const bus: Bus = {
      name,
      arn: `arn:aws:events:${this.region}:${this.accountId}:event-bus/${name}`,
      rules: new Map(),
      creationTime: new Date(this.now()),
    };
    this.buses.set(name, bus);
    return bus;
  }

  private bus(nameOrArn: string | undefined): Bus {
    const name = resolveBusName(nameOrArn);
    const bus = this.buses.get(name);
    if (!bus) throw notFound(`Event bus ${name} does not exist.`);
    return bus;
  }

  private rule(name: string, eventBusName: string | undefined): Rule {
    const bus = this.bus(eventBusName);
    const rule = bus.rules.get(name);
    if (!rule) throw notFound(`Rule ${name} does not exist on EventBus ${bus.name}.`);
    return rule;
  }

  private archive(name: string): Archive {
    const archive = this.archives.get(name);
    if (!archive) throw notFound(`Archive ${name} does not exist.`);
    return archive;
  }

  private ruleArn(bus: string, name: string): string {
    // Rules on the default bus keep the short ARN form; others include the bus name.
    const path = bus === DEFAULT_BUS ? name : `${bus}/${name}`;
    return `arn:aws:events:${this.region}:${this.accountId}:rule/${path}`;
  }

  private describe(rule: Rule): RuleDescription {
    return {
      Name: rule.name,
      Arn: rule.arn,
      EventBusName: rule.bus,
      State: rule.state,
      EventPattern: rule.eventPattern,
      ScheduleExpression: rule.scheduleExpression,
      Description: rule.description,
      RoleArn: rule.roleArn,
    };
  }

  private describeArchiveOf(archive: Archive): ArchiveDescription {
    const events = this.retained(archive);
    return {
      ArchiveName: archive.name,
      ArchiveArn: archive.arn,
      EventSourceArn: this.bus(archive.bus).arn,
      EventPattern: archive.eventPattern,
      Description: archive.description,
      State: 'ENABLED',
      RetentionDays: archive.retentionDays,
      SizeBytes: events.reduce((total, archived) => total + archived.size, 0),
      EventCount: events.length,
      CreationTime: archive.creationTime,
    };
  }

  /** Archived events still within the archive's retention (0 days keeps them forever). */
  private retained(archive: Archive): ArchivedEvent[] {
    if (archive.retentionDays === 0) return archive.events;
    const cutoff = this.now() - archive.retentionDays * 86_400_000;
    const kept = archive.events.filter((archived) => archived.time >= cutoff);
    archive.events.splice(0, archive.events.length, ...kept);
    return archive.events;
  }

  private checkTarget(target: Target): void {
    if (!NAME.test(target.Id)) throw validation(`Target Id ${target.Id} is not valid.`);
    if (!target.Arn) throw validation(`Target ${target.Id} has no Arn.`);
    const inputs = [target.Input, target.InputPath, target.InputTransformer].filter(
      (input) => input !== undefined,
    );
    if (inputs.length > 1) {
      throw validation(`Target ${target.Id}: only one of Input, InputPath or InputTransformer may be set.`);
    }
    if (target.Input !== undefined) {
      try {
        JSON.parse(target.Input);
      } catch {
        throw validation(`Target ${target.Id}: Input is not valid JSON text.`);
      }
    }
    if (target.InputPath !== undefined) parseJsonPath(target.InputPath);
    for (const path of Object.values(target.InputTransformer?.InputPathsMap ?? {})) parseJsonPath(path);
    const retries = target.RetryPolicy?.MaximumRetryAttempts;
    if (
      retries !== undefined &&
      !(Number.isInteger(retries) && retries >= 0 && retries <= DEFAULT_RETRY_ATTEMPTS)
    ) {
      throw validation(`Target ${target.Id}: MaximumRetryAttempts must be between 0 and 185.`);
    }
    const age = target.RetryPolicy?.MaximumEventAgeInSeconds;
    if (age !== undefined && !(Number.isInteger(age) && age >= 60 && age <= DEFAULT_EVENT_AGE_SECONDS)) {
      throw validation(`Target ${target.Id}: MaximumEventAgeInSeconds must be between 60 and 86400.`);
    }
  }

  private entrySize(entry: PutEventsRequestEntry): number {
    return (
      (entry.Time === undefined ? 0 : 14) +
      utf8Bytes(entry.Source) +
      utf8Bytes(entry.DetailType) +
      utf8Bytes(entry.Detail) +
      (entry.Resources ?? []).reduce((total, resource) => total + utf8Bytes(resource), 0)
    );
  }

  private acceptEntry(entry: PutEventsRequestEntry): PutEventsResultEntry {
    for (const field of ['Source', 'DetailType', 'Detail'] as const) {
      if (entry[field] === undefined || entry[field] === '') {
        return {
          ErrorCode: 'InvalidArgument',
          ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
        };
      }
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail ?? '');
    } catch {
      detail = undefined;
    }
    if (!isJsonObject(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    const busName = resolveBusName(entry.EventBusName);
    const bus = this.buses.get(busName);
    if (!bus)
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };
    const acceptedAt = this.now();
    const time = entry.Time?.getTime() ?? acceptedAt;
    if (Number.isNaN(time)) {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter Time is not valid. Reason: Time is not a valid timestamp.',
      };
    }
    const event: EventBridgeEvent = {
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': entry.DetailType ?? '',
      source: entry.Source ?? '',
      account: this.accountId,
      time: eventTime(time),
      region: this.region,
      resources: [...(entry.Resources ?? [])],
      detail,
    };
    this.counts.put += 1;
    this.archiveEvent(bus, event, time);
    this.dispatch(bus, event, acceptedAt, undefined);
    return { EventId: event.id };
  }

  private archiveEvent(bus: Bus, event: EventBridgeEvent, time: number): void {
    for (const archive of this.archives.values()) {
      if (archive.bus !== bus.name || (archive.pattern && !archive.pattern.matches(event))) continue;
      archive.events.push({ event, time, size: utf8Bytes(JSON.stringify(event)) });
      this.counts.archived += 1;
    }
  }

  private dispatch(
    bus: Bus,
    event: EventBridgeEvent,
    acceptedAt: number,
    ruleArns: Set<string> | undefined,
  ): void {
    for (const rule of bus.rules.values()) {
      if (rule.state === 'DISABLED' || !rule.pattern) continue;
      if (ruleArns && !ruleArns.has(rule.arn)) continue;
      if (!rule.pattern.matches(event)) continue;
      this.counts.matched += 1;
      for (const target of rule.targets.values()) {
        const task = this.invoke(rule, target, event, acceptedAt).catch((error: unknown) =>
          this.warn(
            `eventbridge: delivery of event ${event.id} to ${target.Arn} crashed: ${errorMessage(error)}`,
          ),
        );
        this.inFlight.add(task);
        void task.finally(() => this.inFlight.delete(task));
      }
    }
  }

  /** One target invocation with EventBridge's retry policy, then the DLQ. */
  private async invoke(
    rule: Rule,
    target: Target,
    event: EventBridgeEvent,
    acceptedAt: number,
  ): Promise<void> {
    const payload = this.payload(rule, target, event, acceptedAt);
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

  /** What the target receives: the event, or Input / InputPath / InputTransformer applied to it. */
  private payload(rule: Rule, target: Target, event: EventBridgeEvent, acceptedAt: number): string {
    if (target.Input !== undefined) return target.Input;
    if (target.InputPath !== undefined) {
      return JSON.stringify(selectPath(event, parseJsonPath(target.InputPath)) ?? null);
    }
    if (target.InputTransformer !== undefined)
      return this.transform(target.InputTransformer, rule, event, acceptedAt);
    return JSON.stringify(event);
  }

  /**
   * InputTransformer (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html):
   * `<name>` takes the value at InputPathsMap[name], or a predefined `aws.events.*` variable. Inside a JSON
   * string ("...<name>...") a string value goes in without its quotes; elsewhere in a JSON template the value
   * goes in as JSON. A template that is not JSON (plain text) gets values as text.
   */
  private transform(
    transformer: InputTransformer,
    rule: Rule,
    event: EventBridgeEvent,
    acceptedAt: number,
  ): string {
    const values = new Map<string, unknown>([
      ['aws.events.rule-arn', rule.arn],
      ['aws.events.rule-name', rule.name],
      ['aws.events.event.ingestion-time', new Date(acceptedAt).toISOString()],
      ['aws.events.event', event],
      ['aws.events.event.json', event],
    ]);
    for (const [name, path] of Object.entries(transformer.InputPathsMap ?? {})) {
      values.set(name, selectPath(event, parseJsonPath(path)));
    }
    const template = transformer.InputTemplate;
    const jsonTemplate = /^\s*[[{"]/.test(template);
    let output = '';
    let inString = !jsonTemplate;
    for (let i = 0; i < template.length; i += 1) {
      const char = template.charAt(i);
      if (char === '<') {
        const close = template.indexOf('>', i);
        const name = close < 0 ? undefined : template.slice(i + 1, close);
        if (name !== undefined && values.has(name)) {
          const value = values.get(name);
          if (inString)
            output +=
              typeof value === 'string'
                ? jsonTemplate
                  ? JSON.stringify(value).slice(1, -1)
                  : value
                : JSON.stringify(value ?? null);
          else output += JSON.stringify(value ?? null);
          i = close;
          continue;
        }
      }
      if (jsonTemplate && char === '"') inString = !inString;
      if (jsonTemplate && char === '\\' && inString) {
        output += char + template.charAt(i + 1);
        i += 1;
        continue;
      }
      output += char;
    }
    return output;
  }
}
