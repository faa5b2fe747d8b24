import { isJsonObject, type JsonValue } from './reference-path';

/**
 * Loads a state machine definition for the local engine: parses it, rejects what
 * `aws-local-stepfunctions` would silently run wrong (JSONata, workflow variables, integrations we
 * cannot emulate) and rewrites the few things the engine must control itself (Wait states and Retry
 * intervals, so tests can scale time; Task timeouts, to match AWS's defaults).
 */

type JsonObject = { [key: string]: JsonValue };

export type DynamoDbOperation = 'PutItem' | 'UpdateItem' | 'GetItem' | 'DeleteItem';

export type TaskIntegration =
  /** `arn:aws:states:::lambda:invoke`: the optimized integration, result wrapped in `{ Payload, ... }`. */
  | { readonly kind: 'lambda-invoke' }
  /** A plain function ARN as `Resource`: the legacy integration, result is the payload itself. */
  | { readonly kind: 'lambda-function'; readonly functionArn: string }
  | { readonly kind: 'events-put-events' }
  | { readonly kind: 'dynamodb'; readonly operation: DynamoDbOperation };

export interface TaskSpec {
  readonly stateName: string;
  readonly resource: string;
  readonly integration: TaskIntegration;
}

export interface WaitSpec {
  readonly stateName: string;
  readonly seconds?: number;
  readonly secondsPath?: string;
  readonly timestamp?: string;
  readonly timestampPath?: string;
}

export interface LoadedDefinition {
  readonly stateMachineName: string;
  /** The definition as parsed, for validation and DescribeStateMachine. */
  readonly definition: JsonObject;
  /** The rewritten definition the engine runs. */
  readonly runnable: JsonObject;
  readonly tasks: ReadonlyMap<string, TaskSpec>;
  readonly waits: ReadonlyMap<string, WaitSpec>;
  /** Every state's original `Type`, by name (Wait states run as Tasks; history shows them as Waits). */
  readonly stateTypes: ReadonlyMap<string, string>;
}

export interface LoadOptions {
  /** Multiplies every Retry interval (`IntervalSeconds`, `MaxDelaySeconds`). @default 1 */
  readonly retryIntervalScale?: number;
}

export class DefinitionError extends Error {
  override readonly name = 'DefinitionError' as const;
  constructor(
    readonly stateMachineName: string,
    readonly problems: readonly string[],
    summary = 'has an unsupported definition',
  ) {
    super(`State machine "${stateMachineName}" ${summary}: ${problems.join('; ')}`);
  }
}

/** Resource of the Task a Wait state is rewritten into; never reaches an integration. */
export const LOCAL_WAIT_RESOURCE = 'arn:aws:states:::local:wait';

/**
 * Node timers overflow above 2^31-1 ms and then fire after 1 ms, so longer timeouts are dropped
 * or clamped. https://nodejs.org/api/timers.html#settimeoutcallback-delay-args
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const LAMBDA_INVOKE = /^arn:[\w-]+:states:::lambda:invoke$/;
const LAMBDA_FUNCTION = /^arn:[\w-]+:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/;
const EVENTS_PUT_EVENTS = /^arn:[\w-]+:states:::events:putEvents$/;
const DYNAMODB = /^arn:[\w-]+:states:::dynamodb:(putItem|updateItem|getItem|deleteItem)$/;

const DYNAMODB_OPERATIONS: Record<string, DynamoDbOperation> = {
  putItem: 'PutItem',
  updateItem: 'UpdateItem',
  getItem: 'GetItem',
  deleteItem: 'DeleteItem',
};

const classifyResource = (resource: string): TaskIntegration | undefined => {
  if (LAMBDA_INVOKE.test(resource)) return { kind: 'lambda-invoke' };
  if (LAMBDA_FUNCTION.test(resource)) return { kind: 'lambda-function', functionArn: resource };
  if (EVENTS_PUT_EVENTS.test(resource)) return { kind: 'events-put-events' };
  const dynamodb = DYNAMODB.exec(resource);
  const operation = dynamodb?.[1] ? DYNAMODB_OPERATIONS[dynamodb[1]] : undefined;
  if (operation) return { kind: 'dynamodb', operation };
  return undefined;
};

/**
 * Fields that exist only when a state uses JSONata.
 * https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
 */
const JSONATA_ONLY_FIELDS = ['Arguments', 'Output', 'Items'] as const;

interface Visit {
  readonly name: string;
  readonly state: JsonObject;
}

/** Visits every state, including those inside Map (`ItemProcessor`/`Iterator`) and Parallel branches. */
const visitStates = (machine: JsonObject, visit: (entry: Visit) => void): void => {
  const states = machine.States;
  if (!isJsonObject(states)) return;
  for (const [name, state] of Object.entries(states)) {
    if (!isJsonObject(state)) continue;
    visit({ name, state });
    for (const nested of [state.ItemProcessor, state.Iterator]) {
      if (isJsonObject(nested)) visitStates(nested, visit);
    }
    if (Array.isArray(state.Branches)) {
      for (const branch of state.Branches) {
        if (isJsonObject(branch)) visitStates(branch, visit);
      }
    }
  }
};

const jsonataProblems = (definition: JsonObject): string[] => {
  const problems: string[] = [];
  if (definition.QueryLanguage === 'JSONata') problems.push('top-level "QueryLanguage": "JSONata"');
  visitStates(definition, ({ name, state }) => {
    if (state.QueryLanguage === 'JSONata') problems.push(`state "${name}" sets "QueryLanguage": "JSONata"`);
    for (const field of JSONATA_ONLY_FIELDS) {
      if (field in state) problems.push(`state "${name}" uses the JSONata-only field "${field}"`);
    }
    if (
      Array.isArray(state.Choices) &&
      state.Choices.some((rule) => isJsonObject(rule) && 'Condition' in rule)
    ) {
      problems.push(`state "${name}" has a JSONata "Condition" in its Choices`);
    }
  });
  return problems;
};

const otherProblems = (definition: JsonObject): string[] => {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  visitStates(definition, ({ name, state }) => {
    const type = typeof state.Type === 'string' ? state.Type : '';
    // Overrides in aws-local-stepfunctions are keyed by state name, so a Task or Wait name must be unique
    // across nested Map/Parallel scopes (AWS requires unique names across the whole machine anyway).
    if (type === 'Task' || type === 'Wait') {
      if (seen.has(name)) problems.push(`state name "${name}" is used more than once`);
      seen.set(name, type);
    }
    // Workflow variables (2024) are not implemented by aws-local-stepfunctions, which would ignore them.
    if ('Assign' in state)
      problems.push(`state "${name}" uses workflow variables ("Assign"), not supported locally`);
    if (type === 'Task') {
      const resource = state.Resource;
      if (typeof resource !== 'string') {
        problems.push(`state "${name}" has no string "Resource"`);
      } else if (!classifyResource(resource)) {
        const pattern = resource.endsWith('.waitForTaskToken')
          ? ' (the callback pattern needs SendTaskSuccess, not emulated)'
          : resource.endsWith('.sync')
            ? ' (the .sync pattern is not emulated)'
            : '';
        problems.push(
          `state "${name}" uses Resource "${resource}"${pattern}; supported locally: lambda:invoke, Lambda function ARNs, events:putEvents, dynamodb:putItem|updateItem|getItem|deleteItem`,
        );
      }
    }
  });
  return problems;
};

const scaleRetriers = (retriers: JsonValue | undefined, scale: number): JsonValue | undefined => {
  if (!Array.isArray(retriers) || scale === 1) return retriers;
  return retriers.map((retrier) => {
    if (!isJsonObject(retrier)) return retrier;
    // Step Functions defaults IntervalSeconds to 1. https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    const interval = typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1;
    const scaled: JsonObject = { ...retrier, IntervalSeconds: interval * scale };
    if (typeof retrier.MaxDelaySeconds === 'number') scaled.MaxDelaySeconds = retrier.MaxDelaySeconds * scale;
    return scaled;
  });
};

const rewriteStates = (machine: JsonObject, retryIntervalScale: number): JsonObject => {
  const states = machine.States;
  if (!isJsonObject(states)) return machine;
  const rewritten: JsonObject = {};
  for (const [name, state] of Object.entries(states)) {
    if (!isJsonObject(state)) {
      rewritten[name] = state;
      continue;
    }
    const next: JsonObject = { ...state };
    if (state.Type === 'Wait') {
      // The engine runs Wait states itself so their duration can be scaled, including SecondsPath and
      // TimestampPath, which the library's fixed per-state overrides cannot express. A Task with only
      // InputPath/OutputPath passes its input through exactly as a Wait does.
      const task: JsonObject = {
        Type: 'Task',
        Resource: LOCAL_WAIT_RESOURCE,
        TimeoutSeconds: MAX_TIMER_SECONDS,
      };
      for (const key of ['InputPath', 'OutputPath', 'Next', 'End', 'Comment'] as const) {
        const value = state[key];
        if (value !== undefined) task[key] = value;
      }
      rewritten[name] = task;
      continue;
    }
    if (state.Type === 'Task') {
      // AWS Task states have no timeout unless TimeoutSeconds is set; the library defaults to 60 s.
      // https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html
      const timeout = state.TimeoutSeconds;
      if (
        state.TimeoutSecondsPath === undefined &&
        (typeof timeout !== 'number' || timeout > MAX_TIMER_SECONDS)
      ) {
        next.TimeoutSeconds = MAX_TIMER_SECONDS;
      }
    }
    const retry = scaleRetriers(state.Retry, retryIntervalScale);
    if (retry !== undefined) next.Retry = retry;
    for (const key of ['ItemProcessor', 'Iterator'] as const) {
      const nested = state[key];
      if (isJsonObject(nested)) next[key] = rewriteStates(nested, retryIntervalScale);
    }
    if (Array.isArray(state.Branches)) {
      next.Branches = state.Branches.map((branch) =>
        isJsonObject(branch) ? rewriteStates(branch, retryIntervalScale) : branch,
      );
    }
    rewritten[name] = next;
  }
  const result: JsonObject = { ...machine, States: rewritten };
  if (typeof result.TimeoutSeconds === 'number' && result.TimeoutSeconds > MAX_TIMER_SECONDS)
    delete result.TimeoutSeconds;
  return result;
};

const optionalNumber = (value: JsonValue | undefined): number | undefined =>
  typeof value === 'number' ? value : undefined;
const optionalString = (value: JsonValue | undefined): string | undefined =>
  typeof value === 'string' ? value : undefined;

/**
 * Parses and checks a definition (JSON text, after the orchestrator substituted ARNs).
 * Throws `DefinitionError` naming the state machine and every offending state.
 */
export const loadDefinition = (
  stateMachineName: string,
  text: string,
  options: LoadOptions = {},
): LoadedDefinition => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'unparsable';
    throw new DefinitionError(stateMachineName, [reason], 'has a definition that is not valid JSON');
  }
  if (!isJsonObject(parsed) || typeof parsed.StartAt !== 'string' || !isJsonObject(parsed.States)) {
    throw new DefinitionError(
      stateMachineName,
      ['it needs "StartAt" and "States"'],
      'has an invalid definition',
    );
  }
  const jsonata = jsonataProblems(parsed);
  if (jsonata.length > 0) {
    throw new DefinitionError(
      stateMachineName,
      jsonata,
      'uses JSONata, which the local runtime rejects because aws-local-stepfunctions evaluates only JSONPath and silently mis-runs JSONata (use JSONPath for this state machine)',
    );
  }
  const problems = otherProblems(parsed);
  if (problems.length > 0) throw new DefinitionError(stateMachineName, problems);

  const tasks = new Map<string, TaskSpec>();
  const waits = new Map<string, WaitSpec>();
  const stateTypes = new Map<string, string>();
  visitStates(parsed, ({ name, state }) => {
    if (typeof state.Type === 'string') stateTypes.set(name, state.Type);
    if (state.Type === 'Task' && typeof state.Resource === 'string') {
      const integration = classifyResource(state.Resource);
      if (integration) tasks.set(name, { stateName: name, resource: state.Resource, integration });
    }
    if (state.Type === 'Wait') {
      const seconds = optionalNumber(state.Seconds);
      const secondsPath = optionalString(state.SecondsPath);
      const timestamp = optionalString(state.Timestamp);
      const timestampPath = optionalString(state.TimestampPath);
      waits.set(name, {
        stateName: name,
        ...(seconds === undefined ? {} : { seconds }),
        ...(secondsPath === undefined ? {} : { secondsPath }),
        ...(timestamp === undefined ? {} : { timestamp }),
        ...(timestampPath === undefined ? {} : { timestampPath }),
      });
    }
  });
  return {
    stateMachineName,
    definition: parsed,
    runnable: rewriteStates(parsed, options.retryIntervalScale ?? 1),
    tasks,
    waits,
    stateTypes,
  };
};
