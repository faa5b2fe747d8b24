import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { documentClient } from '../lambdas/adapters/aws/documents';
import { OPERATOR_OUTPUTS } from '../lib/operator-output-keys';
import type { DeadLetterQueueRef } from './dead-letters';

/**
 * Where a stage's resources are: read from its CloudFormation stack's outputs (DescribeStacks), the
 * ones lib/constructs/operator-outputs.ts declares. The same call against the local runtime's AWS
 * endpoint answers with the local resources, so the operator's commands run unchanged on both.
 */

export interface OperatorResources {
  readonly stackName: string;
  readonly exceptionsTable: string;
  readonly linksTable: string;
  readonly idempotencyTable?: string | undefined;
  readonly busName: string;
  readonly busArn: string;
  readonly archiveArn?: string | undefined;
  readonly deadLetterQueues: readonly DeadLetterQueueRef[];
  readonly stateMachines: readonly { readonly name: string; readonly arn: string }[];
  readonly reconcile?: { readonly stateMachineArn: string } | { readonly functionName: string } | undefined;
}

export class ResourcesError extends Error {
  override readonly name = 'ResourcesError' as const;
}

/** The operator resources named by a stack's outputs; fails naming what the stack does not output. */
export const resourcesFromOutputs = (stackName: string, outputs: readonly Output[]): OperatorResources => {
  const values = new Map(outputs.map((output) => [String(output.OutputKey), String(output.OutputValue)]));
  const required = (key: string): string => {
    const value = values.get(key);
    if (!value)
      throw new ResourcesError(
        `stack ${stackName} has no output ${key}: deploy a version with lib/constructs/operator-outputs.ts`,
      );
    return value;
  };
  const deadLetterQueues: DeadLetterQueueRef[] = [];
  const stateMachines: { name: string; arn: string }[] = [];
  for (const [key, value] of values) {
    if (key.startsWith(OPERATOR_OUTPUTS.consumerPrefix)) {
      const queues = JSON.parse(value) as {
        queueUrl: string;
        queueArn: string;
        dlqUrl: string;
        dlqArn: string;
      };
      deadLetterQueues.push({ name: key.slice(OPERATOR_OUTPUTS.consumerPrefix.length), ...queues });
    } else if (key.startsWith(OPERATOR_OUTPUTS.stateMachinePrefix)) {
      stateMachines.push({ name: key.slice(OPERATOR_OUTPUTS.stateMachinePrefix.length), arn: value });
    }
  }
  const targetDlq = values.get(OPERATOR_OUTPUTS.targetDlq);
  if (targetDlq)
    deadLetterQueues.push({
      name: 'bus-targets',
      ...(JSON.parse(targetDlq) as { dlqUrl: string; dlqArn: string }),
    });
  const reconcileMachine = values.get(OPERATOR_OUTPUTS.reconcileStateMachine);
  const reconcileFunction = values.get(OPERATOR_OUTPUTS.reconcileFunction);
  return {
    stackName,
    exceptionsTable: required(OPERATOR_OUTPUTS.exceptionsTable),
    linksTable: required(OPERATOR_OUTPUTS.linksTable),
    idempotencyTable: values.get(OPERATOR_OUTPUTS.idempotencyTable),
    busName: required(OPERATOR_OUTPUTS.busName),
    busArn: required(OPERATOR_OUTPUTS.busArn),
    archiveArn: values.get(OPERATOR_OUTPUTS.archiveArn),
    deadLetterQueues: deadLetterQueues.sort((a, b) => a.name.localeCompare(b.name)),
    stateMachines,
    reconcile: reconcileMachine
      ? { stateMachineArn: reconcileMachine }
      : reconcileFunction
        ? { functionName: reconcileFunction }
        : undefined,
  };
};

/**
 * DescribeStacks for `stackName`; without one (the local runtime runs one stack), the one stack whose
 * outputs name an exceptions table.
 */
export const findResources = async (
  cloudformation: CloudFormationClient,
  stackName?: string,
): Promise<OperatorResources> => {
  const { Stacks = [] } = await cloudformation.send(
    new DescribeStacksCommand(stackName ? { StackName: stackName } : {}),
  );
  const stack = Stacks.find((candidate) =>
    (candidate.Outputs ?? []).some((output) => output.OutputKey === OPERATOR_OUTPUTS.exceptionsTable),
  );
  if (!stack) throw new ResourcesError(`no revbridge stack${stackName ? ` named ${stackName}` : ''} found`);
  return resourcesFromOutputs(String(stack.StackName), stack.Outputs ?? []);
};

export interface Target {
  /** One endpoint for every service (the local runtime's AWS endpoint). @default the SDK's */
  readonly endpoint?: string | undefined;
  /** @default the SDK's (AWS_REGION, the profile), us-east-1 with an endpoint */
  readonly region?: string | undefined;
  /** The local runtime takes any credentials; a stage uses the default credential chain. */
  readonly localCredentials?: boolean;
}

/** SDK clients for a stage (default credential chain) or for one endpoint (the local runtime). */
export const operatorClients = (target: Target) => {
  const config = {
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    ...(target.region ? { region: target.region } : target.endpoint ? { region: 'us-east-1' } : {}),
    ...(target.localCredentials ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  };
  const dynamodb = new DynamoDBClient(config);
  const clients = {
    cloudformation: new CloudFormationClient(config),
    documents: documentClient(dynamodb),
    events: new EventBridgeClient(config),
    sqs: new SQSClient(config),
    sfn: new SFNClient(config),
    lambda: new LambdaClient(config),
  };
  return {
    ...clients,
    destroy: () => {
      for (const client of [dynamodb, ...Object.values(clients)]) client.destroy();
    },
  };
};

export type OperatorClients = ReturnType<typeof operatorClients>;
