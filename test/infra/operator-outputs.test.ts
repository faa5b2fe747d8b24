import { Match } from 'aws-cdk-lib/assertions';
import { OPERATOR_OUTPUTS } from '../../lib/operator-output-keys';
import { resourcesFromOutputs } from '../../ops/resources';
import { synthStack } from '../support/synth';

const { template } = synthStack();
const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

describe('the stack outputs the operator CLI finds a stage by', () => {
  it('outputs the exceptions, links and idempotency tables, the bus and its archive', () => {
    template.hasOutput(OPERATOR_OUTPUTS.exceptionsTable, {
      Value: { Ref: Match.stringLikeRegexp('^Exceptions') },
    });
    template.hasOutput(OPERATOR_OUTPUTS.linksTable, { Value: { Ref: Match.stringLikeRegexp('^Links') } });
    template.hasOutput(OPERATOR_OUTPUTS.idempotencyTable, {
      Value: { Ref: Match.stringLikeRegexp('^Idempotency') },
    });
    template.hasOutput(OPERATOR_OUTPUTS.busName, { Value: { Ref: Match.stringLikeRegexp('Bus') } });
    template.hasOutput(OPERATOR_OUTPUTS.archiveArn, {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('Archive'), 'Arn'] },
    });
  });

  it('outputs every queue consumer with its queue and DLQ, and every state machine', () => {
    const consumers = Object.keys(outputs).filter((key) => key.startsWith(OPERATOR_OUTPUTS.consumerPrefix));
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    // Each consumer has a queue and a DLQ; the bus's target DLQ is the one more queue.
    expect(consumers.length * 2 + 1).toBe(queues.length);
    expect(consumers).toEqual(
      expect.arrayContaining(['OpsConsumerPostInvoiceConsumer', 'OpsConsumerApplyPaymentConsumer']),
    );
    const machines = Object.keys(outputs).filter((key) =>
      key.startsWith(OPERATOR_OUTPUTS.stateMachinePrefix),
    );
    expect(machines.length).toBe(
      Object.keys(template.findResources('AWS::StepFunctions::StateMachine')).length,
    );
  });

  it('reads back, resolved, as the resources the CLI works on', () => {
    const resolved = Object.keys(outputs).map((key) => ({
      OutputKey: key,
      // What CloudFormation returns once deployed: JSON for the consumers, a name or ARN otherwise.
      OutputValue:
        key.startsWith(OPERATOR_OUTPUTS.consumerPrefix) || key === OPERATOR_OUTPUTS.targetDlq
          ? JSON.stringify({ queueUrl: 'q', queueArn: 'arn:q', dlqUrl: 'd', dlqArn: 'arn:d' })
          : `value-of-${key}`,
    }));
    const resources = resourcesFromOutputs('revbridge-dev', resolved);
    expect(resources.exceptionsTable).toBe(`value-of-${OPERATOR_OUTPUTS.exceptionsTable}`);
    expect(resources.deadLetterQueues.map((queue) => queue.name)).toEqual(
      expect.arrayContaining(['PostInvoiceConsumer', 'bus-targets']),
    );
    expect(() => resourcesFromOutputs('revbridge-old', [])).toThrow(/no output OpsExceptionsTable/);
  });
});
