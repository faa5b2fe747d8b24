import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { ConfigError, loadStageConfig } from '../../lib/config';
import { crmTwinCustomFields, stripeCatalogSeed } from '../../local/config';
import { devConfig, synthStack } from '../support/synth';
import { referencedIds } from '../support/template';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Statement = { Action: string | string[]; Resource: unknown };

const { template } = synthStack();
const resources = template.toJSON().Resources as Record<string, Resource>;
const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
const idOf = (prefix: string, type: string): string => {
  const found = ofType(type).find(([id]) => id.startsWith(prefix));
  if (!found) throw new Error(`no ${type} ${prefix}`);
  return found[0];
};

const statementsOfRole = (roleId: string): Statement[] =>
  ofType('AWS::IAM::Policy')
    .filter(([, policy]) => referencedIds(policy.Properties?.Roles).has(roleId))
    .flatMap(
      ([, policy]) =>
        ((policy.Properties?.PolicyDocument ?? { Statement: [] }) as { Statement: Statement[] }).Statement,
    );

const functionRole = (prefix: string) =>
  [...referencedIds(resources[idOf(prefix, 'AWS::Lambda::Function')]?.Properties?.Role)][0] ?? '';

const kindsTouched = (statements: Statement[]) =>
  [...new Set([...referencedIds(statements)].map((id) => resources[id]?.Type))].sort();

const stateMachineId = idOf('QuoteToCashStateMachine', 'AWS::StepFunctions::StateMachine');
const stateMachine = resources[stateMachineId]?.Properties ?? {};

describe('the quote-to-cash workflow', () => {
  it('is a Standard state machine defined inline from the ASL file, with its ARNs substituted', () => {
    const file = readFileSync(
      path.join(__dirname, '..', '..', 'statemachines', 'quote-to-cash.asl.json'),
      'utf8',
    );
    expect(stateMachine.StateMachineType).toBe('STANDARD');
    expect(stateMachine.DefinitionString).toBe(file);
    expect(stateMachine.DefinitionSubstitutions).toEqual({
      StepsFunctionArn: { 'Fn::GetAtt': [idOf('QuoteToCashSteps', 'AWS::Lambda::Function'), 'Arn'] },
      EventBusName: { Ref: idOf('EventsBus', 'AWS::Events::EventBus') },
    });
  });

  it('logs every event without execution data to a log group with retention, and traces with X-Ray', () => {
    expect(stateMachine.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(stateMachine.TracingConfiguration).toEqual({ Enabled: true });
    const [logGroupId] = [...referencedIds(stateMachine.LoggingConfiguration)];
    expect(resources[logGroupId ?? '']?.Properties).toMatchObject({
      RetentionInDays: devConfig().logRetentionDays,
    });
  });

  it('may invoke only its steps function and put events only on the revbridge bus', () => {
    const statements = statementsOfRole([...referencedIds(stateMachine.RoleArn)][0] ?? '');
    const invoke = statements.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
    expect([...referencedIds(invoke)]).toEqual([idOf('QuoteToCashSteps', 'AWS::Lambda::Function')]);
    const put = statements.filter((s) => [s.Action].flat().includes('events:PutEvents'));
    expect([...referencedIds(put)]).toEqual([idOf('EventsBus', 'AWS::Events::EventBus')]);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => !/^(lambda:InvokeFunction|events:PutEvents|logs:|xray:)/.test(a))).toEqual(
      [],
    );
  });

  it('alarms on failed and on timed-out executions', () => {
    for (const metricName of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metricName,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineId } }],
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('routes won deals from both CRMs to the saga starter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['revbridge.salesforce', 'revbridge.hubspot'],
        'detail-type': ['crm.deal.won'],
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [idOf('StartDealSagaConsumerQueue', 'AWS::SQS::Queue'), 'Arn'] },
        }),
      ],
    });
  });

  it('lets the starter read the CRMs, start this state machine and nothing else', () => {
    const statements = statementsOfRole(functionRole('StartDealSaga'));
    expect(kindsTouched(statements)).toEqual([
      'AWS::DynamoDB::Table',
      'AWS::Events::EventBus',
      'AWS::Logs::LogGroup',
      'AWS::SQS::Queue',
      'AWS::SecretsManager::Secret',
      'AWS::StepFunctions::StateMachine',
    ]);
    const secrets = [...referencedIds(statements)].filter(
      (id) => resources[id]?.Type === 'AWS::SecretsManager::Secret',
    );
    expect(secrets.sort()).toEqual(
      [
        idOf('SalesforceAccessToken', 'AWS::SecretsManager::Secret'),
        idOf('HubSpotAccessToken', 'AWS::SecretsManager::Secret'),
      ].sort(),
    );
    const start = statements.filter((s) => [s.Action].flat().includes('states:StartExecution'));
    expect([...referencedIds(start)]).toEqual([stateMachineId]);
  });

  it('lets the steps function use the saga vendor secrets, the links and exceptions tables and the bus only', () => {
    const statements = statementsOfRole(functionRole('QuoteToCashSteps'));
    expect(kindsTouched(statements)).toEqual([
      'AWS::DynamoDB::Table',
      'AWS::Events::EventBus',
      'AWS::Logs::LogGroup',
      'AWS::SecretsManager::Secret',
    ]);
    const touched = referencedIds(statements);
    expect(touched.has(idOf('Idempotency', 'AWS::DynamoDB::Table'))).toBe(false);
    expect(touched.has(idOf('StripeWebhookSecret', 'AWS::SecretsManager::Secret'))).toBe(false);
    for (const secret of [
      'StripeApiKey',
      'NetSuiteCredentials',
      'SalesforceAccessToken',
      'HubSpotAccessToken',
    ]) {
      expect(touched.has(idOf(secret, 'AWS::SecretsManager::Secret'))).toBe(true);
    }
  });
});

describe('the quote-to-cash configuration', () => {
  const stages = () =>
    JSON.parse(JSON.stringify({ dev: devConfig() })) as {
      dev: Record<string, unknown> & { quoteToCash: Record<string, unknown> };
    };

  it('names every mapping problem at synth, with its path', () => {
    const broken = stages();
    broken.dev.quoteToCash = {
      catalog: {
        PLATFORM: { netsuiteItemId: '200', stripeLookupKeys: { JPY: 'platform_jpy', USD: 'shared' } },
        SEAT: { netsuiteItemId: '101', stripeLookupKeys: { USD: 'shared' } },
      },
      subsidiaries: { US: { netsuiteSubsidiaryId: '1', currencies: ['USD', 'AUD'], requireTaxId: false } },
      defaultSubsidiaryByCurrency: { USD: 'US', GBP: 'UK', EUR: 'US' },
    };
    let message = '';
    try {
      loadStageConfig('dev', broken);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message.split('\n').slice(1)).toEqual([
      '  - quoteToCash.catalog.PLATFORM.netsuiteItemId: is the tax or adjustment item, not a product',
      '  - quoteToCash.catalog.PLATFORM.stripeLookupKeys.JPY: currency JPY has no NetSuite id in netsuite.currencyIds',
      '  - quoteToCash.catalog.SEAT.stripeLookupKeys.USD: lookup key "shared" is already used by PLATFORM USD',
      '  - quoteToCash.subsidiaries.US.currencies.1: currency AUD has no NetSuite id in netsuite.currencyIds',
      '  - quoteToCash.defaultSubsidiaryByCurrency.GBP: names subsidiary "UK", which is not in quoteToCash.subsidiaries',
      '  - quoteToCash.defaultSubsidiaryByCurrency.EUR: subsidiary "US" does not sell in EUR',
    ]);
  });

  it('rejects a malformed catalog field by field', () => {
    const broken = stages();
    broken.dev.quoteToCash = {
      catalog: { X: { netsuiteItemId: '', stripeLookupKeys: {} } },
      subsidiaries: {},
      defaultSubsidiaryByCurrency: { usd: 'US' },
    };
    expect(() => loadStageConfig('dev', broken)).toThrow(
      /quoteToCash\.catalog\.X\.netsuiteItemId[\s\S]*quoteToCash\.catalog\.X\.stripeLookupKeys: at least one currency[\s\S]*quoteToCash\.subsidiaries: at least one subsidiary/,
    );
  });

  it('refuses a mapping too large for the function environment (4 KB in all)', () => {
    const large = stages();
    large.dev.quoteToCash = {
      ...large.dev.quoteToCash,
      catalog: Object.fromEntries(
        Array.from({ length: 30 }, (_, i) => [
          `PRODUCT-${i}`,
          { netsuiteItemId: '100', stripeLookupKeys: { USD: `product_${i}_monthly_usd` } },
        ]),
      ),
    };
    expect(() => loadStageConfig('dev', large)).toThrow(
      /quoteToCash: is \d+ bytes as JSON, over the 1500-byte share/,
    );
  });

  it('is seeded in the local Stripe twin: every dev lookup key has a price in its currency', () => {
    const seeded = new Map(
      stripeCatalogSeed.flatMap((p) => p.prices.map((price) => [price.lookupKey, price.currency])),
    );
    for (const product of Object.values(devConfig().quoteToCash.catalog)) {
      for (const [currency, lookupKey] of Object.entries(product.stripeLookupKeys)) {
        expect(seeded.get(lookupKey)).toBe(currency.toLowerCase());
      }
    }
  });

  it('declares in the local CRM twins every field the dev stage reads and writes', () => {
    const { salesforce, hubspot } = devConfig();
    const nameOf = (spec: string | { name: string }) => (typeof spec === 'string' ? spec : spec.name);
    const accountFields = crmTwinCustomFields.salesforce.Account.map(nameOf);
    for (const field of [
      salesforce.accountTaxIdField,
      salesforce.accountEmailField,
      salesforce.subsidiaryField?.replace(/^Account\./, ''),
    ]) {
      if (field) expect(accountFields).toContain(field);
    }
    const companyProperties = crmTwinCustomFields.hubspot.companies.map(nameOf);
    for (const property of [
      hubspot.companyTaxIdProperty,
      hubspot.companyEmailProperty,
      hubspot.subsidiaryProperty?.replace(/^company\./, ''),
    ]) {
      if (property) expect(companyProperties).toContain(property);
    }
  });
});
