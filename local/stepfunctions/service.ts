import { AwsServiceError, type JsonService } from '../aws/json-protocol';
import { DefinitionError } from './definition';
import type {
  ExecutionDescription,
  ExecutionStatus,
  HistoryEvent,
  StateMachineType,
  StepFunctionsEngine,
} from './engine';

/**
 * The Step Functions API (awsJson1_0) over the local engine, for handlers using `@aws-sdk/client-sfn`.
 * Timestamps are epoch seconds, as the JSON protocol encodes them.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_Operations.html
 */

const ARN = /^arn:aws[\w-]*:states:[\w-]+:\d{12}:(stateMachine|execution|express):.+$/;
const STATUSES: readonly ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

const epochSeconds = (date: Date): number => date.getTime() / 1000;

const optionalString = (input: Record<string, unknown>, key: string): string | undefined => {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsServiceError('ValidationException', `${key} must be a string`);
  return value;
};

const requiredString = (input: Record<string, unknown>, key: string): string => {
  const value = optionalString(input, key);
  if (value === undefined) throw new AwsServiceError('ValidationException', `${key} is required`);
  return value;
};

const requiredArn = (input: Record<string, unknown>, key: string): string => {
  const value = requiredString(input, key);
  if (!ARN.test(value)) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${value}'`);
  return value;
};

/** Pages a list with an opaque token (the offset, base64-encoded). */
const page = <T>(items: readonly T[], input: Record<string, unknown>): { items: T[]; nextToken?: string } => {
  const requested =
    typeof input.maxResults === 'number' && input.maxResults > 0 ? input.maxResults : DEFAULT_PAGE_SIZE;
  const size = Math.min(requested, MAX_PAGE_SIZE);
  const token = optionalString(input, 'nextToken');
  const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64').toString('utf8'));
  if (!Number.isInteger(start) || start < 0) throw new AwsServiceError('InvalidToken', 'Invalid Token');
  const end = start + size;
  return {
    items: items.slice(start, end),
    ...(end < items.length ? { nextToken: Buffer.from(String(end)).toString('base64') } : {}),
  };
};

const executionListItem = (execution: ExecutionDescription) => ({
  executionArn: execution.executionArn,
  stateMachineArn: execution.stateMachineArn,
  name: execution.name,
  status: execution.status,
  startDate: epochSeconds(execution.startDate),
  ...(execution.stopDate ? { stopDate: epochSeconds(execution.stopDate) } : {}),
});

const describeExecutionOutput = (execution: ExecutionDescription) => ({
  ...executionListItem(execution),
  input: execution.input,
  inputDetails: { included: true },
  ...(execution.output === undefined ? {} : { output: execution.output, outputDetails: { included: true } }),
  ...(execution.error === undefined ? {} : { error: execution.error }),
  ...(execution.cause === undefined ? {} : { cause: execution.cause }),
});

const historyEventOutput = (event: HistoryEvent, includeExecutionData: boolean) => {
  let details = event.details;
  if (details && !includeExecutionData) {
    const { input: _input, output: _output, parameters: _parameters, ...rest } = details;
    details = rest;
  }
  return {
    timestamp: event.timestamp / 1000,
    type: event.type,
    id: event.id,
    previousEventId: event.previousEventId,
    ...(event.detailsKey && details ? { [event.detailsKey]: details } : {}),
  };
};

export class StepFunctionsService implements JsonService {
  readonly targetPrefix = 'AWSStepFunctions';
  readonly errorNamespace = 'com.amazonaws.states';

  constructor(private readonly engine: StepFunctionsEngine) {}

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'CreateStateMachine':
        return this.createStateMachine(input);
      case 'DescribeStateMachine': {
        const description = this.engine.describeStateMachine(requiredArn(input, 'stateMachineArn'));
        return {
          stateMachineArn: description.stateMachineArn,
          name: description.name,
          status: 'ACTIVE',
          definition: description.definition,
          roleArn: description.roleArn,
          type: description.type,
          creationDate: epochSeconds(description.creationDate),
          loggingConfiguration: { level: 'OFF', includeExecutionData: false },
          tracingConfiguration: { enabled: false },
        };
      }
      case 'ListStateMachines': {
        const { items, nextToken } = page(this.engine.listStateMachines(), input);
        return {
          stateMachines: items.map((description) => ({
            stateMachineArn: description.stateMachineArn,
            name: description.name,
            type: description.type,
            creationDate: epochSeconds(description.creationDate),
          })),
          ...(nextToken ? { nextToken } : {}),
        };
      }
      case 'StartExecution': {
        const result = this.engine.startExecution(
          requiredArn(input, 'stateMachineArn'),
          optionalString(input, 'name'),
          optionalString(input, 'input'),
        );
        return { executionArn: result.executionArn, startDate: epochSeconds(result.startDate) };
      }
      case 'StartSyncExecution': {
        const execution = await this.engine.startSyncExecution(
          requiredArn(input, 'stateMachineArn'),
          optionalString(input, 'name'),
          optionalString(input, 'input'),
        );
        return {
          ...describeExecutionOutput(execution),
          billingDetails: {
            billedMemoryUsedInMB: 64,
            billedDurationInMilliseconds: Math.max(
              100,
              Math.ceil((execution.stopDate?.getTime() ?? Date.now()) - execution.startDate.getTime()),
            ),
          },
        };
      }
      case 'DescribeExecution':
        return describeExecutionOutput(this.engine.describeExecution(requiredArn(input, 'executionArn')));
      case 'ListExecutions':
        return this.listExecutions(input);
      case 'StopExecution': {
        const { stopDate } = this.engine.stopExecution(
          requiredArn(input, 'executionArn'),
          optionalString(input, 'error'),
          optionalString(input, 'cause'),
        );
        return { stopDate: epochSeconds(stopDate) };
      }
      case 'GetExecutionHistory': {
        const events = [...this.engine.getExecutionHistory(requiredArn(input, 'executionArn'))];
        if (input.reverseOrder === true) events.reverse();
        const includeExecutionData = input.includeExecutionData !== false;
        const { items, nextToken } = page(events, input);
        return {
          events: items.map((event) => historyEventOutput(event, includeExecutionData)),
          ...(nextToken ? { nextToken } : {}),
        };
      }
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `operation ${operation} is not emulated locally`,
        );
    }
  }

  private createStateMachine(input: Record<string, unknown>) {
    const type = optionalString(input, 'type') ?? 'STANDARD';
    if (type !== 'STANDARD' && type !== 'EXPRESS') {
      throw new AwsServiceError('ValidationException', `type must be STANDARD or EXPRESS`);
    }
    try {
      const arn = this.engine.createStateMachine(
        requiredString(input, 'name'),
        requiredString(input, 'definition'),
        optionalString(input, 'roleArn'),
        type satisfies StateMachineType,
      );
      return {
        stateMachineArn: arn,
        creationDate: epochSeconds(this.engine.describeStateMachine(arn).creationDate),
      };
    } catch (error) {
      if (error instanceof DefinitionError) throw new AwsServiceError('InvalidDefinition', error.message);
      throw error;
    }
  }

  private listExecutions(input: Record<string, unknown>) {
    const stateMachineArn = requiredArn(input, 'stateMachineArn');
    if (this.engine.describeStateMachine(stateMachineArn).type === 'EXPRESS') {
      // https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html
      throw new AwsServiceError(
        'StateMachineTypeNotSupported',
        'This operation is not supported by this type of state machine',
      );
    }
    const filter = optionalString(input, 'statusFilter');
    const status = STATUSES.find((candidate) => candidate === filter);
    if (filter !== undefined && status === undefined) {
      throw new AwsServiceError('ValidationException', `statusFilter must be one of ${STATUSES.join(', ')}`);
    }
    const { items, nextToken } = page(this.engine.listExecutions(stateMachineArn, status), input);
    return { executions: items.map(executionListItem), ...(nextToken ? { nextToken } : {}) };
  }
}
