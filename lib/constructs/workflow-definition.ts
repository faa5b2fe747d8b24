/**
 * A saga definition as the state machine runs it: the ASL file holds the graph (steps, their inputs
 * and results, the Choices, and where a forward step's failure goes) and one policy here adds every
 * Task's Retry and Catch, so no two sagas, and no two steps of one saga, can drift apart in how they
 * retry or record a failure. Read by the `Workflow` construct at synth (the template holds the
 * rendered definition) and by the definition tests; the local runtime runs what the template holds.
 *
 * A Task is a forward step when it is on the path from `StartAt` along `Next`; every other Task is on
 * the failure path (compensations, the exception, the CRM notice).
 * - A forward step writes its failure edge in the file, `"Catch": [{"ErrorEquals": ["States.ALL"],
 *   "Next": ...}]` (the saga's shape, which a reader of the file must see); the policy records the
 *   error under `$.failure.<State>`, which the failure path turns into words.
 * - A failure-path step writes no Catch: one that fails is recorded under
 *   `$.compensationFailures.<State>` and the failure path goes on to its `Next`, so one undo that
 *   cannot be done never stops the others (the exception lists what is left to undo by hand).
 * - Retry comes from the Task's integration, and is more patient on the failure path (an undo that
 *   gives up leaves work for a person; a forward step that gives up only compensates).
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */

export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds: number;
  readonly BackoffRate: number;
  readonly MaxAttempts: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy: 'FULL' | 'NONE';
}

export interface StepErrorPolicy {
  /** Task `Resource` → its retriers on the forward path and on the failure path. */
  readonly retry: Readonly<Record<string, { readonly forward: Retrier[]; readonly failurePath: Retrier[] }>>;
  /** Where a forward step's error is recorded (`<path>.<State>`). */
  readonly failureResultPath: string;
  /** Where a failure-path step's error is recorded (`<path>.<State>`). */
  readonly compensationFailureResultPath: string;
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const EVENTS_PUT_EVENTS = 'arn:aws:states:::events:putEvents';

/** Exponential backoff with full jitter, starting at 2 s. */
const backoff = (errors: readonly string[], maxAttempts: number, maxDelaySeconds?: number): Retrier => ({
  ErrorEquals: errors,
  IntervalSeconds: 2,
  BackoffRate: 2,
  MaxAttempts: maxAttempts,
  ...(maxDelaySeconds === undefined ? {} : { MaxDelaySeconds: maxDelaySeconds }),
  JitterStrategy: 'FULL',
});

/**
 * Errors of the Lambda service itself, and a Task timeout: the step did not run or did not answer, so
 * running it again is safe (every step is idempotent). A step's own errors are `TransientError`
 * (retried) or `PermanentError` (never retried: straight to the Catch), as the step handler names them.
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
 */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Sandbox.Timedout',
  'States.Timeout',
];
/** A service integration raises EventBridge's own errors, never a TransientError. */
const EVENTBRIDGE_ERRORS = [
  'EventBridge.FailedEntry',
  'EventBridge.InternalException',
  'EventBridge.ThrottlingException',
  'EventBridge.EventBridgeException',
  'States.Timeout',
];

/** The one policy of revbridge's sagas. */
export const SAGA_ERROR_POLICY: StepErrorPolicy = {
  retry: {
    [LAMBDA_INVOKE]: {
      forward: [backoff(['TransientError'], 5, 60), backoff(LAMBDA_SERVICE_ERRORS, 3)],
      failurePath: [backoff(['TransientError'], 10, 120), backoff(LAMBDA_SERVICE_ERRORS, 3)],
    },
    [EVENTS_PUT_EVENTS]: {
      forward: [backoff(EVENTBRIDGE_ERRORS, 5, 60)],
      failurePath: [backoff(EVENTBRIDGE_ERRORS, 10, 120)],
    },
  },
  failureResultPath: '$.failure',
  compensationFailureResultPath: '$.compensationFailures',
};

export class DefinitionPolicyError extends Error {
  override readonly name = 'DefinitionPolicyError' as const;
  constructor(
    readonly definitionName: string,
    readonly problems: readonly string[],
  ) {
    super(
      `${definitionName}: the definition cannot take the error policy:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The states on the path from `StartAt` along `Next`. */
const forwardStates = (states: JsonObject, startAt: string): Set<string> => {
  const visited = new Set<string>();
  for (let name: Json | undefined = startAt; typeof name === 'string' && !visited.has(name); ) {
    visited.add(name);
    const state: Json | undefined = states[name];
    name = isObject(state) ? state.Next : undefined;
  }
  return visited;
};

const isCatchAll = (catcher: Json): boolean =>
  isObject(catcher) &&
  Array.isArray(catcher.ErrorEquals) &&
  catcher.ErrorEquals.length === 1 &&
  catcher.ErrorEquals[0] === 'States.ALL';

/**
 * The definition text with every Task's Retry and Catch added from `policy`, as pretty-printed JSON.
 * Throws `DefinitionPolicyError` listing every state the policy cannot be applied to.
 */
export const renderDefinition = (
  definitionName: string,
  text: string,
  policy: StepErrorPolicy = SAGA_ERROR_POLICY,
): string => {
  const machine = JSON.parse(text) as Json;
  if (!isObject(machine) || !isObject(machine.States) || typeof machine.StartAt !== 'string') {
    throw new DefinitionPolicyError(definitionName, ['it needs "StartAt" and "States"']);
  }
  const states = machine.States;
  const forward = forwardStates(states, machine.StartAt);
  const problems: string[] = [];
  const rendered: JsonObject = {};
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state) || state.Type !== 'Task') {
      rendered[name] = state;
      continue;
    }
    const onForwardPath = forward.has(name);
    const { Retry, Catch, Next, End, ...rest } = state;
    const resource = typeof state.Resource === 'string' ? state.Resource : '';
    const retriers = policy.retry[resource];
    if (!retriers) problems.push(`${name}: no retry policy for Resource "${resource}"`);
    if (Retry !== undefined) problems.push(`${name}: has its own Retry (the policy writes it)`);
    let catchers: Json[] = [];
    if (onForwardPath) {
      const written = Array.isArray(Catch) ? Catch : [];
      const last = written.at(-1);
      if (written.length !== 1 || last === undefined || !isCatchAll(last) || !isObject(last)) {
        problems.push(
          `${name}: a forward step needs exactly one Catch, {"ErrorEquals": ["States.ALL"], "Next": ...}, naming where its failure goes`,
        );
      } else if ('ResultPath' in last) {
        problems.push(`${name}: its Catch sets ResultPath (the policy writes it)`);
      } else {
        catchers = [
          {
            ErrorEquals: ['States.ALL'],
            ResultPath: `${policy.failureResultPath}.${name}`,
            Next: last.Next ?? null,
          },
        ];
      }
    } else if (Catch !== undefined) {
      problems.push(`${name}: a failure-path step writes no Catch (the policy goes on to its Next)`);
    } else if (typeof Next !== 'string') {
      problems.push(`${name}: a failure-path step needs a Next to go on to when it fails`);
    } else {
      catchers = [
        { ErrorEquals: ['States.ALL'], ResultPath: `${policy.compensationFailureResultPath}.${name}`, Next },
      ];
    }
    const retry = retriers ? (onForwardPath ? retriers.forward : retriers.failurePath) : [];
    rendered[name] = {
      ...rest,
      Retry: structuredClone(retry) as unknown as Json,
      Catch: catchers,
      ...(Next === undefined ? {} : { Next }),
      ...(End === undefined ? {} : { End }),
    };
  }
  if (problems.length > 0) throw new DefinitionPolicyError(definitionName, problems);
  return `${JSON.stringify({ ...machine, States: rendered }, null, 2)}\n`;
};

/** Every `${Name}` placeholder of a definition (CloudFormation `DefinitionSubstitutions`), sorted. */
export const placeholdersOf = (text: string): string[] =>
  [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((match) => match[1] ?? ''))].sort();
