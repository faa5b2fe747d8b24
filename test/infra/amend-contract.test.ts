import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadStageConfig } from '../../lib/config';
import { renderDefinition } from '../../lib/constructs/workflow-definition';
import { crmTwinCustomFields } from '../../local/config';
import { devConfig, synthStack } from '../support/synth';

type Resource = { Type: string; Properties?: Record<string, unknown> };

const { template } = synthStack();
const resources = template.toJSON().Resources as Record<string, Resource>;
const idOf = (prefix: string, type: string): string => {
  const found = Object.entries(resources).find(([id, r]) => r.Type === type && id.startsWith(prefix));
  if (!found) throw new Error(`no ${type} ${prefix}`);
  return found[0];
};
const machineId = idOf('AmendContractStateMachine', 'AWS::StepFunctions::StateMachine');
const machine = resources[machineId]?.Properties ?? {};
const environmentOf = (prefix: string) =>
  (
    (resources[idOf(prefix, 'AWS::Lambda::Function')]?.Properties?.Environment ?? {}) as {
      Variables?: Record<string, unknown>;
    }
  ).Variables ?? {};

describe('the amendment workflow', () => {
  it('is a second Standard state machine, its ASL file rendered with the saga error policy', () => {
    const file = readFileSync(
      path.join(__dirname, '..', '..', 'statemachines', 'amend-contract.asl.json'),
      'utf8',
    );
    expect(machine.StateMachineType).toBe('STANDARD');
    expect(machine.DefinitionString).toBe(renderDefinition('amend-contract', file));
    expect(machine.DefinitionSubstitutions).toEqual({
      StepsFunctionArn: { 'Fn::GetAtt': [idOf('AmendContractSteps', 'AWS::Lambda::Function'), 'Arn'] },
      EventBusName: { Ref: idOf('EventsBus', 'AWS::Events::EventBus') },
    });
  });

  it('alarms on failed and timed-out executions, like every workflow', () => {
    for (const metricName of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metricName,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machineId } }],
      });
    }
  });

  it('gives the steps the configured proration and the CRM fields that name the amended deal', () => {
    const config = devConfig();
    const steps = environmentOf('AmendContractSteps');
    expect(steps.AMENDMENT_PRORATION_BEHAVIOR).toBe(config.amendment.prorationBehavior);
    expect(steps.SALESFORCE_AMENDMENT_OF_FIELD).toBe(config.salesforce.amendmentOfField);
    expect(steps.HUBSPOT_AMENDMENT_OF_PROPERTY).toBe(config.hubspot.amendmentOfProperty);
    const starter = environmentOf('StartDealSaga');
    expect(starter.AMENDMENT_STATE_MACHINE_ARN).toEqual({ Ref: machineId });
    expect(starter.SALESFORCE_AMENDMENT_OF_FIELD).toBe(config.salesforce.amendmentOfField);
  });

  it('declares the fields that name the amended deal in the local CRM twins', () => {
    const { salesforce, hubspot } = devConfig();
    expect(crmTwinCustomFields.salesforce.Opportunity).toContain(salesforce.amendmentOfField);
    expect(crmTwinCustomFields.hubspot.deals).toContain(hubspot.amendmentOfProperty);
  });

  it('refuses at synth a proration behaviour Stripe does not have, and a field that is not an API name', () => {
    const stages = JSON.parse(JSON.stringify({ dev: devConfig() }));
    stages.dev.amendment = { prorationBehavior: 'prorate' };
    stages.dev.salesforce.amendmentOfField = 'Amended Opportunity';
    expect(() => loadStageConfig('dev', stages)).toThrow(
      /salesforce\.amendmentOfField: an API name[\s\S]*amendment\.prorationBehavior/,
    );
  });
});
