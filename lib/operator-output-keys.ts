// No aws-cdk-lib here: the operator CLI imports these keys, and loading the CDK takes seconds.

/**
 * Output keys the operator CLI (`ops/resources.ts`) reads with CloudFormation DescribeStacks. Consumer
 * queues and state machines get one output each, keyed by the prefix and their construct path.
 */
export const OPERATOR_OUTPUTS = {
  exceptionsTable: 'OpsExceptionsTable',
  linksTable: 'OpsLinksTable',
  idempotencyTable: 'OpsIdempotencyTable',
  busName: 'OpsEventBusName',
  busArn: 'OpsEventBusArn',
  archiveArn: 'OpsArchiveArn',
  targetDlq: 'OpsTargetDlq',
  /** `{"queueUrl","queueArn","dlqUrl","dlqArn"}` of one queue consumer. */
  consumerPrefix: 'OpsConsumer',
  /** The ARN of one state machine. */
  stateMachinePrefix: 'OpsStateMachine',
  /** The reconciliation flow, by whichever construct runs it (a state machine or a function). */
  reconcileStateMachine: 'OpsReconcileStateMachineArn',
  reconcileFunction: 'OpsReconcileFunctionName',
} as const;
