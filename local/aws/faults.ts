import * as z from 'zod/mini';
import { SeededRandom } from '../twins/common/random';
import { AwsServiceError } from './json-protocol';

/**
 * Seeded faults in the local AWS services, set like the twins' (`LOCAL_AWS_FAULTS` as JSON, or
 * `PUT /_local/faults` on the API port): the failures AWS really produces, so the chaos run and the
 * tests see handlers survive them as they must on AWS. Each fault takes the shape AWS gives it, so
 * the SDK's own retries behave as they would there (they absorb most single faults: that is part of
 * what is being tested).
 */
export interface AwsFaultConfig {
  /** @default 1 */
  seed?: number;
  /** A call fails with SQS's `InternalError` (500). */
  sqs?: ServiceFaults;
  /** A call fails with `ThrottlingException`; `failedEntryRate` fails single PutEvents entries. */
  eventbridge?: ServiceFaults & { failedEntryRate?: number };
  /** A call fails with `ThrottlingException`. */
  stepfunctions?: ServiceFaults;
  /** A call fails with `InternalServiceError` (500). */
  secretsmanager?: ServiceFaults;
  /** A call fails with `ProvisionedThroughputExceededException`. */
  dynamodb?: ServiceFaults;
  /** An invocation's execution environment is killed while it runs (after up to `crashWithinMs`). */
  lambda?: {
    crashRate?: number;
    crashWithinMs?: number;
    /** Only functions whose name or logical id contains one of these (e.g. `PostInvoice`). @default all */
    functions?: string[];
  };
}

export interface ServiceFaults {
  /** 0..1 chance per call. */
  errorRate?: number;
  /** Only these operations fail (e.g. `PutEvents`). @default every operation */
  operations?: string[];
}

const rate = z.number().check(z.minimum(0), z.maximum(1));
const serviceFaults = z.strictObject({
  errorRate: z.optional(rate),
  operations: z.optional(z.array(z.string())),
});

export const awsFaultConfigSchema = z.strictObject({
  seed: z.optional(z.int()),
  sqs: z.optional(serviceFaults),
  eventbridge: z.optional(z.extend(serviceFaults, { failedEntryRate: z.optional(rate) })),
  stepfunctions: z.optional(serviceFaults),
  secretsmanager: z.optional(serviceFaults),
  dynamodb: z.optional(serviceFaults),
  lambda: z.optional(
    z.strictObject({
      crashRate: z.optional(rate),
      crashWithinMs: z.optional(z.int().check(z.minimum(1))),
      functions: z.optional(z.array(z.string())),
    }),
  ),
});

/** Parses a fault config, naming every invalid field. */
export const parseAwsFaultConfig = (value: unknown): AwsFaultConfig => {
  const parsed = awsFaultConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data as AwsFaultConfig;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new Error(`invalid AWS fault config: ${problems.join('; ')}`);
};

type JsonServiceName = 'sqs' | 'eventbridge' | 'stepfunctions' | 'secretsmanager';

const BY_TARGET_PREFIX: Readonly<Record<string, JsonServiceName>> = {
  AmazonSQS: 'sqs',
  AWSEvents: 'eventbridge',
  AWSStepFunctions: 'stepfunctions',
  secretsmanager: 'secretsmanager',
};

/** The error each service answers a throttled or failed call with. */
const serviceError = (service: JsonServiceName): AwsServiceError => {
  switch (service) {
    case 'sqs':
      return new AwsServiceError(
        'InternalError',
        'We encountered an internal error. Please try again.',
        500,
        'InternalError',
      );
    case 'secretsmanager':
      return new AwsServiceError('InternalServiceError', 'An error occurred on the server side.', 500);
    default:
      return new AwsServiceError('ThrottlingException', 'Rate exceeded', 400);
  }
};

export type FaultCounts = Record<string, number>;

export class AwsFaults {
  private config: AwsFaultConfig = {};
  private random = new SeededRandom(1);
  private readonly counts: FaultCounts = {};

  constructor(config: AwsFaultConfig = {}) {
    this.set(config);
  }

  /** Replaces the configuration and restarts the seeded sequence. */
  set(config: AwsFaultConfig): void {
    this.config = config;
    this.random = new SeededRandom(config.seed ?? 1);
  }

  get current(): AwsFaultConfig {
    return this.config;
  }

  /** What was injected so far, by `<service>.<fault>`. */
  injected(): FaultCounts {
    return { ...this.counts };
  }

  /** The error a JSON-protocol call fails with, or `undefined` to let it through. */
  callFault(targetPrefix: string, operation: string): AwsServiceError | undefined {
    const service = BY_TARGET_PREFIX[targetPrefix];
    if (!service) return undefined;
    const faults = this.config[service];
    if (!faults?.errorRate || (faults.operations && !faults.operations.includes(operation))) return undefined;
    if (!this.random.chance(faults.errorRate)) return undefined;
    this.count(`${service}.${operation}`);
    return serviceError(service);
  }

  /** For each PutEvents entry, whether it fails (EventBridge then reports it in `Entries`, not as an error). */
  failedEntries(count: number): boolean[] {
    const failedEntryRate = this.config.eventbridge?.failedEntryRate;
    if (!failedEntryRate) return new Array<boolean>(count).fill(false);
    return Array.from({ length: count }, () => {
      const failed = this.random.chance(failedEntryRate);
      if (failed) this.count('eventbridge.PutEvents.failedEntry');
      return failed;
    });
  }

  /** Milliseconds after which this invocation's environment is killed, or `undefined`. */
  crashAfterMs(functionName: string, logicalId: string): number | undefined {
    const lambda = this.config.lambda;
    if (!lambda?.crashRate) return undefined;
    if (
      lambda.functions &&
      !lambda.functions.some((part) => functionName.includes(part) || logicalId.includes(part))
    ) {
      return undefined;
    }
    if (!this.random.chance(lambda.crashRate)) return undefined;
    this.count(`lambda.${logicalId}.crash`);
    return this.random.int(1, lambda.crashWithinMs ?? 100);
  }

  /** Counts faults injected elsewhere (the DynamoDB thread reports its own). */
  count(key: string, by = 1): void {
    this.counts[key] = (this.counts[key] ?? 0) + by;
  }
}

/**
 * PutEvents with some entries failed: the failed ones never reach the bus, and the answer reports
 * them in place with `ErrorCode`, as EventBridge does (`FailedEntryCount` > 0 with HTTP 200).
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
 */
export const putEventsWithFailures = async (
  input: Record<string, unknown>,
  failed: readonly boolean[],
  put: (input: Record<string, unknown>) => Promise<unknown>,
): Promise<unknown> => {
  const entries = Array.isArray(input.Entries) ? (input.Entries as unknown[]) : [];
  if (!failed.some(Boolean)) return put(input);
  const passed = entries.filter((_, index) => !failed[index]);
  const output = (passed.length > 0 ? await put({ ...input, Entries: passed }) : { Entries: [] }) as {
    FailedEntryCount?: number;
    Entries?: unknown[];
  };
  const results = [...(output.Entries ?? [])];
  const merged = entries.map((_, index) =>
    failed[index]
      ? { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service error (injected fault).' }
      : results.shift(),
  );
  const failedCount = merged.filter(
    (entry) => entry && typeof entry === 'object' && 'ErrorCode' in entry,
  ).length;
  return { FailedEntryCount: failedCount, Entries: merged };
};
