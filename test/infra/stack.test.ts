import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { ConfigError, loadStageConfig } from '../../lib/config';
import { devConfig, synthStack } from '../support/synth';
import { referencedIds } from '../support/template';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

const { template, outdir, stack } = synthStack();
const resources = template.toJSON().Resources as Resources;
const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
const FOURTEEN_DAYS = 14 * 24 * 60 * 60;

/** The stack's flows as the template names them: the logical ids of each one's function and queue. */
const logicalIdIn = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);
const flows = stack.flows.map((flow) => ({
  flow,
  fnId: logicalIdIn(flow.fn),
  queueId: logicalIdIn(flow.consumer.queue),
}));

const logicalIdOf = (pathPart: string, type: string): string => {
  const match = ofType(type).find(([id]) => id.startsWith(pathPart));
  if (!match) throw new Error(`no ${type} whose id starts with ${pathPart}`);
  return match[0];
};

const dlqIds = new Set<string>();
for (const [, queue] of ofType('AWS::SQS::Queue')) {
  const redrive = queue.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined;
  for (const id of referencedIds(redrive?.deadLetterTargetArn)) dlqIds.add(id);
}
for (const [, rule] of ofType('AWS::Events::Rule')) {
  for (const target of (rule.Properties?.Targets as { DeadLetterConfig?: { Arn?: unknown } }[]) ?? []) {
    for (const id of referencedIds(target.DeadLetterConfig?.Arn)) dlqIds.add(id);
  }
}

describe('the revbridge stack', () => {
  describe('queues', () => {
    it('has DLQs to check', () => {
      expect(dlqIds.size).toBeGreaterThanOrEqual(2);
    });

    const stageReceives = devConfig().queues.maxReceiveCount;
    const receivesOfQueue = new Map(flows.map(({ queueId, flow }) => [queueId, flow.maxReceiveCount]));

    it("finds every flow's queue in the template, some flows asking for more receives than the stage's", () => {
      expect(flows.length).toBeGreaterThan(0);
      for (const { queueId } of flows) expect(resources[queueId]?.Type).toBe('AWS::SQS::Queue');
      expect(flows.filter(({ flow }) => flow.maxReceiveCount !== stageReceives).length).toBeGreaterThan(0);
    });

    it.each(ofType('AWS::SQS::Queue').map(([id]) => id))(
      '%s is a DLQ or has one, with 14-day retention',
      (id) => {
        const queue = resources[id];
        const isDlq = dlqIds.has(id);
        // A flow that may wait for another flow's record (a payment or credit note for its invoice, a
        // void for its memo) asks for 10 receives; the others have the stage's 5.
        const receives = receivesOfQueue.get(id) ?? stageReceives;
        expect([stageReceives, 10]).toContain(receives);
        if (!isDlq) expect(queue?.Properties?.RedrivePolicy).toMatchObject({ maxReceiveCount: receives });
        expect(queue?.Properties?.MessageRetentionPeriod).toBe(FOURTEEN_DAYS);
        expect(queue?.Properties?.SqsManagedSseEnabled).toBe(true);
      },
    );

    it.each([...dlqIds])('DLQ %s raises an alarm on its first message', (id) => {
      const alarms = ofType('AWS::CloudWatch::Alarm').filter(([, alarm]) => {
        const dims = alarm.Properties?.Dimensions as { Value: unknown }[] | undefined;
        return (
          alarm.Properties?.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          (dims ?? []).some((dim) => referencedIds(dim.Value).has(id))
        );
      });
      expect(alarms).toHaveLength(1);
      expect(alarms[0]?.[1].Properties).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    });

    it('alarms on the age of the oldest message of every consumer queue', () => {
      const consumerQueues = ofType('AWS::SQS::Queue').filter(([id]) => !dlqIds.has(id));
      for (const [id] of consumerQueues) {
        const ageAlarms = ofType('AWS::CloudWatch::Alarm').filter(
          ([, alarm]) =>
            alarm.Properties?.MetricName === 'ApproximateAgeOfOldestMessage' &&
            referencedIds(alarm.Properties?.Dimensions).has(id),
        );
        expect(ageAlarms).toHaveLength(1);
      }
    });

    it('rejects non-TLS access to every queue', () => {
      for (const [id] of ofType('AWS::SQS::Queue')) {
        const policies = ofType('AWS::SQS::QueuePolicy').filter(([, policy]) =>
          referencedIds(policy.Properties?.Queues).has(id),
        );
        expect(JSON.stringify(policies)).toContain('"aws:SecureTransport":"false"');
      }
    });
  });

  describe('event routing', () => {
    it('gives every rule target a dead-letter queue and a retry policy', () => {
      const rules = ofType('AWS::Events::Rule');
      expect(rules.length).toBeGreaterThan(0);
      for (const [, rule] of rules) {
        for (const target of (rule.Properties?.Targets ?? []) as Record<string, unknown>[]) {
          expect(target).toMatchObject({
            DeadLetterConfig: { Arn: expect.anything() },
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          });
        }
      }
    });

    it('routes finalized invoices from Stripe to the posting queue', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['revbridge.stripe'], 'detail-type': ['billing.invoice.finalized'] },
      });
    });

    it('routes paid invoices from Stripe to the cash application queue', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['revbridge.stripe'], 'detail-type': ['billing.invoice.paid'] },
      });
    });

    it('routes created and voided credit notes from Stripe to the credit memo queue, and nothing else', () => {
      const [ruleId, rule] =
        ofType('AWS::Events::Rule').find(([, candidate]) =>
          JSON.stringify(candidate.Properties?.EventPattern).includes('billing.credit_note.created'),
        ) ?? [];
      expect(rule?.Properties?.EventPattern).toEqual({
        source: ['revbridge.stripe'],
        'detail-type': ['billing.credit_note.created', 'billing.credit_note.voided'],
      });
      const targets = (rule?.Properties?.Targets ?? []) as { Arn: unknown }[];
      expect([...referencedIds(targets.map((target) => target.Arn))]).toEqual([
        expect.stringMatching(/^PostCreditMemoConsumerQueue/),
      ]);
      expect(ruleId).toMatch(/^EventsPostCreditMemoRule/);
    });

    it('archives every revbridge event for replay', () => {
      template.hasResourceProperties('AWS::Events::Archive', {
        EventPattern: { source: [{ prefix: 'revbridge.' }] },
        RetentionDays: 30,
      });
    });
  });

  describe('tables', () => {
    it.each(ofType('AWS::DynamoDB::Table').map(([id]) => id))(
      '%s is encrypted, on demand, with PITR',
      (id) => {
        expect(resources[id]?.Properties).toMatchObject({
          SSESpecification: { SSEEnabled: true },
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        });
      },
    );

    it('expires idempotency records through TTL', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      });
    });
  });

  describe('functions', () => {
    it.each(ofType('AWS::Lambda::Function').map(([id]) => id))(
      '%s runs nodejs22.x on arm64 with tracing and JSON logs',
      (id) => {
        expect(resources[id]?.Properties).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: { LogFormat: 'JSON' },
        });
      },
    );

    it('keeps every log group for a bounded time', () => {
      for (const [, group] of ofType('AWS::Logs::LogGroup')) {
        expect(group.Properties?.RetentionInDays).toBe(30);
      }
    });

    /** The functions that call NetSuite (they read its credentials) and the concurrency their queue drives. */
    const netsuiteConsumers = ofType('AWS::Lambda::EventSourceMapping')
      .map(([, mapping]) => {
        const [fnId] = [...referencedIds(mapping.Properties?.FunctionName)];
        const environment = resources[fnId ?? '']?.Properties?.Environment as
          | { Variables?: Record<string, unknown> }
          | undefined;
        const concurrency = (mapping.Properties?.ScalingConfig as { MaximumConcurrency?: number } | undefined)
          ?.MaximumConcurrency;
        return {
          fnId,
          callsNetSuite: environment?.Variables?.NETSUITE_BASE_URL !== undefined,
          concurrency,
          mapping,
        };
      })
      .filter((consumer) => consumer.callsNetSuite);

    it('finds the queue consumers that call NetSuite, and only the flows that say they do', () => {
      const callers = flows.filter(({ flow }) => flow.callsNetSuite).map(({ fnId }) => fnId);
      expect(callers.length).toBeGreaterThan(0);
      expect(netsuiteConsumers.map((consumer) => consumer.fnId).sort()).toEqual(callers.sort());
    });

    it('drains every NetSuite queue with partial batch failures, able to use the whole account', () => {
      for (const { mapping, concurrency } of netsuiteConsumers) {
        expect(mapping.Properties).toMatchObject({
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          BatchSize: 10,
        });
        expect(concurrency).toBe(2 * devConfig().netsuite.concurrencyLimit);
      }
    });

    it('keeps every function that calls NetSuite within the account limit through the shared leases', () => {
      const callers = ofType('AWS::Lambda::Function').filter(
        ([, fn]) =>
          (fn.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables
            ?.NETSUITE_BASE_URL !== undefined,
      );
      expect(callers.length).toBeGreaterThanOrEqual(netsuiteConsumers.length);
      const leasesTable = logicalIdOf('ConcurrencyLeasesTable', 'AWS::DynamoDB::Table');
      for (const [, fn] of callers) {
        expect(
          (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables,
        ).toMatchObject({
          CONCURRENCY_LEASES_TABLE_NAME: { Ref: leasesTable },
          NETSUITE_CONCURRENCY_LIMIT: String(devConfig().netsuite.concurrencyLimit),
        });
      }
    });

    it('gives the posting queue a visibility timeout six times the function timeout', () => {
      const fn = resources[logicalIdOf('PostInvoice', 'AWS::Lambda::Function')];
      const timeout = fn?.Properties?.Timeout as number;
      template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: timeout * 6 });
    });
  });

  describe('least privilege', () => {
    const policyOfFunction = (prefix: string) => {
      const fn = resources[logicalIdOf(prefix, 'AWS::Lambda::Function')];
      const roleId = [...referencedIds(fn?.Properties?.Role)][0] ?? '';
      const policies = ofType('AWS::IAM::Policy').filter(([, policy]) =>
        referencedIds(policy.Properties?.Roles).has(roleId),
      );
      const statements = policies.flatMap(
        ([, policy]) =>
          (
            (policy.Properties?.PolicyDocument ?? { Statement: [] }) as {
              Statement: Record<string, unknown>[];
            }
          ).Statement,
      );
      return { roleId, statements, touched: referencedIds(statements) };
    };

    it('uses no AWS managed policy on any function role', () => {
      for (const [, role] of ofType('AWS::IAM::Role'))
        expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    });

    it('lets the Stripe ingest function touch only the bus, its secret and its logs', () => {
      const { touched } = policyOfFunction('IngestStripe');
      const kinds = [...touched].map((id) => resources[id]?.Type).sort();
      expect(kinds).toEqual(['AWS::Events::EventBus', 'AWS::Logs::LogGroup', 'AWS::SecretsManager::Secret']);
      expect(touched.has(logicalIdOf('StripeWebhookSecret', 'AWS::SecretsManager::Secret'))).toBe(true);
    });

    it('lets the posting function touch only its tables, queue, bus, secret and logs', () => {
      const { touched } = policyOfFunction('PostInvoice');
      expect(touched.has(logicalIdOf('StripeWebhookSecret', 'AWS::SecretsManager::Secret'))).toBe(false);
      expect(touched.has(logicalIdOf('NetSuiteCredentials', 'AWS::SecretsManager::Secret'))).toBe(true);
      const kinds = new Set([...touched].map((id) => resources[id]?.Type));
      expect([...kinds].sort()).toEqual([
        'AWS::DynamoDB::Table',
        'AWS::Events::EventBus',
        'AWS::Logs::LogGroup',
        'AWS::SQS::Queue',
        'AWS::SecretsManager::Secret',
      ]);
    });

    it('lets the payment function touch only its tables, queue, bus, NetSuite secret and logs', () => {
      const { touched } = policyOfFunction('ApplyPayment');
      expect(touched.has(logicalIdOf('StripeWebhookSecret', 'AWS::SecretsManager::Secret'))).toBe(false);
      expect(touched.has(logicalIdOf('NetSuiteCredentials', 'AWS::SecretsManager::Secret'))).toBe(true);
      const kinds = new Set([...touched].map((id) => resources[id]?.Type));
      expect([...kinds].sort()).toEqual([
        'AWS::DynamoDB::Table',
        'AWS::Events::EventBus',
        'AWS::Logs::LogGroup',
        'AWS::SQS::Queue',
        'AWS::SecretsManager::Secret',
      ]);
    });

    it('lets the credit memo function touch only its tables, queue, bus, NetSuite and Stripe API secrets and logs', () => {
      const { touched } = policyOfFunction('PostCreditMemo');
      expect(touched.has(logicalIdOf('StripeWebhookSecret', 'AWS::SecretsManager::Secret'))).toBe(false);
      expect(touched.has(logicalIdOf('SalesforceAccessToken', 'AWS::SecretsManager::Secret'))).toBe(false);
      expect(touched.has(logicalIdOf('NetSuiteCredentials', 'AWS::SecretsManager::Secret'))).toBe(true);
      expect(touched.has(logicalIdOf('StripeApiKey', 'AWS::SecretsManager::Secret'))).toBe(true);
      const kinds = new Set([...touched].map((id) => resources[id]?.Type));
      expect([...kinds].sort()).toEqual([
        'AWS::DynamoDB::Table',
        'AWS::Events::EventBus',
        'AWS::Logs::LogGroup',
        'AWS::SQS::Queue',
        'AWS::SecretsManager::Secret',
      ]);
    });

    it('never grants a wildcard action', () => {
      for (const [, policy] of ofType('AWS::IAM::Policy')) {
        const statements = (
          (policy.Properties?.PolicyDocument ?? { Statement: [] }) as {
            Statement: { Action: string | string[] }[];
          }
        ).Statement;
        for (const statement of statements) {
          for (const action of [statement.Action].flat()) expect(action).not.toMatch(/\*$/);
        }
      }
    });
  });

  describe('webhook API', () => {
    const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
    const routeKeys = () => byType('AWS::ApiGatewayV2::Route').map(([, r]) => String(r.Properties?.RouteKey));
    /** The function logical id a route's integration invokes, and the integration's properties. */
    const integrationOf = (routeKey: string) => {
      const [, route] =
        byType('AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties?.RouteKey === routeKey) ?? [];
      const target = route?.Properties?.Target as { 'Fn::Join': [string, unknown[]] } | undefined;
      const integrationId = (target?.['Fn::Join'][1][1] as { Ref?: string } | undefined)?.Ref ?? '';
      const props = resources[integrationId]?.Properties ?? {};
      const uri = props.IntegrationUri as { 'Fn::GetAtt'?: [string, string] } | undefined;
      return { functionId: uri?.['Fn::GetAtt']?.[0], props };
    };

    it('is an HTTP API (v2), not a REST API', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
      template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    });

    it('serves the $default stage, so the event path is the route path, throttled per route and access-logged', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
        AccessLogSettings: {
          DestinationArn: Match.anyValue(),
          Format: Match.stringLikeRegexp('\\$context\\.routeKey'),
        },
      });
    });

    it('routes each vendor by POST to its ingest function, with payload format 1.0 (the REST API proxy event)', () => {
      expect(routeKeys().sort()).toEqual([
        'POST /webhooks/hubspot',
        'POST /webhooks/salesforce/{token}',
        'POST /webhooks/stripe',
      ]);
      for (const [routeKey, functionPrefix] of [
        ['POST /webhooks/stripe', 'IngestStripe'],
        ['POST /webhooks/hubspot', 'IngestHubspot'],
        ['POST /webhooks/salesforce/{token}', 'IngestSalesforce'],
      ] as const) {
        const { functionId, props } = integrationOf(routeKey);
        expect({
          routeKey,
          functionId,
          type: props.IntegrationType,
          format: props.PayloadFormatVersion,
        }).toEqual({
          routeKey,
          functionId: expect.stringMatching(new RegExp(`^${functionPrefix}[A-F0-9]{8}$`)),
          type: 'AWS_PROXY',
          format: '1.0',
        });
      }
    });

    it('lets the API invoke each ingest function only through its own route', () => {
      for (const [, permission] of byType('AWS::Lambda::Permission').filter(
        ([, p]) => p.Properties?.Principal === 'apigateway.amazonaws.com',
      )) {
        const sourceArn = JSON.stringify(permission.Properties?.SourceArn);
        expect(sourceArn).toMatch(/\/\*\/\*\/webhooks\/(stripe|hubspot|salesforce\/\{token\})"/);
      }
    });

    it('gives HubSpot the base URL it signs, without a stage segment', () => {
      const [, hubspot] =
        byType('AWS::Lambda::Function').find(([id]) => id.startsWith('IngestHubspot')) ?? [];
      const variables =
        (hubspot?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
          ?.Variables ?? {};
      const base = variables.HUBSPOT_WEBHOOK_BASE_URL as { 'Fn::Join': [string, unknown[]] };
      // `https://<api id>.execute-api.<region>.<url suffix>`: the path HubSpot signs follows as `event.path`.
      expect(base['Fn::Join'][1][0]).toBe('https://');
      expect(base['Fn::Join'][1].at(-1)).toEqual({ Ref: 'AWS::URLSuffix' });
    });
  });

  describe('Salesforce outbound messages', () => {
    const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
    it('are routed only at /webhooks/salesforce/{token}, so a request without the token never reaches a function', () => {
      const salesforce = byType('AWS::ApiGatewayV2::Route')
        .map(([, r]) => String(r.Properties?.RouteKey))
        .filter((key) => key.includes('salesforce'));
      expect(salesforce).toEqual(['POST /webhooks/salesforce/{token}']);
      // No catch-all route would take a tokenless request to a function instead of the gateway's 404.
      expect(
        byType('AWS::ApiGatewayV2::Route').filter(([, r]) =>
          /^\$default$|\{proxy\+\}/.test(String(r.Properties?.RouteKey)),
        ),
      ).toEqual([]);
    });

    it('are checked against a token Secrets Manager generates, which only the Salesforce ingest may read', () => {
      const [tokenId, token] =
        byType('AWS::SecretsManager::Secret').find(([id]) => id.startsWith('SalesforcePathToken')) ?? [];
      expect(token?.Properties?.GenerateSecretString).toEqual(
        expect.objectContaining({ PasswordLength: 48, ExcludePunctuation: true }),
      );
      const readers = byType('AWS::IAM::Policy').filter(([, policy]) =>
        JSON.stringify(policy.Properties?.PolicyDocument).includes(`"Ref":"${tokenId}"`),
      );
      expect(readers.map(([id]) => id.replace(/[A-F0-9]{8}$/, ''))).toEqual([
        expect.stringMatching(/^IngestSalesforceRoleDefaultPolicy/),
      ]);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({ SALESFORCE_PATH_TOKEN_SECRET_ID: { Ref: tokenId } }),
        },
      });
    });
  });

  describe('business alarms', () => {
    it.each([
      ['post-invoice', 'InvoicePostingFailed'],
      ['apply-payment', 'PaymentApplicationFailed'],
      ['post-credit-memo', 'CreditMemoPostingFailed'],
      ['ingest-stripe', 'WebhooksRejected'],
      ['ingest-salesforce', 'WebhooksRejected'],
      ['ingest-hubspot', 'WebhooksRejected'],
    ])('alarms on %s %s', (service, metricName) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'RevBridge',
        MetricName: metricName,
        Dimensions: [{ Name: 'service', Value: service }],
      });
    });

    it('shows every alarm of the stack on the dashboard', () => {
      const [, dashboard] = ofType('AWS::CloudWatch::Dashboard')[0] ?? [];
      const shown = referencedIds(dashboard?.Properties?.DashboardBody);
      const alarmIds = ofType('AWS::CloudWatch::Alarm').map(([id]) => id);
      expect(alarmIds.length).toBeGreaterThan(10);
      expect(alarmIds.filter((id) => !shown.has(id))).toEqual([]);
    });

    it('alarms when the invoice sync latency p99 passes its objective', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'SyncLatency',
        ExtendedStatistic: 'p99',
        Threshold: devConfig().syncLatencyObjectiveSeconds * 1000,
      });
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: {
        pluginName: string;
        conclusion: string;
        violations: unknown[];
        suppressedViolations: { ruleName: string; reason?: string }[];
      }[];
    };
    const nag = report.pluginReports.find((plugin) => plugin.pluginName === 'AwsSolutions');

    it('has no unsuppressed finding', () => {
      expect(nag?.violations).toEqual([]);
      expect(nag?.conclusion).toBe('success');
    });

    it('gives every suppression a reason of substance', () => {
      expect(nag?.suppressedViolations.length).toBeGreaterThan(0);
      for (const suppressed of nag?.suppressedViolations ?? []) {
        expect(suppressed.reason?.length ?? 0).toBeGreaterThan(40);
      }
    });
  });
});

describe('stage configuration', () => {
  it('loads the dev stage from cdk.json', () => {
    expect(devConfig().stage).toBe('dev');
  });

  it('lists every problem at once, with its path', () => {
    const stages = {
      broken: {
        ...devConfig(),
        stage: undefined,
        queues: { maxReceiveCount: 0 },
        stripe: { accountId: 'nope' },
      },
    };
    let message = '';
    try {
      loadStageConfig('broken', stages);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain('queues.maxReceiveCount');
    expect(message).toContain('queues.batchSize');
    expect(message).toContain('stripe.accountId');
  });

  it('names the stages it has when asked for an unknown one', () => {
    expect(() => loadStageConfig('prod', { dev: {} })).toThrow(
      /no configuration for stage "prod".*have: dev/,
    );
  });
});

describe('the reconciliation flow', () => {
  const config = devConfig().reconciliation;

  it('runs on the schedule of the stage configuration', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression:
        config.scheduleMinutes % 60 === 0
          ? `rate(${config.scheduleMinutes / 60} hour${config.scheduleMinutes === 60 ? '' : 's'})`
          : `rate(${config.scheduleMinutes} minutes)`,
      Targets: Match.arrayWith([Match.objectLike({ Input: JSON.stringify({ scheduled: true }) })]),
    });
  });

  it('alarms while the last run found differences', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ReconciliationOpenDifferences',
      Namespace: 'RevBridge',
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('routes replayed differences to the re-drive flow, which may forget a link and nothing more', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['revbridge.revbridge'], 'detail-type': ['ops.reconciliation.difference'] },
    });
    // Only the re-drive may delete from the links table (the idempotency records are every consumer's).
    const linkDeleters = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      (
        (policy.Properties?.PolicyDocument.Statement ?? []) as {
          Action: string | string[];
          Resource: unknown;
        }[]
      ).some(
        (statement) =>
          [statement.Action].flat().includes('dynamodb:DeleteItem') &&
          JSON.stringify(statement.Resource).includes('LinksTable'),
      ),
    );
    expect(linkDeleters.map((policy) => policy.Properties?.PolicyName)).toEqual([
      expect.stringMatching(/^ReconciliationRedrive/),
    ]);
  });

  it('names its function in the stack outputs for the operator CLI', () => {
    template.hasOutput('ReconciliationFunctionName', { Value: Match.anyValue() });
  });
});
