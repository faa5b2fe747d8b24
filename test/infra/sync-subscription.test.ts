import { Match } from 'aws-cdk-lib/assertions';
import { crmTwinCustomFields } from '../../local/config';
import { devConfig, synthStack } from '../support/synth';
import { configErrorOf, referencedIds, templateQueries } from '../support/template';

const { template } = synthStack();
const { resources, ofType, idOf, statementsOfFunction } = templateQueries(template);
const fnId = idOf('SyncSubscription', 'AWS::Lambda::Function');
const statements = statementsOfFunction('SyncSubscription');
const { Variables: environment } = (resources[fnId]?.Properties?.Environment ?? { Variables: {} }) as {
  Variables: Record<string, unknown>;
};

describe('the subscription change flow in the stack', () => {
  it('routes changed and canceled Stripe subscriptions to its queue, which feeds its function', () => {
    const queueId = ofType('AWS::SQS::Queue').find(
      ([id]) =>
        id.startsWith('SyncSubscriptionConsumer') && !id.includes('Dlq') && !id.includes('DeadLetter'),
    )?.[0];
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['revbridge.stripe'],
        'detail-type': ['billing.subscription.updated', 'billing.subscription.canceled'],
      },
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SyncSubscription'), 'Arn'] } }),
      ],
    });
    expect(queueId).toMatch(/^SyncSubscriptionConsumerQueue/);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('gives the function the catalog and the CRM field names of the stage, as JSON', () => {
    const mapping = JSON.parse(String(environment.SUBSCRIPTION_SYNC_MAPPING)) as Record<string, unknown>;
    const config = devConfig();
    expect(mapping).toEqual({ catalog: config.quoteToCash.catalog, ...config.subscriptionSync });
  });

  it('lets the function read the links but never write them, and use only the four vendor API secrets', () => {
    const links = idOf('Links', 'AWS::DynamoDB::Table');
    const onLinks = statements
      .filter((s) => referencedIds(s.Resource).has(links))
      .flatMap((s) => [s.Action].flat());
    expect(onLinks.sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem']);
    const secrets = [...referencedIds(statements)].filter(
      (id) => resources[id]?.Type === 'AWS::SecretsManager::Secret',
    );
    expect(secrets.sort()).toEqual(
      ['StripeApiKey', 'NetSuiteCredentials', 'SalesforceAccessToken', 'HubSpotAccessToken']
        .map((name) => idOf(name, 'AWS::SecretsManager::Secret'))
        .sort(),
    );
  });
});

describe('the subscription change configuration', () => {
  const stages = () =>
    JSON.parse(JSON.stringify({ dev: devConfig() })) as {
      dev: Record<string, unknown> & { subscriptionSync: Record<string, unknown> };
    };

  it('names a field that is not an API name, a property that is not an internal name and a non-column date field', () => {
    const broken = stages();
    broken.dev.subscriptionSync = {
      salesforce: { statusField: 'Account.Status__c', contractValueField: 'Contract_Value__c' },
      hubspot: { statusProperty: 'Subscription Status', contractValueProperty: 'revbridge_contract_value' },
      effectiveDateField: 'effective_date',
    };
    const message = configErrorOf('dev', broken);
    expect(message).toContain('subscriptionSync.salesforce.statusField: a field API name');
    expect(message).toContain('subscriptionSync.hubspot.statusProperty: a HubSpot property internal name');
    expect(message).toContain('subscriptionSync.effectiveDateField: a NetSuite transaction column id');
  });

  it('declares in the local CRM twins every field the dev stage writes', () => {
    const { salesforce, hubspot } = devConfig().subscriptionSync;
    const nameOf = (spec: string | { name: string }) => (typeof spec === 'string' ? spec : spec.name);
    const opportunity = crmTwinCustomFields.salesforce.Opportunity.map(nameOf);
    expect(opportunity).toEqual(
      expect.arrayContaining([salesforce.statusField, salesforce.contractValueField]),
    );
    const deals = crmTwinCustomFields.hubspot.deals.map(nameOf);
    expect(deals).toEqual(expect.arrayContaining([hubspot.statusProperty, hubspot.contractValueProperty]));
  });
});
