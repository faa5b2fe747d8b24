/**
 * Archives and replays (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-archive.html): which events
 * an archive keeps and for how long, and replays that send them to the rules of the archive's bus again.
 */
import type { EventCounts } from './delivery';
import { alreadyExists, compile, notFound, validation } from './errors';
import { resolveBusName, utf8Bytes } from './parameters';
import type { CompiledPattern } from './pattern';
import type { Bus } from './rules';
import type {
  ArchiveDescription,
  CreateArchiveInput,
  EventBridgeEvent,
  ReplayDescription,
  ReplayOptions,
} from './types';

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

export interface ArchivesOptions {
  readonly region: string;
  readonly accountId: string;
  readonly now: () => number;
  readonly counts: EventCounts;
  /** The bus a name or ARN names; throws ResourceNotFoundException when there is none. */
  readonly bus: (nameOrArn: string | undefined) => Bus;
  /** Hands an event to the matching rules of `bus` (only the rules in `ruleArns` when given). */
  readonly dispatch: (
    bus: Bus,
    event: EventBridgeEvent,
    acceptedAt: number,
    ruleArns: Set<string> | undefined,
  ) => void;
}

export class Archives {
  private readonly region: string;
  private readonly accountId: string;
  private readonly now: () => number;
  private readonly counts: EventCounts;
  private readonly bus: ArchivesOptions['bus'];
  private readonly dispatch: ArchivesOptions['dispatch'];
  private readonly archives = new Map<string, Archive>();
  private readonly replays = new Map<string, ReplayDescription>();

  constructor(options: ArchivesOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.now = options.now;
    this.counts = options.counts;
    this.bus = options.bus;
    this.dispatch = options.dispatch;
  }

  create(input: CreateArchiveInput): { ArchiveArn: string; State: 'ENABLED'; CreationTime: Date } {
    if (!/^[.\-_A-Za-z0-9]{1,48}$/.test(input.ArchiveName)) {
      throw validation(`Archive name ${input.ArchiveName} is not valid.`);
    }
    if (this.archives.has(input.ArchiveName)) {
      throw alreadyExists(`Archive ${input.ArchiveName} already exists.`);
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

  describe(name: string): ArchiveDescription {
    return this.describeArchiveOf(this.archive(name));
  }

  list(eventSourceArn?: string): ArchiveDescription[] {
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
      throw alreadyExists(`Replay ${replayName} already exists.`);
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

  /** Keeps the event in every archive of its bus whose pattern it matches. */
  record(bus: Bus, event: EventBridgeEvent, time: number): void {
    for (const archive of this.archives.values()) {
      if (archive.bus !== bus.name || (archive.pattern && !archive.pattern.matches(event))) continue;
      archive.events.push({ event, time, size: utf8Bytes(JSON.stringify(event)) });
      this.counts.archived += 1;
    }
  }

  /** Names of the archives of the bus `busName`. */
  namesOn(busName: string): string[] {
    return [...this.archives.values()].filter((a) => a.bus === busName).map((a) => a.name);
  }

  summaries(): Array<{ name: string; bus: string; events: number }> {
    return [...this.archives.values()].map((archive) => ({
      name: archive.name,
      bus: archive.bus,
      events: this.retained(archive).length,
    }));
  }

  private archive(name: string): Archive {
    const archive = this.archives.get(name);
    if (!archive) throw notFound(`Archive ${name} does not exist.`);
    return archive;
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
}
