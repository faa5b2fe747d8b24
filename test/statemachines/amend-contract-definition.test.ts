import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import aslValidator from 'asl-validator';
import { FORWARD_STATES } from '../../lambdas/amend-contract/logic';
import { STEPS } from '../../lambdas/amend-contract/schema';
import { renderDefinition } from '../../lib/constructs/workflow-definition';
import { loadDefinition } from '../../local/stepfunctions/definition';

interface State {
  Type: string;
  Resource?: string;
  Parameters?: { Payload?: { step?: string } };
  Retry?: { ErrorEquals: string[]; MaxAttempts: number }[];
  Catch?: { ErrorEquals: string[]; ResultPath?: string; Next: string }[];
  Next?: string;
}
const file = path.join(__dirname, '..', '..', 'statemachines', 'amend-contract.asl.json');
const written = readFileSync(file, 'utf8');
const text = renderDefinition('amend-contract', written);
const machine = JSON.parse(text) as {
  StartAt: string;
  TimeoutSeconds?: number;
  States: Record<string, State>;
};
const state = (name: string): State => {
  const found = machine.States[name];
  if (!found) throw new Error(`no state ${name}`);
  return found;
};
const forward = (): string[] => {
  const visited: string[] = [];
  for (let name: string | undefined = machine.StartAt; name; name = state(name).Next) visited.push(name);
  return visited;
};
/** The Tasks a failure of `failing` passes, to the Fail state. */
const failurePath = (failing: string): string[] => {
  const visited: string[] = [];
  for (let name = state(failing).Catch?.at(-1)?.Next; name; name = state(name).Next) visited.push(name);
  return visited;
};
const TAIL = ['OpenException', 'NotifyCrmOwner', 'AmendmentNotApplied'];

describe('statemachines/amend-contract.asl.json', () => {
  it('is valid for asl-validator as written and as rendered, and runs in the local engine', () => {
    expect(aslValidator(JSON.parse(written)).errorsText()).toBe('');
    const rendered = aslValidator(structuredClone(machine));
    expect(rendered.errorsText()).toBe('');
    expect(rendered.isValid).toBe(true);
    expect(() => loadDefinition('amend-contract', text)).not.toThrow();
  });

  it('goes validate → subscription → sales order → CRM → contract.amended', () => {
    expect(forward()).toEqual([
      'ValidateAmendment',
      'ChangeSubscription',
      'ChangeSalesOrder',
      'WriteBackToCrm',
      'PublishContractAmended',
      'ContractAmended',
    ]);
    expect(Object.keys(FORWARD_STATES)).toEqual(forward().slice(0, -1));
    expect(JSON.stringify(state('PublishContractAmended').Parameters)).toContain(
      '"DetailType":"contract.amended"',
    );
  });

  it('runs only steps the function knows', () => {
    for (const s of Object.values(machine.States).filter(
      (s) => s.Resource === 'arn:aws:states:::lambda:invoke',
    )) {
      expect(STEPS).toContain(s.Parameters?.Payload?.step);
    }
  });

  it.each([
    ['ValidateAmendment', TAIL],
    // The update may have landed before its answer was lost: the revert checks the subscription.
    ['ChangeSubscription', ['RevertSubscription', ...TAIL]],
    ['ChangeSalesOrder', ['RestoreSalesOrder', 'RevertSubscription', ...TAIL]],
    ['WriteBackToCrm', ['RestoreSalesOrder', 'RevertSubscription', ...TAIL]],
    ['PublishContractAmended', ['RestoreSalesOrder', 'RevertSubscription', ...TAIL]],
  ])('undoes in reverse what was done before a failure of %s, then opens an exception', (failing, path) => {
    expect(failurePath(failing)).toEqual(path);
    expect(state(failing).Catch?.at(-1)?.ResultPath).toBe(`$.failure.${failing}`);
  });

  it('retries an undo harder than a forward step and never lets one failed undo stop the rest', () => {
    const forwardAttempts = state('ChangeSalesOrder').Retry?.[0]?.MaxAttempts ?? 0;
    for (const name of ['RestoreSalesOrder', 'RevertSubscription', 'OpenException']) {
      expect(state(name).Retry?.[0]?.MaxAttempts).toBeGreaterThan(forwardAttempts);
      expect(state(name).Catch?.at(-1)).toEqual({
        ErrorEquals: ['States.ALL'],
        ResultPath: `$.compensationFailures.${name}`,
        Next: state(name).Next,
      });
    }
    expect(machine.TimeoutSeconds).toBeGreaterThan(0);
  });
});
