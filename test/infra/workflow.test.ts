import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Workflow } from '../../lib/constructs/workflow';
import { DefinitionPolicyError, renderDefinition } from '../../lib/constructs/workflow-definition';

/** `${Name}`, the CloudFormation DefinitionSubstitutions placeholder. */
const placeholder = (name: string): string => ['$', '{', name, '}'].join('');

const lambdaTask = (step: string, extra: Record<string, unknown>) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: placeholder('StepsFunctionArn'), Payload: { step, 'saga.$': '$' } },
  ...extra,
});

/** A two-step saga with one undo: the smallest definition the policy applies to. */
const saga = {
  StartAt: 'Change',
  States: {
    Change: lambdaTask('change', { Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Undo' }], Next: 'Publish' }),
    Publish: {
      Type: 'Task',
      Resource: 'arn:aws:states:::events:putEvents',
      Parameters: { Entries: [{ EventBusName: placeholder('EventBusName'), Detail: {} }] },
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Undo' }],
      Next: 'Done',
    },
    Done: { Type: 'Succeed' },
    Undo: lambdaTask('undo', { Next: 'Failed' }),
    Failed: { Type: 'Fail', Error: 'NotDone' },
  },
};

const writeDefinition = (definition: unknown): string => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'revbridge-asl-')), 'saga.asl.json');
  writeFileSync(file, JSON.stringify(definition, null, 2));
  return file;
};

const stackWith = () => {
  const stack = new Stack(new App(), 'Test');
  const fn = (id: string) =>
    new LambdaFunction(stack, id, {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => ({})'),
    });
  return { stack, fn, bus: new EventBus(stack, 'Bus') };
};

describe('the Workflow construct', () => {
  it('adds every Task its Retry and Catch from the one saga policy', () => {
    const { stack, fn, bus } = stackWith();
    new Workflow(stack, 'Saga', {
      workflowName: 'saga',
      definitionFile: writeDefinition(saga),
      functions: { StepsFunctionArn: fn('Steps') },
      bus,
    });
    const [machine] = Object.values(
      Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'),
    );
    const states = JSON.parse(machine?.Properties.DefinitionString as string).States;
    expect(states.Change.Retry[0]).toMatchObject({ ErrorEquals: ['TransientError'], MaxAttempts: 5 });
    expect(states.Change.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure.Change', Next: 'Undo' },
    ]);
    expect(states.Publish.Retry[0].ErrorEquals).toContain('EventBridge.FailedEntry');
    expect(states.Undo.Retry[0]).toMatchObject({ ErrorEquals: ['TransientError'], MaxAttempts: 10 });
    expect(states.Undo.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.compensationFailures.Undo', Next: 'Failed' },
    ]);
  });

  it('fails at synth listing every placeholder without a substitution and every unused substitution', () => {
    const { stack, fn } = stackWith();
    const definition = structuredClone(saga) as typeof saga & { States: Record<string, unknown> };
    definition.States.Undo = lambdaTask('undo', { Next: 'Failed' });
    (definition.States.Undo as { Parameters: { FunctionName: string } }).Parameters.FunctionName =
      placeholder('UndoFunctionArn');
    expect(
      () =>
        new Workflow(stack, 'Saga', {
          workflowName: 'saga',
          definitionFile: writeDefinition(definition),
          functions: { StepsFunctionArn: fn('Steps'), OtherFunctionArn: fn('Other') },
        }),
    ).toThrow(
      [
        `  - placeholder ${placeholder('EventBusName')} has no substitution: pass \`bus\``,
        `  - placeholder ${placeholder('UndoFunctionArn')} has no substitution: add it to \`functions\``,
        '  - substitution OtherFunctionArn is not used by the definition',
      ].join('\n'),
    );
  });

  it('refuses a definition that writes its own Retry or leaves a forward step without its failure edge', () => {
    const definition = structuredClone(saga) as { States: Record<string, Record<string, unknown>> };
    const change = definition.States.Change ?? {};
    change.Retry = [{ ErrorEquals: ['States.ALL'] }];
    delete change.Catch;
    (definition.States.Undo ?? {}).Catch = [{ ErrorEquals: ['States.ALL'], Next: 'Failed' }];
    let problems: readonly string[] = [];
    try {
      renderDefinition('saga', JSON.stringify(definition));
    } catch (error) {
      expect(error).toBeInstanceOf(DefinitionPolicyError);
      problems = (error as DefinitionPolicyError).problems;
    }
    expect(problems).toEqual([
      'Change: has its own Retry (the policy writes it)',
      'Change: a forward step needs exactly one Catch, {"ErrorEquals": ["States.ALL"], "Next": ...}, naming where its failure goes',
      'Undo: a failure-path step writes no Catch (the policy goes on to its Next)',
    ]);
  });
});
