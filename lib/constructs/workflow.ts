import { readFileSync } from 'node:fs';
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { EventBus } from 'aws-cdk-lib/aws-events';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  placeholdersOf,
  renderDefinition,
  SAGA_ERROR_POLICY,
  type StepErrorPolicy,
} from './workflow-definition';

export interface WorkflowProps {
  /** The ASL file (JSONPath; the local runtime rejects JSONata), e.g. `statemachines/quote-to-cash.asl.json`. */
  readonly definitionFile: string;
  /**
   * `${Name}` placeholders of the definition → the functions they stand for. Each is passed as the
   * function's ARN and is the only function the workflow may invoke.
   */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** The bus the definition puts events on, passed as `${EventBusName}`. @default none */
  readonly bus?: EventBus;
  /** Used in the state machine's and the log group's names. */
  readonly workflowName: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /**
   * Every Task's Retry and Catch, added to the definition at synth (lib/constructs/workflow-definition.ts).
   * @default SAGA_ERROR_POLICY
   */
  readonly errorPolicy?: StepErrorPolicy;
}

/**
 * A Standard state machine from an ASL file: the definition stays plain JSON that `asl-validator` and
 * the local runtime read, and CDK fills in the ARNs through `DefinitionSubstitutions`. Execution
 * logging (ALL events, without execution data: inputs carry customer master data), X-Ray tracing,
 * least privilege (invoke only its functions, put events only on its bus) and alarms on failed and
 * timed-out executions are forced. Every Task's Retry and Catch come from one error policy, and synth
 * fails listing every `${Name}` placeholder without a substitution and every substitution no
 * placeholder uses (a function it would be granted to invoke for nothing).
 */
export class Workflow extends Construct {
  readonly stateMachine: StateMachine;
  readonly failedAlarm: Alarm;
  readonly timedOutAlarm: Alarm;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    // The `/aws/vendedlogs/` prefix keeps CloudWatch Logs' resource policy from growing per log group.
    // https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
    const logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${stackName}-${props.workflowName}`,
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const substitutions: Record<string, string> = {};
    for (const [name, fn] of Object.entries(props.functions)) substitutions[name] = fn.functionArn;
    if (props.bus) substitutions.EventBusName = props.bus.eventBusName;
    const definition = renderDefinition(
      props.workflowName,
      readFileSync(props.definitionFile, 'utf8'),
      props.errorPolicy ?? SAGA_ERROR_POLICY,
    );
    const problems = substitutionProblems(placeholdersOf(definition), Object.keys(substitutions));
    if (problems.length > 0) {
      throw new WorkflowDefinitionError(
        `Workflow ${id} (${props.definitionFile}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      );
    }

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: `${stackName}-${props.workflowName}`,
      stateMachineType: StateMachineType.STANDARD,
      // Inline, not `fromFile` (an S3 asset): the template then holds the definition it deploys, which
      // is what the local runtime runs and what a reviewer reads in the synthesized template.
      definitionBody: DefinitionBody.fromString(definition),
      definitionSubstitutions: substitutions,
      // The execution timeout is the definition's own top-level `TimeoutSeconds`.
      tracingEnabled: true,
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });
    for (const fn of Object.values(props.functions)) fn.grantInvoke(this.stateMachine);
    props.bus?.grantPutEventsTo(this.stateMachine);

    Validations.of(this.stateMachine).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'Execution logging and X-Ray need logs:*LogDelivery*, logs:DescribeLogGroups and xray:PutTraceSegments/GetSampling*, which take no resource-level permissions (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy).',
      },
      ...Object.values(props.functions).map((fn) => ({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
        reason:
          'grantInvoke adds the function ARN with `:*` so the workflow may invoke the versions and aliases of this one function, and no other.',
      })),
    );

    this.failedAlarm = new Alarm(this, 'FailedAlarm', {
      alarmDescription: `${props.workflowName}: an execution failed. Its exception record says why and what is left to undo.`,
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.timedOutAlarm = new Alarm(this, 'TimedOutAlarm', {
      alarmDescription: `${props.workflowName}: an execution timed out without compensating. Check the execution and undo by hand.`,
      metric: this.stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}

export class WorkflowDefinitionError extends Error {
  override readonly name = 'WorkflowDefinitionError' as const;
}

/** What CloudFormation would leave unsubstituted (deploys, then fails at run time) or grant for nothing. */
export const substitutionProblems = (placeholders: readonly string[], given: readonly string[]): string[] => [
  ...placeholders
    .filter((name) => !given.includes(name))
    .map(
      (name) =>
        `placeholder \${${name}} has no substitution: ${name === 'EventBusName' ? 'pass `bus`' : 'add it to `functions`'}`,
    ),
  ...given
    .filter((name) => !placeholders.includes(name))
    .map((name) => `substitution ${name} is not used by the definition`),
];
