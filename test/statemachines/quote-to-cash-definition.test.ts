import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import aslValidator from 'asl-validator';
import { FORWARD_STATES } from '../../lambdas/quote-to-cash/logic';
import { STEPS } from '../../lambdas/quote-to-cash/schema';
import { renderDefinition } from '../../lib/constructs/workflow-definition';
import { loadDefinition } from '../../local/stepfunctions/definition';

/**
 * The definition checked as JSON, edge by edge, by state name: as the template holds it, with the
 * Retry and Catch blocks the Workflow construct adds from its error policy.
 */

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}
interface Catcher {
  ErrorEquals: string[];
  ResultPath?: string;
  Next: string;
}
interface State {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: string; Payload?: { step?: string } };
  TimeoutSeconds?: number;
  Retry?: Retrier[];
  Catch?: Catcher[];
  Next?: string;
  End?: boolean;
  Choices?: { Next: string }[];
  Default?: string;
}
interface Machine {
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, State>;
}

const file = path.join(__dirname, '..', '..', 'statemachines', 'quote-to-cash.asl.json');
const written = readFileSync(file, 'utf8');
const text = renderDefinition('quote-to-cash', written);
const machine = JSON.parse(text) as Machine;
const states = Object.entries(machine.States);
const state = (name: string): State => {
  const found = machine.States[name];
  if (!found) throw new Error(`no state ${name}`);
  return found;
};
const tasks = states.filter(([, s]) => s.Type === 'Task');
const lambdaTasks = tasks.filter(([, s]) => s.Resource === 'arn:aws:states:::lambda:invoke');

/** The forward path, from StartAt along `Next`. */
const forward = (): string[] => {
  const visited: string[] = [];
  for (let name: string | undefined = machine.StartAt; name; name = state(name).Next) visited.push(name);
  return visited;
};

/**
 * Where a failure of `failing` leads when every earlier step created what it made: Catch, then each
 * Choice's "created here" branch, then `Next`, to the end. Returns the Task and Fail states passed.
 */
const failurePath = (failing: string): string[] => {
  const visited: string[] = [];
  let name: string | undefined = state(failing).Catch?.at(-1)?.Next;
  while (name) {
    const current = state(name);
    if (current.Type !== 'Choice') visited.push(name);
    name = current.Type === 'Choice' ? current.Choices?.[0]?.Next : current.Next;
  }
  return visited;
};

/** What undoes each forward step; the billing customer is kept and the write-back is overwritten. */
const UNDO: Record<string, string | undefined> = {
  UpsertErpCustomer: 'DeactivateErpCustomer',
  CreateSubscription: 'CancelSubscription',
  CreateSalesOrder: 'CloseSalesOrder',
};
const FAILURE_TAIL = ['OpenException', 'NotifyCrmOwner', 'DealNotActivated'];
/** `${Name}`, the CloudFormation DefinitionSubstitutions placeholder. */
const placeholder = (name: string): string => ['$', '{', name, '}'].join('');

describe('statemachines/quote-to-cash.asl.json', () => {
  it('is a valid state machine for asl-validator, as written and with its substitutions made', () => {
    const asWritten = aslValidator(JSON.parse(written));
    expect(asWritten.errorsText()).toBe('');
    expect(asWritten.isValid).toBe(true);
    const rendered = aslValidator(structuredClone(machine));
    expect(rendered.errorsText()).toBe('');
    expect(rendered.isValid).toBe(true);
    const substituted = JSON.parse(
      text
        .replaceAll(placeholder('StepsFunctionArn'), 'arn:aws:lambda:us-east-1:123456789012:function:steps')
        .replaceAll(placeholder('EventBusName'), 'revbridge-dev'),
    ) as unknown;
    expect(aslValidator(substituted).isValid).toBe(true);
  });

  it('runs in the local engine: JSONPath only, every integration supported', () => {
    expect(() => loadDefinition('quote-to-cash', text)).not.toThrow();
    expect(text).not.toMatch(/JSONata/);
  });

  it('goes validate → ERP customer → billing customer → subscription → sales order → CRM → event', () => {
    expect(forward()).toEqual([
      'ValidateDeal',
      'UpsertErpCustomer',
      'UpsertBillingCustomer',
      'CreateSubscription',
      'CreateSalesOrder',
      'WriteBackToCrm',
      'PublishContractActivated',
      'ContractActivated',
    ]);
    expect(state('ContractActivated').Type).toBe('Succeed');
    expect(Object.keys(FORWARD_STATES)).toEqual(forward().slice(0, -1));
  });

  it.each(tasks.map(([name]) => name))(
    '%s has a timeout, a retry with full-jitter backoff and a catch-all last',
    (name) => {
      const task = state(name);
      expect(task.TimeoutSeconds).toBeGreaterThan(0);
      const [first] = task.Retry ?? [];
      expect(first).toMatchObject({
        IntervalSeconds: expect.any(Number),
        BackoffRate: expect.any(Number),
        MaxAttempts: expect.any(Number),
        JitterStrategy: 'FULL',
      });
      expect(first?.BackoffRate).toBeGreaterThan(1);
      expect(first?.MaxAttempts).toBeGreaterThanOrEqual(3);
      expect(task.Catch?.at(-1)?.ErrorEquals).toEqual(['States.ALL']);
      // States.ALL may only be caught after the retries: it is never retried.
      for (const retrier of task.Retry ?? []) expect(retrier.ErrorEquals).not.toContain('States.ALL');
    },
  );

  it.each(lambdaTasks.map(([name]) => name))(
    '%s retries TransientError, never PermanentError, and runs a step the function knows',
    (name) => {
      const task = state(name);
      expect(task.Retry?.[0]?.ErrorEquals).toEqual(['TransientError']);
      expect((task.Retry ?? []).flatMap((r) => r.ErrorEquals)).not.toContain('PermanentError');
      expect(task.Parameters?.FunctionName).toBe(placeholder('StepsFunctionArn'));
      expect(STEPS).toContain(task.Parameters?.Payload?.step);
      // The Lambda step's timeout leaves room for the function's own (60 s) to fire first.
      expect(task.TimeoutSeconds).toBeGreaterThan(60);
    },
  );

  it('publishes contract.activated through the EventBridge integration, retrying its errors', () => {
    const publish = state('PublishContractActivated');
    expect(publish.Resource).toBe('arn:aws:states:::events:putEvents');
    expect(publish.Retry?.[0]?.ErrorEquals).toContain('EventBridge.FailedEntry');
    expect(JSON.stringify(publish.Parameters)).toContain('"DetailType":"contract.activated"');
    expect(JSON.stringify(publish.Parameters)).toContain(placeholder('EventBusName'));
  });

  it('records a failure under the failing state name the failure path reads', () => {
    for (const name of Object.keys(FORWARD_STATES)) {
      expect(state(name).Catch?.at(-1)?.ResultPath).toBe(`$.failure.${name}`);
    }
  });

  it('sends a validation failure straight to the failure path: nothing was written', () => {
    expect(failurePath('ValidateDeal')).toEqual(FAILURE_TAIL);
  });

  it.each(Object.keys(FORWARD_STATES).slice(1))(
    'compensates exactly the steps before %s, in reverse, then opens an exception and tells the CRM owner',
    (failing) => {
      const done = forward().slice(0, forward().indexOf(failing));
      const undo = done
        .map((step) => UNDO[step])
        .filter((step): step is string => step !== undefined)
        .reverse();
      expect(failurePath(failing)).toEqual([...undo, ...FAILURE_TAIL]);
    },
  );

  it('skips the undo of what this run did not create (a Choice on `created` before each)', () => {
    for (const [choice, undo, created] of [
      ['UndoSalesOrderIfCreated', 'CloseSalesOrder', '$.salesOrder.created'],
      ['UndoSubscriptionIfCreated', 'CancelSubscription', '$.subscription.created'],
      ['UndoErpCustomerIfCreated', 'DeactivateErpCustomer', '$.erpCustomer.created'],
    ] as const) {
      const decision = state(choice);
      expect(decision.Type).toBe('Choice');
      expect(decision.Choices?.[0]?.Next).toBe(undo);
      expect(JSON.stringify(decision.Choices)).toContain(created);
      // Skipping goes where the undo would have gone next.
      expect(decision.Default).toBe(state(undo).Next);
    }
  });

  it('retries every compensation harder than a forward step and never lets one failed undo stop the rest', () => {
    const forwardAttempts = state('CreateSalesOrder').Retry?.[0]?.MaxAttempts ?? 0;
    for (const name of ['CloseSalesOrder', 'CancelSubscription', 'DeactivateErpCustomer', 'OpenException']) {
      const compensation = state(name);
      expect(compensation.Retry?.[0]?.MaxAttempts).toBeGreaterThan(forwardAttempts);
      const caught = compensation.Catch?.at(-1);
      expect(caught?.Next).toBe(compensation.Next);
      expect(caught?.ResultPath).toBe(`$.compensationFailures.${name}`);
    }
    expect(state('NotifyCrmOwner').Catch?.at(-1)?.Next).toBe('DealNotActivated');
    expect(state('DealNotActivated').Type).toBe('Fail');
  });

  it('bounds the whole execution', () => {
    expect(machine.TimeoutSeconds).toBeGreaterThan(0);
  });
});
