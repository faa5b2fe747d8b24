import { devConfig, synthStack } from '../support/synth';
import { referencedIds, type Statement, templateQueries } from '../support/template';

const { template } = synthStack();
const { resources, ofType, idOf, statementsOfFunction } = templateQueries(template);

const dunningFunction = resources[idOf('FlagDunning', 'AWS::Lambda::Function')];
const statements: Statement[] = statementsOfFunction('FlagDunning');
const actionsOn = (resourceId: string): string[] =>
  statements
    .filter((statement) => referencedIds(statement.Resource).has(resourceId))
    .flatMap((statement) => [statement.Action].flat())
    .sort();

/** The queue a rule with this detail type sends to. */
const queueOfRule = (detailType: string): string[] =>
  ofType('AWS::Events::Rule')
    .filter(([, rule]) =>
      (
        (rule.Properties?.EventPattern as { 'detail-type'?: string[] } | undefined)?.['detail-type'] ?? []
      ).includes(detailType),
    )
    .flatMap(([, rule]) =>
      ((rule.Properties?.Targets ?? []) as { Arn: unknown }[]).flatMap((target) => [
        ...referencedIds(target.Arn),
      ]),
    );

describe('the dunning flow in the stack', () => {
  it('routes failed payments and paid invoices from Stripe to the dunning queue', () => {
    const dunningQueue = idOf('FlagDunningConsumerQueue', 'AWS::SQS::Queue');
    expect(queueOfRule('billing.payment.failed')).toContain(dunningQueue);
    expect(queueOfRule('billing.invoice.paid')).toContain(dunningQueue);
  });

  it('passes the stage’s CRM field names to the function as DUNNING_MAPPING', () => {
    const { dunning } = devConfig();
    const environment =
      (dunningFunction?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables ?? {};
    expect(JSON.parse(String(environment.DUNNING_MAPPING))).toEqual({
      salesforce: {
        amountDue: dunning.salesforce.amountDueField,
        attemptCount: dunning.salesforce.attemptCountField,
        nextRetryDate: dunning.salesforce.nextRetryDateField,
        invoiceId: dunning.salesforce.invoiceIdField,
      },
      hubspot: {
        amountDue: dunning.hubspot.amountDueProperty,
        attemptCount: dunning.hubspot.attemptCountProperty,
        nextRetryDate: dunning.hubspot.nextRetryDateProperty,
        invoiceId: dunning.hubspot.invoiceIdProperty,
      },
    });
  });

  it('lets the function read the CRM tokens but no Stripe, NetSuite or webhook secret', () => {
    const secrets = (name: string) => actionsOn(idOf(name, 'AWS::SecretsManager::Secret')).length > 0;
    expect(secrets('SalesforceAccessToken')).toBe(true);
    expect(secrets('HubSpotAccessToken')).toBe(true);
    for (const name of ['StripeApiKey', 'StripeWebhookSecret', 'NetSuiteCredentials', 'HubSpotClientSecret'])
      expect(secrets(name)).toBe(false);
  });

  it('lets the function update exceptions (to resolve them) but never delete one', () => {
    const exceptions = idOf('ExceptionsTable', 'AWS::DynamoDB::Table');
    expect(actionsOn(exceptions)).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
  });

  it('keeps its dunning state in the links table with reads and conditional puts, without deletes', () => {
    const actions = actionsOn(idOf('LinksTable', 'AWS::DynamoDB::Table'));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem']));
    expect(actions.filter((action) => action.includes('Delete'))).toEqual([]);
  });

  it('alarms on a spike of failed payments at the stage’s threshold', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'RevBridge',
      MetricName: 'PaymentsFailed',
      Dimensions: [{ Name: 'service', Value: 'flag-dunning' }],
      Statistic: 'Sum',
      Threshold: devConfig().dunning.paymentsFailedSpike,
    });
  });

  it('alarms on the dunning queue’s DLQ', () => {
    const dlq = idOf('FlagDunningConsumerDlq', 'AWS::SQS::Queue');
    const alarmed = ofType('AWS::CloudWatch::Alarm').some(([, alarm]) =>
      JSON.stringify(alarm.Properties?.Dimensions ?? []).includes(dlq),
    );
    expect(alarmed).toBe(true);
  });
});
