import type { DynamoDbOperation, TaskSpec, WaitSpec } from './definition';
import { isJsonObject, type JsonValue, resolveReferencePath, toJson } from './reference-path';

/**
 * The service integrations our flows use, run through callbacks the orchestrator injects, with the
 * result and error shapes Step Functions gives them.
 * https://docs.aws.amazon.com/step-functions/latest/dg/integrate-optimized.html
 */

/** Invokes a function in process; a thrown error's `name` is the Lambda `errorType`. */
export type InvokeLambda = (functionArnOrName: string, payload: unknown) => Promise<unknown>;

export interface PutEventsRequestEntry {
  Source?: string;
  DetailType?: string;
  /** Always a JSON string here: Step Functions serializes an object `Detail` before calling PutEvents. */
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: string;
  TraceHeader?: string;
}

export interface PutEventsOutput {
  FailedEntryCount?: number;
  Entries?: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[];
}

/** EventBridge PutEvents, same input and output as the API. */
export type PutEvents = (input: { Entries: PutEventsRequestEntry[] }) => Promise<PutEventsOutput>;

/** A DynamoDB API call (low-level attribute values), same input and output as the API. */
export type DynamoDbCall = (operation: DynamoDbOperation, input: Record<string, unknown>) => Promise<unknown>;

export interface Integrations {
  readonly invokeLambda: InvokeLambda;
  readonly putEvents?: PutEvents;
  readonly dynamodb?: DynamoDbCall;
}

/**
 * Throw this from `invokeLambda` when the Lambda service itself fails (function not found,
 * throttled), as opposed to the function's code: Step Functions names those `Lambda.<code>`.
 */
export class LambdaServiceException extends Error {
  override readonly name = 'LambdaServiceException' as const;
  constructor(
    /** e.g. `ResourceNotFoundException`, `TooManyRequestsException`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** An error as the engine sees it: `name` is what Retry/Catch `ErrorEquals` match. */
export class TaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** `States.Runtime`: neither retried nor caught, as in AWS. */
export class StatesRuntimeFailure extends Error {
  override readonly name = 'States.Runtime' as const;
  /** Read by aws-local-stepfunctions to skip Retry and Catch. */
  readonly isRetryable = false;
  readonly isCatchable = false;
}

export type TaskRecord =
  | { readonly phase: 'scheduled'; readonly parameters: JsonValue }
  | { readonly phase: 'succeeded'; readonly output: JsonValue }
  | { readonly phase: 'failed'; readonly error: string; readonly cause: string };

export interface TaskContext {
  readonly region: string;
  readonly executionArn: string;
  readonly stateMachineArn: string;
  /** Called when the task is scheduled and when it ends, for the execution history. */
  readonly record: (stateName: string, record: TaskRecord) => void;
}

const errorName = (error: unknown): string => (error instanceof Error ? error.name : 'Error');
const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * A function error as Step Functions reports it: `Error` is the errorType and `Cause` the JSON the
 * Lambda runtime returned. https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
const lambdaFailure = (error: unknown): TaskFailure => {
  if (error instanceof LambdaServiceException) return new TaskFailure(`Lambda.${error.code}`, error.message);
  const errorType = errorName(error);
  const trace = error instanceof Error && error.stack ? error.stack.split('\n') : [];
  return new TaskFailure(errorType, JSON.stringify({ errorType, errorMessage: errorMessage(error), trace }));
};

/** AWS SDK integrations name errors `<Service>.<Exception>`, e.g. `DynamoDB.ConditionalCheckFailedException`. */
const serviceFailure = (prefix: string, error: unknown): TaskFailure => {
  const name = errorName(error);
  return new TaskFailure(name.startsWith(`${prefix}.`) ? name : `${prefix}.${name}`, errorMessage(error));
};

const sdkMetadata = (requestId: string) => ({
  SdkHttpMetadata: {
    AllHttpHeaders: { 'x-amzn-RequestId': [requestId], 'Content-Type': ['application/x-amz-json-1.0'] },
    HttpHeaders: { 'x-amzn-RequestId': requestId, 'Content-Type': 'application/x-amz-json-1.0' },
    HttpStatusCode: 200,
  },
  SdkResponseMetadata: { RequestId: requestId },
});

const withoutSdkMetadata = (output: unknown): { [key: string]: JsonValue } => {
  const json = toJson(output);
  if (!isJsonObject(json)) return {};
  const { $metadata: _ignored, ...rest } = json;
  return rest;
};

const requireObject = (stateName: string, input: JsonValue): { [key: string]: JsonValue } => {
  if (!isJsonObject(input)) {
    throw new StatesRuntimeFailure(`state "${stateName}": the integration needs an object of Parameters`);
  }
  return input;
};

const invokeLambdaTask = async (
  spec: TaskSpec,
  integrations: Integrations,
  functionName: string,
  payload: JsonValue,
): Promise<JsonValue> => {
  let result: unknown;
  try {
    result = await integrations.invokeLambda(functionName, payload);
  } catch (error) {
    throw lambdaFailure(error);
  }
  if (spec.integration.kind === 'lambda-function') return toJson(result);
  // The optimized integration returns the Invoke API response, not just the payload.
  // https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html
  return {
    ExecutedVersion: '$LATEST',
    Payload: toJson(result),
    ...sdkMetadata(crypto.randomUUID()),
    StatusCode: 200,
  };
};

const putEventsTask = async (
  spec: TaskSpec,
  input: JsonValue,
  integrations: Integrations,
  context: TaskContext,
): Promise<JsonValue> => {
  const putEvents = integrations.putEvents;
  if (!putEvents)
    throw new StatesRuntimeFailure(`state "${spec.stateName}": no putEvents integration configured`);
  const parameters = requireObject(spec.stateName, input);
  const entries = Array.isArray(parameters.Entries) ? parameters.Entries : [];
  const request: PutEventsRequestEntry[] = entries.filter(isJsonObject).map((entry) => {
    const out: PutEventsRequestEntry = {};
    if (typeof entry.Source === 'string') out.Source = entry.Source;
    if (typeof entry.DetailType === 'string') out.DetailType = entry.DetailType;
    if (entry.Detail !== undefined)
      out.Detail = typeof entry.Detail === 'string' ? entry.Detail : JSON.stringify(entry.Detail);
    if (typeof entry.EventBusName === 'string') out.EventBusName = entry.EventBusName;
    if (typeof entry.Time === 'string') out.Time = entry.Time;
    if (typeof entry.TraceHeader === 'string') out.TraceHeader = entry.TraceHeader;
    // The optimized integration appends the execution and state machine ARNs to Resources.
    // https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html
    const resources = Array.isArray(entry.Resources)
      ? entry.Resources.filter((r) => typeof r === 'string')
      : [];
    out.Resources = [...resources, context.executionArn, context.stateMachineArn];
    return out;
  });
  let output: PutEventsOutput;
  try {
    output = await putEvents({ Entries: request });
  } catch (error) {
    throw serviceFailure('EventBridge', error);
  }
  // A partial failure fails the task with EventBridge.FailedEntry (same page as above).
  if ((output.FailedEntryCount ?? 0) > 0) {
    throw new TaskFailure('EventBridge.FailedEntry', JSON.stringify(toJson(output.Entries ?? [])));
  }
  return { Entries: toJson(output.Entries ?? []), FailedEntryCount: 0 };
};

const dynamoDbTask = async (
  spec: TaskSpec,
  input: JsonValue,
  integrations: Integrations,
  operation: Parameters<DynamoDbCall>[0],
): Promise<JsonValue> => {
  const dynamodb = integrations.dynamodb;
  if (!dynamodb)
    throw new StatesRuntimeFailure(`state "${spec.stateName}": no dynamodb integration configured`);
  const parameters = requireObject(spec.stateName, input);
  let output: unknown;
  try {
    output = await dynamodb(operation, parameters);
  } catch (error) {
    throw serviceFailure('DynamoDB', error);
  }
  return { ...withoutSdkMetadata(output), ...sdkMetadata(crypto.randomUUID()) };
};

const resourceType = (spec: TaskSpec): { resourceType: string; resource: string } => {
  switch (spec.integration.kind) {
    case 'lambda-invoke':
      return { resourceType: 'lambda', resource: 'invoke' };
    case 'lambda-function':
      return { resourceType: 'lambda', resource: spec.resource };
    case 'events-put-events':
      return { resourceType: 'events', resource: 'putEvents' };
    case 'dynamodb':
      return { resourceType: 'dynamodb', resource: spec.resource.slice(spec.resource.lastIndexOf(':') + 1) };
  }
};

export const describeResource = resourceType;

/** The local handler the engine runs in place of the state's `Resource`. */
export const createTaskHandler =
  (spec: TaskSpec, integrations: Integrations, context: TaskContext) =>
  async (input: JsonValue): Promise<JsonValue> => {
    context.record(spec.stateName, { phase: 'scheduled', parameters: input });
    try {
      let output: JsonValue;
      switch (spec.integration.kind) {
        case 'lambda-invoke': {
          const parameters = requireObject(spec.stateName, input);
          const functionName = parameters.FunctionName;
          if (typeof functionName !== 'string') {
            throw new StatesRuntimeFailure(
              `state "${spec.stateName}": lambda:invoke needs Parameters.FunctionName`,
            );
          }
          output = await invokeLambdaTask(spec, integrations, functionName, parameters.Payload ?? {});
          break;
        }
        case 'lambda-function':
          output = await invokeLambdaTask(spec, integrations, spec.integration.functionArn, input);
          break;
        case 'events-put-events':
          output = await putEventsTask(spec, input, integrations, context);
          break;
        case 'dynamodb':
          output = await dynamoDbTask(spec, input, integrations, spec.integration.operation);
          break;
      }
      context.record(spec.stateName, { phase: 'succeeded', output });
      return output;
    } catch (error) {
      context.record(spec.stateName, {
        phase: 'failed',
        error: errorName(error),
        cause: errorMessage(error),
      });
      throw error;
    }
  };

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) {
      resolve();
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

export interface WaitContext {
  /** Multiplies every wait (0.001 runs a one-hour Wait in 3.6 s). */
  readonly scale: number;
  readonly signal: AbortSignal;
  /** The Context Object, for `$$.` paths. */
  readonly contextObject: JsonValue;
  readonly now: () => number;
}

const MAX_SLEEP_MS = 2 ** 31 - 1;

const waitMilliseconds = (spec: WaitSpec, input: JsonValue, context: WaitContext): number => {
  const fromPath = (path: string): JsonValue => {
    const value = resolveReferencePath(path, input, context.contextObject);
    if (value === undefined) {
      throw new StatesRuntimeFailure(`state "${spec.stateName}": path ${path} does not point to a value`);
    }
    return value;
  };
  const untilTimestamp = (value: JsonValue): number => {
    const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(time)) {
      throw new StatesRuntimeFailure(
        `state "${spec.stateName}": ${JSON.stringify(value)} is not an ISO 8601 timestamp`,
      );
    }
    return time - context.now();
  };
  if (spec.seconds !== undefined) return spec.seconds * 1000;
  if (spec.secondsPath !== undefined) {
    const seconds = fromPath(spec.secondsPath);
    // SecondsPath must point to a non-negative integer. https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
      throw new StatesRuntimeFailure(
        `state "${spec.stateName}": SecondsPath must point to a non-negative integer`,
      );
    }
    return seconds * 1000;
  }
  if (spec.timestamp !== undefined) return untilTimestamp(spec.timestamp);
  if (spec.timestampPath !== undefined) return untilTimestamp(fromPath(spec.timestampPath));
  return 0;
};

/** Runs a Wait state (rewritten into a local Task) with its duration scaled. */
export const createWaitHandler =
  (spec: WaitSpec, context: WaitContext) =>
  async (input: JsonValue): Promise<JsonValue> => {
    const ms = waitMilliseconds(spec, input, context) * context.scale;
    await sleep(Math.min(Math.max(ms, 0), MAX_SLEEP_MS), context.signal);
    return input;
  };
