import './promise-with-resolvers';
import {
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import type { BillingMeter } from '../aws/billing-meter';
import { AwsServiceError } from '../aws/json-protocol';
import { DefinitionError, type LoadedDefinition, loadDefinition, type TaskSpec } from './definition';
import {
  createTaskHandler,
  createWaitHandler,
  describeResource,
  type Integrations,
  type TaskContext,
  type TaskRecord,
} from './integrations';
import type { JsonValue } from './reference-path';

/**
 * Step Functions in one process: `aws-local-stepfunctions` runs the states; this class adds what the
 * service adds around it (state machines, named executions with their rules, history, stop) and
 * routes Task states to injected integrations.
 */

export type StateMachineType = 'STANDARD' | 'EXPRESS';
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface StepFunctionsEngineOptions extends Integrations {
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' */
  readonly accountId?: string;
  /** Multiplies every Wait state's duration, e.g. 0.001 in tests. @default 1 */
  readonly waitTimeScale?: number;
  /** Multiplies every Retry interval. @default waitTimeScale */
  readonly retryIntervalScale?: number;
  /** Validates definitions with the library's ASL validator (asl-validator). @default true */
  readonly validateDefinitions?: boolean;
  /** Counts a Standard machine's billed state transitions (each state entered, each retry). @default none */
  readonly meter?: BillingMeter;
}

export interface StateMachineDescription {
  readonly stateMachineArn: string;
  readonly name: string;
  readonly type: StateMachineType;
  readonly roleArn: string;
  readonly definition: string;
  readonly creationDate: Date;
}

export interface ExecutionDescription {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: Date;
  readonly stopDate?: Date;
}

export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  /** AWS event type, e.g. `TaskStateEntered`, `TaskFailed`, `ExecutionSucceeded`. */
  readonly type: string;
  /** Key AWS puts the details under, e.g. `taskFailedEventDetails`. */
  readonly detailsKey?: string;
  readonly details?: { readonly [key: string]: JsonValue };
}

export interface StartExecutionResult {
  readonly executionArn: string;
  readonly startDate: Date;
}

export interface EngineSnapshot {
  readonly stateMachines: { name: string; arn: string; type: StateMachineType }[];
  readonly executions: {
    name: string;
    executionArn: string;
    stateMachine: string;
    status: ExecutionStatus;
    startDate: string;
    stopDate?: string;
    error?: string;
    cause?: string;
  }[];
}

type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type LibraryEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

interface StateMachineRecord {
  readonly description: StateMachineDescription;
  readonly loaded: LoadedDefinition;
  readonly machine: StateMachine;
}

interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachine: StateMachineRecord;
  readonly name: string;
  readonly input: string;
  readonly startDate: Date;
  status: ExecutionStatus;
  output?: string;
  error?: string;
  cause?: string;
  stopDate?: Date;
  readonly history: HistoryEvent[];
  readonly taskRecords: Map<string, TaskRecord[]>;
  readonly controller: AbortController;
  abort?: () => void;
  done: Promise<void>;
  finished: boolean;
}

/**
 * Names of state machines and executions: 1-80 characters, none of these.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html#StepFunctions-StartExecution-request-name
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the rule is about control characters.
const FORBIDDEN_NAME_CHARACTERS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

export const isValidName = (name: string): boolean =>
  name.length >= 1 && name.length <= 80 && !FORBIDDEN_NAME_CHARACTERS.test(name);

/** Input and output are capped at 256 KiB. https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html */
const MAX_PAYLOAD_BYTES = 256 * 1024;

const detailsKeyOf = (type: string): string => {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
};

const stringify = (value: unknown): string => JSON.stringify(value ?? null);

export class StepFunctionsEngine {
  private readonly region: string;
  private readonly accountId: string;
  private readonly waitTimeScale: number;
  private readonly retryIntervalScale: number;
  private readonly validate: boolean;
  private readonly integrations: Integrations;
  private readonly stateMachines = new Map<string, StateMachineRecord>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly running = new Set<Promise<void>>();
  private readonly meter: BillingMeter | undefined;

  constructor(options: StepFunctionsEngineOptions) {
    this.meter = options.meter;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.waitTimeScale = options.waitTimeScale ?? 1;
    this.retryIntervalScale = options.retryIntervalScale ?? this.waitTimeScale;
    this.validate = options.validateDefinitions ?? true;
    this.integrations = {
      invokeLambda: options.invokeLambda,
      ...(options.putEvents ? { putEvents: options.putEvents } : {}),
      ...(options.dynamodb ? { dynamodb: options.dynamodb } : {}),
    };
  }

  stateMachineArn(name: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
  }

  /**
   * Registers a state machine; throws `DefinitionError` (naming the machine and states) when the
   * definition cannot run locally. Creating the same name with the same definition is idempotent.
   */
  createStateMachine(
    name: string,
    definition: string,
    roleArn?: string,
    type: StateMachineType = 'STANDARD',
  ): string {
    if (!isValidName(name)) throw new AwsServiceError('InvalidName', `Invalid State Machine Name: '${name}'`);
    const arn = this.stateMachineArn(name);
    const existing = this.stateMachines.get(arn);
    if (existing) {
      if (existing.description.definition === definition && existing.description.type === type) return arn;
      throw new AwsServiceError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    const loaded = loadDefinition(name, definition, { retryIntervalScale: this.retryIntervalScale });
    const missing = [...loaded.tasks.values()].flatMap((task) => this.missingIntegration(task));
    if (missing.length > 0)
      throw new DefinitionError(name, missing, 'needs an integration the engine was not given');
    if (this.validate) {
      try {
        new StateMachine(loaded.definition as unknown as StateMachineDefinition);
      } catch (error) {
        throw new DefinitionError(
          name,
          [error instanceof Error ? error.message : String(error)],
          'is invalid',
        );
      }
    }
    const machine = new StateMachine(loaded.runnable as unknown as StateMachineDefinition, {
      validationOptions: { noValidate: true },
    });
    this.stateMachines.set(arn, {
      description: {
        stateMachineArn: arn,
        name,
        type,
        roleArn: roleArn ?? `arn:aws:iam::${this.accountId}:role/${name}-role`,
        definition,
        creationDate: new Date(),
      },
      loaded,
      machine,
    });
    return arn;
  }

  private missingIntegration(task: TaskSpec): string[] {
    if (task.integration.kind === 'events-put-events' && !this.integrations.putEvents) {
      return [`state "${task.stateName}" calls events:putEvents but no putEvents callback was given`];
    }
    if (task.integration.kind === 'dynamodb' && !this.integrations.dynamodb) {
      return [`state "${task.stateName}" calls DynamoDB but no dynamodb callback was given`];
    }
    return [];
  }

  listStateMachines(): StateMachineDescription[] {
    return [...this.stateMachines.values()].map((record) => record.description);
  }

  describeStateMachine(arn: string): StateMachineDescription {
    return this.getStateMachine(arn).description;
  }

  private getStateMachine(arn: string): StateMachineRecord {
    const record = this.stateMachines.get(arn);
    if (!record)
      throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return record;
  }

  private getExecution(arn: string): ExecutionRecord {
    const record = this.executions.get(arn);
    if (!record) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return record;
  }

  /**
   * Starts an execution and returns at once; it runs in the background.
   * For STANDARD machines a name is unique per state machine: the same name and input while the
   * first is still running returns it (idempotent); a different input, or a closed execution,
   * fails with ExecutionAlreadyExists.
   * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
   */
  startExecution(stateMachineArn: string, name?: string, input = '{}'): StartExecutionResult {
    const stateMachine = this.getStateMachine(stateMachineArn);
    const executionName = name ?? crypto.randomUUID();
    if (!isValidName(executionName)) {
      throw new AwsServiceError('InvalidName', `Invalid Execution Name: '${executionName}'`);
    }
    let parsedInput: JsonValue;
    try {
      parsedInput = JSON.parse(input) as JsonValue;
    } catch {
      throw new AwsServiceError(
        'InvalidExecutionInput',
        'Invalid State Machine Execution Input: not valid JSON',
      );
    }
    if (Buffer.byteLength(input) > MAX_PAYLOAD_BYTES) {
      throw new AwsServiceError(
        'InvalidExecutionInput',
        `Execution input exceeds ${MAX_PAYLOAD_BYTES} bytes`,
      );
    }
    const { name: machineName, type } = stateMachine.description;
    const executionArn =
      type === 'EXPRESS'
        ? // Express execution ARNs carry a unique suffix and names are not deduplicated.
          `arn:aws:states:${this.region}:${this.accountId}:express:${machineName}:${executionName}:${crypto.randomUUID()}`
        : `arn:aws:states:${this.region}:${this.accountId}:execution:${machineName}:${executionName}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: existing.startDate };
      }
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachine,
      name: executionName,
      input,
      startDate: new Date(),
      status: 'RUNNING',
      history: [],
      taskRecords: new Map(),
      controller: new AbortController(),
      done: Promise.resolve(),
      finished: false,
    };
    this.executions.set(executionArn, record);
    this.appendEvent(record, 'ExecutionStarted', {
      input,
      inputDetails: { truncated: false },
      roleArn: stateMachine.description.roleArn,
    });
    // Deferred so StartExecution answers before any state runs, as the real service does.
    const done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.run(record, parsedInput))
      .catch((error: unknown) => this.failUnexpectedly(record, error));
    record.done = done;
    this.running.add(done);
    void done.then(() => this.running.delete(done));
    return { executionArn, startDate: record.startDate };
  }

  /** Runs an EXPRESS execution to its end and returns it (StartSyncExecution). */
  async startSyncExecution(
    stateMachineArn: string,
    name?: string,
    input = '{}',
  ): Promise<ExecutionDescription> {
    const stateMachine = this.getStateMachine(stateMachineArn);
    if (stateMachine.description.type !== 'EXPRESS') {
      throw new AwsServiceError(
        'StateMachineTypeNotSupported',
        'This operation is not supported by this type of state machine',
      );
    }
    const { executionArn } = this.startExecution(stateMachineArn, name, input);
    return this.waitForExecution(executionArn);
  }

  /** Resolves with the execution once it is no longer RUNNING. */
  async waitForExecution(executionArn: string): Promise<ExecutionDescription> {
    await this.getExecution(executionArn).done;
    return this.describeExecution(executionArn);
  }

  describeExecution(executionArn: string): ExecutionDescription {
    const record = this.getExecution(executionArn);
    return {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachine.description.stateMachineArn,
      name: record.name,
      status: record.status,
      input: record.input,
      startDate: record.startDate,
      ...(record.output === undefined ? {} : { output: record.output }),
      ...(record.error === undefined ? {} : { error: record.error }),
      ...(record.cause === undefined ? {} : { cause: record.cause }),
      ...(record.stopDate === undefined ? {} : { stopDate: record.stopDate }),
    };
  }

  /** Newest first, as ListExecutions returns them. */
  listExecutions(stateMachineArn: string, statusFilter?: ExecutionStatus): ExecutionDescription[] {
    this.getStateMachine(stateMachineArn);
    return [...this.executions.values()]
      .filter((record) => record.stateMachine.description.stateMachineArn === stateMachineArn)
      .filter((record) => statusFilter === undefined || record.status === statusFilter)
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
      .map((record) => this.describeExecution(record.executionArn));
  }

  /** Stops a running execution (ABORTED); stopping a closed one changes nothing. */
  stopExecution(executionArn: string, error?: string, cause?: string): { stopDate: Date } {
    const record = this.getExecution(executionArn);
    if (record.status !== 'RUNNING') return { stopDate: record.stopDate ?? new Date() };
    record.status = 'ABORTED';
    record.stopDate = new Date();
    if (error !== undefined) record.error = error;
    if (cause !== undefined) record.cause = cause;
    record.controller.abort();
    record.abort?.();
    return { stopDate: record.stopDate };
  }

  getExecutionHistory(executionArn: string): readonly HistoryEvent[] {
    return [...this.getExecution(executionArn).history];
  }

  /** Resolves when no execution is running (including ones started while waiting). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Executions still RUNNING, without building a snapshot. */
  get runningCount(): number {
    return this.running.size;
  }

  snapshot(): EngineSnapshot {
    return {
      stateMachines: [...this.stateMachines.values()].map(({ description }) => ({
        name: description.name,
        arn: description.stateMachineArn,
        type: description.type,
      })),
      executions: [...this.executions.values()].map((record) => ({
        name: record.name,
        executionArn: record.executionArn,
        stateMachine: record.stateMachine.description.name,
        status: record.status,
        startDate: record.startDate.toISOString(),
        ...(record.stopDate ? { stopDate: record.stopDate.toISOString() } : {}),
        ...(record.error === undefined ? {} : { error: record.error }),
        ...(record.cause === undefined ? {} : { cause: record.cause }),
      })),
    };
  }

  private async run(record: ExecutionRecord, input: JsonValue): Promise<void> {
    if (record.status !== 'RUNNING') {
      this.finish(record);
      return;
    }
    const { description, loaded, machine } = record.stateMachine;
    const contextObject = {
      Execution: {
        Id: record.executionArn,
        Name: record.name,
        RoleArn: description.roleArn,
        StartTime: record.startDate.toISOString(),
        Input: input,
      },
      StateMachine: { Id: description.stateMachineArn, Name: description.name },
    };
    const taskContext: TaskContext = {
      region: this.region,
      executionArn: record.executionArn,
      stateMachineArn: description.stateMachineArn,
      record: (stateName, taskRecord) => {
        const queue = record.taskRecords.get(stateName) ?? [];
        queue.push(taskRecord);
        record.taskRecords.set(stateName, queue);
      },
    };
    const handlers: LocalHandlers = {};
    for (const [stateName, spec] of loaded.tasks) {
      handlers[stateName] = createTaskHandler(spec, this.integrations, taskContext);
    }
    for (const [stateName, spec] of loaded.waits) {
      handlers[stateName] = createWaitHandler(spec, {
        scale: this.waitTimeScale,
        signal: record.controller.signal,
        contextObject,
        now: Date.now,
      });
    }
    const execution = machine.run(input, {
      overrides: { taskResourceLocalHandlers: handlers },
      noThrowOnAbort: true,
      context: contextObject,
    });
    record.abort = execution.abort;
    const history = (async () => {
      for await (const event of execution.eventLogs) this.onLibraryEvent(record, event);
    })();
    try {
      const output = await execution.result;
      if (record.status === 'RUNNING') {
        record.status = 'SUCCEEDED';
        record.output = stringify(output);
      }
    } catch (error) {
      if (record.status === 'RUNNING') {
        if (error instanceof ExecutionTimeoutError) {
          record.status = 'TIMED_OUT';
          record.error = 'States.Timeout';
          record.cause = 'The execution exceeded the TimeoutSeconds of its state machine';
        } else {
          const failure =
            error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
          record.status = 'FAILED';
          record.error = failure instanceof Error ? failure.name : 'States.Runtime';
          record.cause = failure instanceof Error ? failure.message : String(failure);
        }
      }
    }
    await history;
    this.finish(record);
  }

  /** A fault in the emulator itself fails the execution instead of leaving it RUNNING forever. */
  private failUnexpectedly(record: ExecutionRecord, error: unknown): void {
    if (record.status === 'RUNNING') {
      record.status = 'FAILED';
      record.error = 'States.Runtime';
      record.cause = `local engine error: ${error instanceof Error ? error.message : String(error)}`;
    }
    this.finish(record);
  }

  private finish(record: ExecutionRecord): void {
    if (record.finished) return;
    record.finished = true;
    record.stopDate ??= new Date();
    switch (record.status) {
      case 'SUCCEEDED':
        this.appendEvent(record, 'ExecutionSucceeded', {
          output: record.output ?? 'null',
          outputDetails: { truncated: false },
        });
        break;
      case 'FAILED':
        this.appendEvent(record, 'ExecutionFailed', { error: record.error ?? '', cause: record.cause ?? '' });
        break;
      case 'TIMED_OUT':
        this.appendEvent(record, 'ExecutionTimedOut', {
          error: record.error ?? '',
          cause: record.cause ?? '',
        });
        break;
      case 'ABORTED':
        this.appendEvent(record, 'ExecutionAborted', {
          ...(record.error === undefined ? {} : { error: record.error }),
          ...(record.cause === undefined ? {} : { cause: record.cause }),
        });
        break;
      case 'RUNNING':
        break;
    }
  }

  private appendEvent(record: ExecutionRecord, type: string, details?: { [key: string]: JsonValue }): void {
    const id = record.history.length + 1;
    record.history.push({
      id,
      previousEventId: id - 1,
      timestamp: Date.now(),
      type,
      ...(details ? { detailsKey: detailsKeyOf(type), details } : {}),
    });
  }

  /** Maps the library's event log onto AWS history events, interleaving the task records. */
  private onLibraryEvent(record: ExecutionRecord, event: LibraryEvent): void {
    switch (event.type) {
      case 'StateEntered': {
        this.countTransition(record);
        const type = this.originalType(record, event.state.name, event.state.type);
        this.appendEvent(record, `${type}StateEntered`, {
          name: event.state.name,
          input: stringify(event.state.input),
          inputDetails: { truncated: false },
        });
        this.drainTaskRecords(record, event.state.name, 'scheduled');
        break;
      }
      case 'StateRetried':
        this.countTransition(record);
        this.drainTaskRecords(record, event.state.name, 'scheduled');
        break;
      case 'StateFailed':
        this.drainTaskRecords(record, event.state.name, 'completion');
        break;
      case 'StateExited': {
        this.drainTaskRecords(record, event.state.name, 'completion');
        const type = this.originalType(record, event.state.name, event.state.type);
        this.appendEvent(record, `${type}StateExited`, {
          name: event.state.name,
          output: stringify(event.state.output),
          outputDetails: { truncated: false },
        });
        break;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        this.appendEvent(record, event.type, { name: event.parentState.name, index: event.index });
        break;
      default:
        // Execution-level events are written from the run's outcome; branch and catch events have no
        // AWS counterpart.
        break;
    }
  }

  /** Standard workflows bill every state transition, retries included (https://aws.amazon.com/step-functions/pricing/). */
  private countTransition(record: ExecutionRecord): void {
    const { description } = record.stateMachine;
    if (description.type === 'STANDARD') this.meter?.add('stepfunctions.transitions', 1, description.name);
  }

  private originalType(record: ExecutionRecord, stateName: string, fallback: string): string {
    return record.stateMachine.loaded.stateTypes.get(stateName) ?? fallback;
  }

  private drainTaskRecords(
    record: ExecutionRecord,
    stateName: string,
    until: 'scheduled' | 'completion',
  ): void {
    const spec = record.stateMachine.loaded.tasks.get(stateName);
    const queue = record.taskRecords.get(stateName);
    if (!spec || !queue) return;
    for (let item = queue.shift(); item; item = queue.shift()) {
      this.appendTaskEvents(record, spec, item);
      if (until === 'scheduled' ? item.phase === 'scheduled' : item.phase !== 'scheduled') return;
    }
  }

  private appendTaskEvents(record: ExecutionRecord, spec: TaskSpec, item: TaskRecord): void {
    const legacyLambda = spec.integration.kind === 'lambda-function';
    const { resourceType, resource } = describeResource(spec);
    switch (item.phase) {
      case 'scheduled':
        if (legacyLambda) {
          this.appendEvent(record, 'LambdaFunctionScheduled', {
            resource,
            input: stringify(item.parameters),
            inputDetails: { truncated: false },
          });
          this.appendEvent(record, 'LambdaFunctionStarted');
        } else {
          this.appendEvent(record, 'TaskScheduled', {
            resourceType,
            resource,
            region: this.region,
            parameters: stringify(item.parameters),
          });
          this.appendEvent(record, 'TaskStarted', { resourceType, resource });
        }
        break;
      case 'succeeded':
        if (legacyLambda) {
          this.appendEvent(record, 'LambdaFunctionSucceeded', {
            output: stringify(item.output),
            outputDetails: { truncated: false },
          });
        } else {
          this.appendEvent(record, 'TaskSucceeded', {
            resourceType,
            resource,
            output: stringify(item.output),
            outputDetails: { truncated: false },
          });
        }
        break;
      case 'failed':
        if (legacyLambda) {
          this.appendEvent(record, 'LambdaFunctionFailed', { error: item.error, cause: item.cause });
        } else {
          this.appendEvent(record, 'TaskFailed', {
            resourceType,
            resource,
            error: item.error,
            cause: item.cause,
          });
        }
        break;
    }
  }
}
