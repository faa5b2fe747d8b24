import { Aspects, CfnOutput, type IAspect, Stack } from 'aws-cdk-lib';
import { Archive } from 'aws-cdk-lib/aws-events';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import { OPERATOR_OUTPUTS } from '../operator-output-keys';
import { EventBackbone } from './event-backbone';
import { ExceptionsTable } from './exceptions-table';
import { IdempotencyTable } from './idempotency-table';
import { LinksTable } from './links-table';
import { QueueConsumer } from './queue-consumer';

/** `PostInvoiceConsumer` from the construct path below the stack, letters and digits only. */
const keyOf = (stack: Stack, scope: IConstruct): string =>
  scope.node.path
    .slice(stack.node.path.length + 1)
    .split('/')
    .map((part) => part.replace(/[^A-Za-z0-9]/g, ''))
    .join('')
    .slice(0, 200);

const RECONCILE = /reconcil/i;

/**
 * The stack outputs the operator CLI finds a stage's resources by (tables, bus, archive, every
 * consumer's queue and DLQ, the state machines, the reconciliation entry point), so `npx revbridge
 * --stage <name>` needs nothing but credentials. They are collected when the stack is synthesized,
 * from the constructs it holds, so a flow added to the stack gets its outputs without touching this
 * file, and the stack adds this construct with one line.
 */
export class OperatorOutputs extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    let added = false;
    const aspect: IAspect = {
      visit: (node) => {
        // The stack is visited before its children, with the whole tree built: collect once, there.
        if (node !== stack || added) return;
        added = true;
        this.collect(stack);
      },
    };
    Aspects.of(stack).add(aspect);
  }

  private collect(stack: Stack): void {
    const all = stack.node.findAll();
    const output = (key: string, value: string, description: string) =>
      new CfnOutput(this, key, { key, value, description });
    const first = <T>(type: abstract new (...args: never[]) => T): T | undefined =>
      all.find((node): node is IConstruct & T => node instanceof type) as T | undefined;

    const exceptions = first(ExceptionsTable);
    if (exceptions)
      output(OPERATOR_OUTPUTS.exceptionsTable, exceptions.table.tableName, 'revbridge exceptions table');
    const links = first(LinksTable);
    if (links) output(OPERATOR_OUTPUTS.linksTable, links.table.tableName, 'revbridge links table');
    const idempotency = first(IdempotencyTable);
    if (idempotency)
      output(
        OPERATOR_OUTPUTS.idempotencyTable,
        idempotency.table.tableName,
        'revbridge idempotency records (the handled-event log the trail reads)',
      );
    const backbone = first(EventBackbone);
    if (backbone) {
      output(OPERATOR_OUTPUTS.busName, backbone.bus.eventBusName, 'revbridge event bus');
      output(OPERATOR_OUTPUTS.busArn, backbone.bus.eventBusArn, 'revbridge event bus ARN');
      output(
        OPERATOR_OUTPUTS.targetDlq,
        stack.toJsonString({ dlqUrl: backbone.targetDlq.queueUrl, dlqArn: backbone.targetDlq.queueArn }),
        'events the bus could not deliver to a rule target',
      );
    }
    const archive = first(Archive);
    if (archive) output(OPERATOR_OUTPUTS.archiveArn, archive.archiveArn, 'revbridge event archive (replay)');

    for (const consumer of all.filter((node): node is QueueConsumer => node instanceof QueueConsumer)) {
      output(
        `${OPERATOR_OUTPUTS.consumerPrefix}${keyOf(stack, consumer)}`,
        stack.toJsonString({
          queueUrl: consumer.queue.queueUrl,
          queueArn: consumer.queue.queueArn,
          dlqUrl: consumer.dlq.queueUrl,
          dlqArn: consumer.dlq.queueArn,
        }),
        `queue consumer ${consumer.node.path}: its queue and DLQ`,
      );
    }
    const machines = all.filter((node): node is StateMachine => node instanceof StateMachine);
    for (const machine of machines) {
      output(
        `${OPERATOR_OUTPUTS.stateMachinePrefix}${keyOf(stack, machine)}`,
        machine.stateMachineArn,
        `state machine ${machine.node.path}`,
      );
    }
    const reconcileMachine = machines.find((machine) => RECONCILE.test(machine.node.path));
    const reconcileFunction = all.find(
      (node): node is LambdaFunction => node instanceof LambdaFunction && RECONCILE.test(node.node.path),
    );
    if (reconcileMachine)
      output(
        OPERATOR_OUTPUTS.reconcileStateMachine,
        reconcileMachine.stateMachineArn,
        'starts a reconciliation run',
      );
    else if (reconcileFunction)
      output(
        OPERATOR_OUTPUTS.reconcileFunction,
        reconcileFunction.functionName,
        'runs a reconciliation window',
      );
  }
}
