import { AwsServiceError } from '../aws/json-protocol';
import { Archives } from './archive';
import { type EventCounts, TargetDelivery } from './delivery';
import { alreadyExists, compile, notFound, validation } from './errors';
import {
  BUS_NAME,
  DEFAULT_BUS,
  entrySize,
  eventTime,
  isJsonObject,
  MAX_ENTRIES_PER_PUT,
  MAX_TARGETS_PER_RULE,
  NAME,
  resolveBusName,
} from './parameters';
import { type Bus, describeRule, type Rule, ruleArn, testEventPattern } from './rules';
import { checkTarget } from './targets';
import type {
  ArchiveDescription,
  CreateArchiveInput,
  DeliveryFailure,
  EventBridgeEngineOptions,
  EventBridgeEvent,
  EventBridgeStatus,
  PutEventsRequestEntry,
  PutEventsResult,
  PutEventsResultEntry,
  PutRuleInput,
  ReplayDescription,
  ReplayOptions,
  RuleDescription,
  Target,
} from './types';

export type * from './types';

/**
 * The local EventBridge: event buses, rules with targets, archives and replays, and PutEvents with AWS's
 * per-entry error reporting. Delivery to targets goes through one injected callback (the local runtime routes
 * it to SQS, Step Functions or Lambda by ARN), with the retry policy and dead-letter queue EventBridge applies
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
 *
 * This file holds the operations and routes events from PutEvents to archives and rules; the jobs live beside
 * it: `delivery.ts` (retries, DLQ, in-flight tracking), `targets.ts` (target checks, InputPath and
 * InputTransformer), `archive.ts` (archives and replays), `rules.ts` (stored buses and rules, TestEventPattern),
 * `parameters.ts` (limits and request rules), `errors.ts` and `types.ts`.
 */
export class EventBridgeEngine {
  readonly region: string;
  readonly accountId: string;
  private readonly now: () => number;
  private readonly maxRequestBytes: number;
  private readonly buses = new Map<string, Bus>();
  private readonly counts: EventCounts = {
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
  private readonly delivery: TargetDelivery;
  private readonly archives: Archives;

  constructor(options: EventBridgeEngineOptions) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.now = options.now ?? Date.now;
    this.delivery = new TargetDelivery({
      deliver: options.deliver,
      now: this.now,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      backoff:
        options.backoff ?? ((retry) => Math.min(10_000, 100 * 2 ** (retry - 1)) * (0.5 + Math.random() / 2)),
      isRetryable: options.isRetryable ?? (() => true),
      warn: options.warn ?? ((message) => console.warn(message)),
      counts: this.counts,
    });
    this.archives = new Archives({
      region: this.region,
      accountId: this.accountId,
      now: this.now,
      counts: this.counts,
      bus: (nameOrArn) => this.bus(nameOrArn),
      dispatch: (bus, event, acceptedAt, ruleArns) => this.dispatch(bus, event, acceptedAt, ruleArns),
    });
    this.maxRequestBytes = options.maxRequestBytes ?? 256 * 1024;
    this.addBus(DEFAULT_BUS);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Event buses
  // ---------------------------------------------------------------------------------------------------------

  createEventBus(name: string): { EventBusArn: string } {
    if (!BUS_NAME.test(name)) throw validation(`Event bus name ${name} is not valid.`);
    if (this.buses.has(name)) throw alreadyExists(`Event bus ${name} already exists.`);
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
      arn: ruleArn(this.region, this.accountId, bus.name, input.Name),
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
    return describeRule(this.rule(name, eventBusName));
  }

  listRules(options: { eventBusName?: string; namePrefix?: string } = {}): RuleDescription[] {
    return [...this.bus(options.eventBusName).rules.values()]
      .filter((rule) => options.namePrefix === undefined || rule.name.startsWith(options.namePrefix))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((rule) => describeRule(rule));
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
    for (const target of targets) checkTarget(target);
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
    return testEventPattern(eventPattern, event);
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
    const size = entries.reduce((total, entry) => total + entrySize(entry), 0);
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

  /**
   * A scheduled rule's firing (schedule.ts decides when): EventBridge's `Scheduled Event` from
   * `aws.events`, naming the rule, to each of the rule's targets (their Input replaces it as usual).
   * Schedules live on the default bus only; a disabled rule does not fire.
   */
  fireScheduledRule(name: string, atMs: number = this.now()): void {
    const rule = this.rule(name, DEFAULT_BUS);
    if (rule.state === 'DISABLED' || rule.scheduleExpression === undefined) return;
    const event: EventBridgeEvent = {
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.accountId,
      time: eventTime(atMs),
      region: this.region,
      resources: [rule.arn],
      detail: {},
    };
    this.counts.matched += 1;
    for (const target of rule.targets.values()) this.delivery.start(rule, target, event, this.now());
  }

  /** The default bus's rules that run on a schedule. */
  scheduledRules(): { name: string; scheduleExpression: string }[] {
    return [...this.bus(DEFAULT_BUS).rules.values()].flatMap((rule) =>
      rule.scheduleExpression === undefined
        ? []
        : [{ name: rule.name, scheduleExpression: rule.scheduleExpression }],
    );
  }

  // ---------------------------------------------------------------------------------------------------------
  // Archives and replays (archive.ts)
  // ---------------------------------------------------------------------------------------------------------

  createArchive(input: CreateArchiveInput): { ArchiveArn: string; State: 'ENABLED'; CreationTime: Date } {
    return this.archives.create(input);
  }

  describeArchive(name: string): ArchiveDescription {
    return this.archives.describe(name);
  }

  listArchives(eventSourceArn?: string): ArchiveDescription[] {
    return this.archives.list(eventSourceArn);
  }

  /**
   * Sends the archived events whose event time is within [from, to] to the rules of the archive's bus again,
   * oldest first, with `replay-name` set. Resolves when they are handed to delivery, like `putEvents`.
   */
  replay(archiveName: string, from: Date, to: Date, options: ReplayOptions = {}): Promise<ReplayDescription> {
    return this.archives.replay(archiveName, from, to, options);
  }

  describeReplay(name: string): ReplayDescription {
    return this.archives.describeReplay(name);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Observability
  // ---------------------------------------------------------------------------------------------------------

  /** Resolves once no delivery (including retries and dead-lettering) is in flight. */
  idle(): Promise<void> {
    return this.delivery.idle();
  }

  /** Target invocations in flight now (retries included), without building a snapshot. */
  get inFlightDeliveries(): number {
    return this.delivery.inFlightCount;
  }

  /** Target invocations given up on, oldest first. */
  failures(): readonly DeliveryFailure[] {
    return this.delivery.failures();
  }

  status(): EventBridgeStatus {
    const buses = [...this.buses.values()];
    return {
      buses: buses.map((bus) => ({
        name: bus.name,
        arn: bus.arn,
        rules: bus.rules.size,
        archives: this.archives.namesOn(bus.name),
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
      archives: this.archives.summaries(),
      events: { ...this.counts },
      inFlight: this.delivery.inFlightCount,
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
    this.archives.record(bus, event, time);
    this.dispatch(bus, event, acceptedAt, undefined);
    return { EventId: event.id };
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
      for (const target of rule.targets.values()) this.delivery.start(rule, target, event, acceptedAt);
    }
  }
}
