import { AwsServiceError, type JsonService } from '../aws/json-protocol';
import type {
  EventBridgeEngine,
  InputTransformer,
  PutEventsRequestEntry,
  PutRuleInput,
  RetryPolicy,
  RuleState,
  Target,
} from './engine';

/**
 * EventBridge's AWS JSON protocol (`X-Amz-Target: AWSEvents.<Operation>`) over an `EventBridgeEngine`, so
 * handlers and tests use the real `@aws-sdk/client-eventbridge`. Requests are parsed here, once; the engine
 * gets typed values. Timestamps travel as epoch seconds, as awsJson1_1 encodes them.
 */

type Input = Record<string, unknown>;

const invalid = (member: string, constraint: string) =>
  new AwsServiceError(
    'ValidationException',
    `1 validation error detected: Value at '${member.charAt(0).toLowerCase()}${member.slice(1)}' failed to satisfy constraint: ${constraint}`,
  );

const optionalString = (input: Input, key: string): string | undefined => {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(key, 'Member must be a string');
  return value;
};

const requiredString = (input: Input, key: string): string => {
  const value = optionalString(input, key);
  if (value === undefined) throw invalid(key, 'Member must not be null');
  return value;
};

const optionalNumber = (input: Input, key: string): number | undefined => {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw invalid(key, 'Member must be a number');
  return value;
};

const optionalObject = (input: Input, key: string): Input | undefined => {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(key, 'Member must be a structure');
  return value as Input;
};

const objectList = (input: Input, key: string): Input[] => {
  const value = input[key];
  if (!Array.isArray(value)) throw invalid(key, 'Member must not be null');
  return value.map((item) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw invalid(key, 'Member must be a structure');
    return item as Input;
  });
};

const optionalStringList = (input: Input, key: string): string[] | undefined => {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalid(key, 'Member must be a list of strings');
  }
  return value;
};

/** awsJson sends timestamps as epoch seconds; accept ISO strings too for hand-written requests. */
const optionalTime = (input: Input, key: string): Date | undefined => {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return new Date(value * 1000);
  if (typeof value === 'string') return new Date(value);
  throw invalid(key, 'Member must be a timestamp');
};

const requiredTime = (input: Input, key: string): Date => {
  const value = optionalTime(input, key);
  if (value === undefined) throw invalid(key, 'Member must not be null');
  return value;
};

/** Builds an object without the keys whose value is undefined (exactOptionalPropertyTypes). */
const defined = <T extends Record<string, unknown>>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };

const RULE_STATES: readonly RuleState[] = [
  'ENABLED',
  'DISABLED',
  'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
];

const ruleState = (input: Input): RuleState | undefined => {
  const state = optionalString(input, 'State');
  if (state === undefined) return undefined;
  if (!(RULE_STATES as readonly string[]).includes(state)) {
    throw invalid('State', `Member must satisfy enum value set: [${RULE_STATES.join(', ')}]`);
  }
  return state as RuleState;
};

const parseTarget = (raw: Input): Target => {
  const retry = optionalObject(raw, 'RetryPolicy');
  const deadLetter = optionalObject(raw, 'DeadLetterConfig');
  const transformer = optionalObject(raw, 'InputTransformer');
  const pathsMap = transformer === undefined ? undefined : optionalObject(transformer, 'InputPathsMap');
  const retryPolicy: RetryPolicy | undefined =
    retry === undefined
      ? undefined
      : defined({
          MaximumRetryAttempts: optionalNumber(retry, 'MaximumRetryAttempts'),
          MaximumEventAgeInSeconds: optionalNumber(retry, 'MaximumEventAgeInSeconds'),
        });
  const inputTransformer: InputTransformer | undefined =
    transformer === undefined
      ? undefined
      : defined({
          InputTemplate: requiredString(transformer, 'InputTemplate'),
          InputPathsMap:
            pathsMap === undefined
              ? undefined
              : Object.fromEntries(
                  Object.keys(pathsMap).map((name) => [name, requiredString(pathsMap, name)]),
                ),
        });
  return defined({
    Id: requiredString(raw, 'Id'),
    Arn: requiredString(raw, 'Arn'),
    Input: optionalString(raw, 'Input'),
    InputPath: optionalString(raw, 'InputPath'),
    InputTransformer: inputTransformer,
    RoleArn: optionalString(raw, 'RoleArn'),
    DeadLetterConfig:
      deadLetter === undefined ? undefined : defined({ Arn: optionalString(deadLetter, 'Arn') }),
    RetryPolicy: retryPolicy,
  });
};

const parseEntry = (raw: Input): PutEventsRequestEntry =>
  defined({
    Source: optionalString(raw, 'Source'),
    DetailType: optionalString(raw, 'DetailType'),
    Detail: optionalString(raw, 'Detail'),
    EventBusName: optionalString(raw, 'EventBusName'),
    Time: optionalTime(raw, 'Time'),
    Resources: optionalStringList(raw, 'Resources'),
  });

/** Epoch seconds, the way awsJson1_1 encodes timestamps in responses. */
const seconds = (date: Date | undefined) => (date === undefined ? undefined : date.getTime() / 1000);

export class EventBridgeService implements JsonService {
  readonly targetPrefix = 'AWSEvents';
  readonly errorNamespace = 'com.amazonaws.events';

  constructor(private readonly engine: EventBridgeEngine) {}

  async handle(operation: string, input: Input): Promise<unknown> {
    const engine = this.engine;
    switch (operation) {
      case 'PutEvents':
        return engine.putEvents(objectList(input, 'Entries').map(parseEntry));

      case 'PutRule': {
        const rule: PutRuleInput = defined({
          Name: requiredString(input, 'Name'),
          EventBusName: optionalString(input, 'EventBusName'),
          EventPattern: optionalString(input, 'EventPattern'),
          ScheduleExpression: optionalString(input, 'ScheduleExpression'),
          State: ruleState(input),
          Description: optionalString(input, 'Description'),
          RoleArn: optionalString(input, 'RoleArn'),
        });
        return engine.putRule(rule);
      }
      case 'DescribeRule':
        return engine.describeRule(requiredString(input, 'Name'), optionalString(input, 'EventBusName'));
      case 'ListRules': {
        const rules = engine.listRules(
          defined({
            eventBusName: optionalString(input, 'EventBusName'),
            namePrefix: optionalString(input, 'NamePrefix'),
          }),
        );
        return paginate(rules, input, 'Rules');
      }
      case 'EnableRule':
        engine.setRuleState(requiredString(input, 'Name'), 'ENABLED', optionalString(input, 'EventBusName'));
        return {};
      case 'DisableRule':
        engine.setRuleState(requiredString(input, 'Name'), 'DISABLED', optionalString(input, 'EventBusName'));
        return {};
      case 'DeleteRule':
        engine.deleteRule(
          requiredString(input, 'Name'),
          optionalString(input, 'EventBusName'),
          input.Force === true,
        );
        return {};

      case 'PutTargets':
        return engine.putTargets(
          requiredString(input, 'Rule'),
          optionalString(input, 'EventBusName'),
          objectList(input, 'Targets').map(parseTarget),
        );
      case 'RemoveTargets': {
        const ids = optionalStringList(input, 'Ids');
        if (ids === undefined) throw invalid('Ids', 'Member must not be null');
        engine.removeTargets(requiredString(input, 'Rule'), optionalString(input, 'EventBusName'), ids);
        return { FailedEntryCount: 0, FailedEntries: [] };
      }
      case 'ListTargetsByRule':
        return paginate(
          engine.listTargetsByRule(requiredString(input, 'Rule'), optionalString(input, 'EventBusName')),
          input,
          'Targets',
        );

      case 'CreateEventBus':
        return engine.createEventBus(requiredString(input, 'Name'));
      case 'DescribeEventBus': {
        const bus = engine.describeEventBus(optionalString(input, 'Name'));
        return { ...bus, CreationTime: seconds(bus.CreationTime) };
      }
      case 'ListEventBuses': {
        const buses = engine
          .listEventBuses(optionalString(input, 'NamePrefix'))
          .map((bus) => ({ ...bus, CreationTime: seconds(bus.CreationTime) }));
        return paginate(buses, input, 'EventBuses');
      }
      case 'DeleteEventBus':
        engine.deleteEventBus(requiredString(input, 'Name'));
        return {};

      case 'TestEventPattern':
        return {
          Result: engine.testEventPattern(
            requiredString(input, 'EventPattern'),
            requiredString(input, 'Event'),
          ),
        };

      case 'CreateArchive': {
        const created = engine.createArchive(
          defined({
            ArchiveName: requiredString(input, 'ArchiveName'),
            EventSourceArn: requiredString(input, 'EventSourceArn'),
            EventPattern: optionalString(input, 'EventPattern'),
            Description: optionalString(input, 'Description'),
            RetentionDays: optionalNumber(input, 'RetentionDays'),
          }),
        );
        return { ...created, CreationTime: seconds(created.CreationTime) };
      }
      case 'DescribeArchive': {
        const archive = engine.describeArchive(requiredString(input, 'ArchiveName'));
        return { ...archive, CreationTime: seconds(archive.CreationTime) };
      }
      case 'ListArchives': {
        const archives = engine
          .listArchives(optionalString(input, 'EventSourceArn'))
          .map((archive) => ({ ...archive, CreationTime: seconds(archive.CreationTime) }));
        return paginate(archives, input, 'Archives');
      }
      case 'StartReplay':
        return this.startReplay(input);
      case 'DescribeReplay': {
        const replay = engine.describeReplay(requiredString(input, 'ReplayName'));
        return {
          ...replay,
          EventStartTime: seconds(replay.EventStartTime),
          EventEndTime: seconds(replay.EventEndTime),
          EventLastReplayedTime: seconds(replay.EventLastReplayedTime),
          ReplayStartTime: seconds(replay.ReplayStartTime),
          ReplayEndTime: seconds(replay.ReplayEndTime),
        };
      }

      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `Operation ${operation} is not supported locally.`,
        );
    }
  }

  /** StartReplay names the archive by ARN and may only replay to the bus the archive records. */
  private async startReplay(input: Input): Promise<unknown> {
    const sourceArn = requiredString(input, 'EventSourceArn');
    const archiveName = sourceArn.slice(sourceArn.lastIndexOf('/') + 1);
    const destination = optionalObject(input, 'Destination');
    if (destination === undefined) throw invalid('Destination', 'Member must not be null');
    const destinationArn = requiredString(destination, 'Arn');
    if (destinationArn !== this.engine.describeArchive(archiveName).EventSourceArn) {
      throw new AwsServiceError(
        'ValidationException',
        'Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.',
      );
    }
    const ruleArns = optionalStringList(destination, 'FilterArns');
    const replay = await this.engine.replay(
      archiveName,
      requiredTime(input, 'EventStartTime'),
      requiredTime(input, 'EventEndTime'),
      defined({ replayName: requiredString(input, 'ReplayName'), ruleArns }),
    );
    return {
      ReplayArn: replay.ReplayArn,
      State: replay.State,
      ReplayStartTime: seconds(replay.ReplayStartTime),
    };
  }
}

/** `Limit` / `NextToken` paging; the token is the offset, opaque to callers. */
const paginate = <T>(items: readonly T[], input: Input, key: string): Record<string, unknown> => {
  const limit = optionalNumber(input, 'Limit') ?? 100;
  const token = optionalString(input, 'NextToken');
  const start = token === undefined ? 0 : Number.parseInt(token, 10);
  if (!Number.isInteger(start) || start < 0) {
    throw new AwsServiceError('ValidationException', 'The NextToken is not valid.');
  }
  const page = items.slice(start, start + limit);
  const next = start + limit < items.length ? String(start + limit) : undefined;
  return next === undefined ? { [key]: page } : { [key]: page, NextToken: next };
};
