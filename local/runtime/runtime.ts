import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BillingMeter, putEventsEntrySize, type Usage } from '../aws/billing-meter';
import { DynamoDbProxy } from '../aws/dynamodb-proxy';
import { type AwsFaultConfig, AwsFaults, parseAwsFaultConfig } from '../aws/faults';
import { jsonProtocolListener, readBody } from '../aws/json-protocol';
import { cloudFormationListener, isQueryRequest, type LocalStack } from '../cloudformation/service';
import { LocalCloudWatch } from '../cloudwatch';
import {
  crmTwinCustomFields,
  DEFAULT_PORTS,
  localSecrets,
  netsuiteConcurrencyLimit,
  netsuiteProcessingMs,
  PUBLIC_URL_VARIABLES,
  secretSeeds,
  type TwinName,
  VENDOR_URL_VARIABLES,
} from '../config';
import { consoleRoutes } from '../console/server';
import { buildTopology, type Topology } from '../console/topology';
import { EventBridgeEngine } from '../eventbridge/engine';
import { RuleScheduler, type ScheduleClock, systemClock } from '../eventbridge/schedule';
import { EventBridgeService } from '../eventbridge/service';
import { SecretsManagerService } from '../secretsmanager';
import { SqsEngine } from '../sqs/engine';
import { SqsService } from '../sqs/service';
import { installPromiseWithResolvers, StepFunctionsEngine, StepFunctionsService } from '../stepfunctions';
import { type HubSpotTwin, startHubSpotTwin } from '../twins/hubspot';
import { startNetSuiteTwin } from '../twins/netsuite';
import { type SalesforceTwin, startSalesforceTwin } from '../twins/salesforce';
import { type StripeTwin, startStripeTwin } from '../twins/stripe';
import { ApiServer, httpApiRoutes } from './api-server';
import { type LocalEnvironment, physicalResources, resolveValue } from './intrinsics';
import { type FunctionSpec, LambdaHost } from './lambda-host';
import { isLambdaInvoke, lambdaInvokeListener } from './lambda-invoke';
import { OperationsStatus } from './operations-status';
import { seedStripeCatalog } from './seed-stripe-catalog';
import { SqsPoller } from './sqs-poller';
import { type CfnResource, cdkPath, constructId, loadTemplate } from './template';
import { threadCpuMs } from './thread-cpu.mjs';

const optionalProcessing = (processingMs: { min: number; max: number } | undefined) =>
  processingMs ? { processingMs } : {};

export interface LocalRuntimeOptions {
  /** The cloud assembly `cdk synth` wrote. @default <project>/cdk.out */
  readonly assemblyDir?: string;
  readonly stackName?: string;
  /** API Gateway port; 0 picks a free one. @default 4000 */
  readonly apiPort?: number;
  /** Port of the AWS endpoint (SQS, EventBridge, Step Functions, Secrets Manager); 0 picks one. @default 4566 */
  readonly awsPort?: number;
  /** Port of DynamoDB (dynalite); 0 picks one. @default 0 */
  readonly dynamoPort?: number;
  /** Twin ports; 0 picks one. */
  readonly twinPorts?: Partial<Record<TwinName, number>>;
  /** Every port not given picks a free one (tests, the demo, the bench). @default false */
  readonly ephemeralPorts?: boolean;
  /** Seed for the twins' faults and ids. @default 1 */
  readonly seed?: number;
  /** Where function logs go, one file per function. @default <project>/.local-state/logs */
  readonly logDir?: string;
  /** 60 s alarm periods run as `60 * periodScale` s. @default 1/60 */
  readonly alarmPeriodScale?: number;
  /** Step Functions Wait and Retry intervals are multiplied by this. @default 1 */
  readonly waitTimeScale?: number;
  /** Environment for secrets and vendor credentials. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Progress lines (what started, what is not emulated). @default none */
  readonly log?: (line: string) => void;
  /** Seeded faults in the AWS emulators. @default `LOCAL_AWS_FAULTS` (JSON), else none */
  readonly awsFaults?: AwsFaultConfig;
  /** The clock scheduled rules fire by (a test passes a `ManualClock` and advances it). @default real time */
  readonly scheduleClock?: ScheduleClock;
}

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Resource types the runtime does not emulate, and why that is safe locally. */
const NOT_EMULATED: Readonly<Record<string, string>> = {
  'AWS::IAM::Role': 'permissions are not enforced locally (the infra tests check least privilege)',
  'AWS::IAM::Policy': 'permissions are not enforced locally (the infra tests check least privilege)',
  'AWS::SQS::QueuePolicy': 'queue policies are not evaluated locally',
  'AWS::Lambda::Permission': 'resource policies are not evaluated locally',
  'AWS::ApiGatewayV2::Deployment': 'the routes are served directly from the template',
  'AWS::CloudWatch::Dashboard': 'dashboards are shown by `npm run local -- status` instead',
  'AWS::CDK::Metadata': 'CDK bookkeeping',
};

const EMULATED = new Set([
  'AWS::SQS::Queue',
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Events::EventBus',
  'AWS::Events::Rule',
  'AWS::Events::Archive',
  'AWS::DynamoDB::Table',
  'AWS::SecretsManager::Secret',
  'AWS::StepFunctions::StateMachine',
  'AWS::CloudWatch::Alarm',
  'AWS::Logs::LogGroup',
  // Routes, their Lambda proxy integrations and the stage's name (local/runtime/api-server.ts); the
  // stage's throttling is not applied locally, its access log is modeled by the cost bench.
  'AWS::ApiGatewayV2::Api',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Stage',
]);

export interface TwinHandle {
  readonly name: TwinName;
  readonly url: string;
  close(): Promise<void>;
}

const listen = async (server: Server, port: number): Promise<number> => {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
};

/**
 * The whole synthesized stack in one process: resources are created from the template `cdk synth`
 * wrote, functions run from their bundled assets, and the AWS SDK clients inside them reach the
 * emulators through `AWS_ENDPOINT_URL`.
 */
export class LocalRuntime {
  sqs!: SqsEngine;
  readonly events: EventBridgeEngine;
  readonly stepFunctions: StepFunctionsEngine;
  readonly cloudwatch: LocalCloudWatch;
  secrets!: SecretsManagerService;
  readonly twins = new Map<TwinName, TwinHandle>();
  readonly netsuite: Awaited<ReturnType<typeof startNetSuiteTwin>> | undefined;
  stripe: StripeTwin | undefined;
  salesforce: SalesforceTwin | undefined;
  hubspot: HubSpotTwin | undefined;
  lambda!: LambdaHost;
  apiUrl = '';
  awsUrl = '';
  dynamoUrl = '';
  readonly tables: string[] = [];
  /** The started stack as CloudFormation DescribeStacks reports it (name, outputs). */
  stack: LocalStack | undefined;
  /** Exceptions and trails for `/_local/status`, through the operator's queries. */
  private readonly operations = new OperationsStatus(() => this.awsUrl);
  /** Faults injected into the AWS emulators; change them with `setAwsFaults` or `PUT /_local/faults`. */
  readonly awsFaults: AwsFaults;
  /** What AWS would bill for the requests served so far (`billing()` reads it, `resetBilling()` zeroes it). */
  readonly meter = new BillingMeter();
  private queueTimeSkippedMs = 0;
  private dynamoCpuMs = 0;
  /** The flows as the console draws them, read from the template at start. */
  topology: Topology = { routes: [], rules: [], consumers: [], stateMachines: [], vendorsOf: {} };
  private dynamoWorker: Worker | undefined;
  private socketDir = '';
  /** Local TCP ports that also answer on a Unix socket, for the functions' connections. */
  private readonly localSockets: Record<string, string> = {};
  readonly notEmulated: { logicalId: string; type: string; reason: string }[] = [];
  readonly startedAt = Date.now();
  startupMs = 0;

  private readonly pollers: SqsPoller[] = [];
  /** Fires the scheduled rules (local/eventbridge/schedule.ts). */
  readonly schedules: RuleScheduler;
  private readonly servers: Server[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly logStreams = new Map<string, WriteStream>();
  private api: ApiServer | undefined;
  private readonly log: (line: string) => void;

  private constructor(private readonly options: LocalRuntimeOptions) {
    this.log = options.log ?? (() => {});
    const faultsFromEnv = (options.env ?? process.env).LOCAL_AWS_FAULTS;
    this.awsFaults = new AwsFaults(
      options.awsFaults ?? (faultsFromEnv ? parseAwsFaultConfig(JSON.parse(faultsFromEnv)) : {}),
    );
    this.cloudwatch = new LocalCloudWatch({ periodScale: options.alarmPeriodScale ?? 1 / 60 });
    this.events = new EventBridgeEngine({
      region: REGION,
      accountId: ACCOUNT,
      deliver: (targetArn, payload, deadLetter) => this.deliver(targetArn, payload, deadLetter),
      warn: (line) => this.log(`eventbridge: ${line}`),
    });
    this.schedules = new RuleScheduler({
      clock: options.scheduleClock ?? systemClock,
      fire: (rule, atMs) => this.events.fireScheduledRule(rule, atMs),
      warn: (line) => this.log(`eventbridge: ${line}`),
    });
    installPromiseWithResolvers();
    this.stepFunctions = new StepFunctionsEngine({
      region: REGION,
      accountId: ACCOUNT,
      waitTimeScale: options.waitTimeScale ?? 1,
      meter: this.meter,
      invokeLambda: (fn, payload) => this.lambda.invokeOrThrow(fn, payload),
      putEvents: async (input) => {
        const entries = (input.Entries ?? []) as Record<string, unknown>[];
        this.meter.putEvents(entries.map(putEventsEntrySize), 'Step Functions');
        return (await this.events.putEvents(entries as never)) as never;
      },
    });
  }

  static async start(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
    const started = performance.now();
    const runtime = new LocalRuntime(options);
    try {
      await runtime.boot();
    } catch (error) {
      await runtime.stop();
      throw error;
    }
    runtime.startupMs = performance.now() - started;
    return runtime;
  }

  private async boot(): Promise<void> {
    const options = this.options;
    const assemblyDir = options.assemblyDir ?? path.join(PROJECT_ROOT, 'cdk.out');
    const { template, stackName } = loadTemplate(assemblyDir, options.stackName);

    // DynamoDB (dynalite) runs in its own thread on its own port: `AWS_ENDPOINT_URL_DYNAMODB`.
    this.socketDir = mkdtempSync(path.join(tmpdir(), 'revbridge-'));
    this.dynamoWorker = new Worker(path.join(__dirname, 'dynalite-worker.mjs'), {
      workerData: {
        port: options.dynamoPort ?? 0,
        socketPath: path.join(this.socketDir, 'dynamodb.sock'),
        faults: this.dynamoFaults(),
      },
    });
    const [{ port: dynamoPort }] = (await once(this.dynamoWorker, 'message')) as [{ port: number }];
    this.dynamoWorker.on('message', (message: { injected?: string }) => {
      if (message.injected) this.awsFaults.count(message.injected);
    });
    this.localSockets[String(dynamoPort)] = path.join(this.socketDir, 'dynamodb.sock');
    this.dynamoUrl = `http://127.0.0.1:${dynamoPort}`;

    // Every JSON-protocol service on one endpoint, dispatched by X-Amz-Target: `AWS_ENDPOINT_URL`.
    // Queue URLs carry the endpoint's port, so the SQS engine is made once the port is known.
    let services: ReturnType<typeof jsonProtocolListener> | undefined;
    const describeStacks = cloudFormationListener(() => (this.stack ? [this.stack] : []));
    const invokeFunction = lambdaInvokeListener(() => this.lambda);
    const aws = createServer((req, res) => {
      if (req.url?.startsWith('/_local/faults')) void this.handleFaultsRequest(req, res);
      else if (isQueryRequest(req)) void describeStacks(req, res);
      else if (isLambdaInvoke(req)) void invokeFunction(req, res);
      else if (services) void services(req, res);
      else res.writeHead(503).end();
    });
    aws.keepAliveTimeout = 60_000;
    this.servers.push(aws);
    const awsPort = await listen(aws, options.awsPort ?? this.defaultPort('aws'));
    // The same endpoint on a Unix socket: the functions' connections to it skip loopback TCP.
    const awsSocket = createServer(aws.listeners('request')[0] as Parameters<typeof createServer>[0]);
    awsSocket.keepAliveTimeout = 60_000;
    this.servers.push(awsSocket);
    const awsSocketPath = path.join(this.socketDir, 'aws.sock');
    awsSocket.listen(awsSocketPath);
    await once(awsSocket, 'listening');
    this.localSockets[String(awsPort)] = awsSocketPath;
    this.awsUrl = `http://127.0.0.1:${awsPort}`;
    this.sqs = new SqsEngine({
      region: REGION,
      accountId: ACCOUNT,
      baseUrl: this.awsUrl,
      now: () => Date.now() + this.queueTimeSkippedMs,
    });

    // The API's address is known before the functions are made: some carry it (a vendor signs it).
    const apiServer = createServer((req, res) => {
      if (this.api) void this.api.handle(req, res);
      else res.writeHead(503).end();
    });
    this.servers.push(apiServer);
    const apiPort = await listen(apiServer, options.apiPort ?? this.defaultPort('api'));
    this.apiUrl = `http://127.0.0.1:${apiPort}`;

    await this.startTwins();

    const env: LocalEnvironment = { region: REGION, accountId: ACCOUNT, stackName, sqsBaseUrl: this.awsUrl };
    const physical = physicalResources(template, env);
    const resolve = (value: unknown, where: string) => resolveValue(value, physical, env, where);
    const resources = Object.entries(template.Resources);
    const ofType = (type: string) => resources.filter(([, resource]) => resource.Type === type);

    for (const [id, resource] of resources) {
      if (EMULATED.has(resource.Type)) continue;
      this.notEmulated.push({
        logicalId: id,
        type: resource.Type,
        reason: NOT_EMULATED[resource.Type] ?? 'not emulated by the local runtime',
      });
    }

    await this.createTables(ofType('AWS::DynamoDB::Table'), resolve, physical);
    this.createQueues(ofType('AWS::SQS::Queue'), resolve, physical);
    this.createSecrets(ofType('AWS::SecretsManager::Secret'), physical);
    services = jsonProtocolListener(
      [
        new SqsService(this.sqs),
        new EventBridgeService(this.events),
        new StepFunctionsService(this.stepFunctions),
        this.secrets,
        new DynamoDbProxy(() => this.dynamoUrl),
      ],
      this.awsFaults,
      this.meter,
    );
    this.createBuses(ofType('AWS::Events::EventBus'), physical);
    this.createArchives(ofType('AWS::Events::Archive'), resolve, physical);
    this.createRules(ofType('AWS::Events::Rule'), resolve, physical);
    this.createFunctions(template.Resources, ofType('AWS::Lambda::Function'), resolve, physical, assemblyDir);
    this.createStateMachines(ofType('AWS::StepFunctions::StateMachine'), resolve, physical);
    for (const [id, resource] of ofType('AWS::CloudWatch::Alarm')) {
      const props = resolve(resource.Properties, `${id}.Properties`) as Record<string, unknown>;
      // Named by construct path (`PostInvoice/Consumer/DlqAlarm`): what a reader finds in the code.
      const readable = cdkPath(resource)?.split('/').slice(1, -1).join('/') || id;
      this.cloudwatch.alarms.addAlarm(readable, props);
    }
    this.startPollers(ofType('AWS::Lambda::EventSourceMapping'), resolve);
    // Scheduled rules fire their targets on time (reconciliation's schedule, for one).
    this.schedules.start(this.events.scheduledRules());
    this.stack = {
      stackName,
      stackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${stackName}/local`,
      createdAt: new Date(this.startedAt),
      description: template.Description,
      outputs: Object.entries(template.Outputs ?? {}).map(([key, output]) => ({
        key,
        value: String(resolve(output.Value, `Outputs.${key}`)),
        description: output.Description,
      })),
    };

    this.topology = buildTopology(
      resources,
      resolve,
      (id) => {
        const resource = physical.get(id);
        return String(resource?.attributes.Name ?? resource?.ref ?? id)
          .split(':')
          .pop() as string;
      },
      httpApiRoutes(template, physical).routes,
    );
    this.api = new ApiServer(
      template,
      physical,
      this.lambda,
      async (url) => ({
        ...this.status(),
        ...(await this.operations.read(url.searchParams.get('trail')?.trim() || undefined)),
      }),
      consoleRoutes(this),
      this.meter,
    );
    this.pointTwinWebhooksAtApi();

    // AWS services publish their own metrics; locally the runtime does it for them, then evaluates alarms.
    const tick = setInterval(() => this.publishServiceMetrics(), 500);
    tick.unref();
    this.timers.push(tick);
  }

  private defaultPort(name: keyof typeof DEFAULT_PORTS): number {
    return this.options.ephemeralPorts ? 0 : DEFAULT_PORTS[name];
  }

  private async startTwins(): Promise<void> {
    const ports = this.options.twinPorts ?? {};
    const seed = this.options.seed ?? 1;
    const secrets = localSecrets(this.options.env);
    const stripe = await startStripeTwin({
      port: ports.stripe ?? this.defaultPort('stripe'),
      seed,
      apiKey: secrets.stripeApiKey,
    });
    this.stripe = stripe;
    this.twins.set('stripe', { name: 'stripe', url: stripe.url, close: () => stripe.close() });
    await seedStripeCatalog(stripe.url, secrets.stripeApiKey);
    const salesforce = await startSalesforceTwin({
      port: ports.salesforce ?? this.defaultPort('salesforce'),
      seed,
      accessToken: secrets.salesforceAccessToken,
      customFields: crmTwinCustomFields.salesforce,
    });
    this.salesforce = salesforce;
    this.twins.set('salesforce', {
      name: 'salesforce',
      url: salesforce.url,
      close: () => salesforce.close(),
    });
    const hubspot = await startHubSpotTwin({
      port: ports.hubspot ?? this.defaultPort('hubspot'),
      seed,
      accessToken: secrets.hubspotAccessToken,
      clientSecret: secrets.hubspotClientSecret,
      customProperties: crmTwinCustomFields.hubspot,
    });
    this.hubspot = hubspot;
    this.twins.set('hubspot', { name: 'hubspot', url: hubspot.url, close: () => hubspot.close() });
    const netsuite = await startNetSuiteTwin({
      port: ports.netsuite ?? this.defaultPort('netsuite'),
      seed,
      concurrencyLimit: netsuiteConcurrencyLimit(this.options.env),
      ...optionalProcessing(netsuiteProcessingMs(this.options.env)),
    });
    (this as { netsuite: typeof netsuite }).netsuite = netsuite;
    this.twins.set('netsuite', { name: 'netsuite', url: netsuite.url, close: () => netsuite.close() });
  }

  private async createTables(
    tables: [string, CfnResource][],
    resolve: (value: unknown, where: string) => unknown,
    physical: ReturnType<typeof physicalResources>,
  ): Promise<void> {
    const client = new DynamoDBClient({
      region: REGION,
      endpoint: this.dynamoUrl,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      for (const [id, resource] of tables) {
        const props = resolve(resource.Properties, `${id}.Properties`) as Record<string, never>;
        this.tables.push(physical.get(id)?.ref ?? id);
        await client.send(
          new CreateTableCommand({
            TableName: physical.get(id)?.ref,
            KeySchema: props.KeySchema,
            AttributeDefinitions: props.AttributeDefinitions,
            GlobalSecondaryIndexes: props.GlobalSecondaryIndexes,
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
      }
    } finally {
      client.destroy();
    }
  }

  private createQueues(
    queues: [string, CfnResource][],
    resolve: (value: unknown, where: string) => unknown,
    physical: ReturnType<typeof physicalResources>,
  ): void {
    // Dead-letter queues first: a redrive policy may only name a queue that exists.
    const ordered = [...queues].sort(
      ([, a], [, b]) => Number(!!a.Properties?.RedrivePolicy) - Number(!!b.Properties?.RedrivePolicy),
    );
    for (const [id, resource] of ordered) {
      const props = (resolve(resource.Properties ?? {}, `${id}.Properties`) ?? {}) as Record<string, unknown>;
      const attributes: Record<string, string> = {};
      for (const key of [
        'VisibilityTimeout',
        'MessageRetentionPeriod',
        'DelaySeconds',
        'ReceiveMessageWaitTimeSeconds',
        'MaximumMessageSize',
        'FifoQueue',
        'ContentBasedDeduplication',
        'KmsMasterKeyId',
        'SqsManagedSseEnabled',
      ]) {
        if (props[key] !== undefined) attributes[key] = String(props[key]);
      }
      if (props.RedrivePolicy) attributes.RedrivePolicy = JSON.stringify(props.RedrivePolicy);
      this.sqs.createQueue(physical.get(id)?.attributes.QueueName ?? id, attributes);
    }
  }

  private createSecrets(
    secrets: [string, CfnResource][],
    physical: ReturnType<typeof physicalResources>,
  ): void {
    const seeds = secretSeeds(this.options.env);
    const values: Record<string, string> = {};
    for (const [id, resource] of secrets) {
      const key = constructId(resource, id);
      const value = seeds[key];
      if (value === undefined) this.log(`secret ${key} has no local value; seeded with a placeholder`);
      values[physical.get(id)?.attributes.Name ?? id] = value ?? 'local-placeholder';
    }
    this.secrets = new SecretsManagerService({ region: REGION, accountId: ACCOUNT, secrets: values });
  }

  private createBuses(buses: [string, CfnResource][], physical: ReturnType<typeof physicalResources>): void {
    for (const [id] of buses) {
      const name = physical.get(id)?.ref ?? id;
      if (name !== 'default') this.events.createEventBus(name);
    }
  }

  private createArchives(
    archives: [string, CfnResource][],
    resolve: (value: unknown, where: string) => unknown,
    physical: ReturnType<typeof physicalResources>,
  ): void {
    for (const [id, resource] of archives) {
      const props = resolve(resource.Properties, `${id}.Properties`) as Record<string, unknown>;
      this.events.createArchive({
        ArchiveName: physical.get(id)?.ref ?? id,
        EventSourceArn: String(props.SourceArn),
        ...(props.EventPattern ? { EventPattern: JSON.stringify(props.EventPattern) } : {}),
        ...(props.RetentionDays !== undefined ? { RetentionDays: Number(props.RetentionDays) } : {}),
      } as never);
    }
  }

  private createRules(
    rules: [string, CfnResource][],
    resolve: (value: unknown, where: string) => unknown,
    physical: ReturnType<typeof physicalResources>,
  ): void {
    for (const [id, resource] of rules) {
      const props = resolve(resource.Properties, `${id}.Properties`) as Record<string, unknown>;
      const name = physical.get(id)?.ref ?? id;
      const bus = String(props.EventBusName ?? 'default');
      this.events.putRule({
        Name: name,
        EventBusName: bus,
        ...(props.EventPattern ? { EventPattern: JSON.stringify(props.EventPattern) } : {}),
        ...(props.ScheduleExpression ? { ScheduleExpression: String(props.ScheduleExpression) } : {}),
        State: String(props.State ?? 'ENABLED'),
      } as never);
      const targets = (props.Targets ?? []) as Record<string, unknown>[];
      this.events.putTargets(name, bus, targets as never);
    }
  }

  private createFunctions(
    all: Record<string, CfnResource>,
    functions: [string, CfnResource][],
    resolve: (value: unknown, where: string) => unknown,
    physical: ReturnType<typeof physicalResources>,
    assemblyDir: string,
  ): void {
    const twinUrls = new Map([...this.twins.values()].map((twin) => [twin.name, twin.url]));
    const concurrencyOf = (functionId: string): number => {
      const mappings = Object.values(all).filter(
        (resource) =>
          resource.Type === 'AWS::Lambda::EventSourceMapping' &&
          (resource.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref === functionId,
      );
      const fromMappings = mappings.reduce(
        (sum, mapping) =>
          sum +
          Number(
            (mapping.Properties?.ScalingConfig as { MaximumConcurrency?: number } | undefined)
              ?.MaximumConcurrency ?? 5,
          ),
        0,
      );
      // Lambda scales a function that no mapping bounds up to the account's concurrency; locally every
      // environment is a thread with its own heap on a small machine: 4 (ReservedConcurrentExecutions wins).
      const reserved = Number(all[functionId]?.Properties?.ReservedConcurrentExecutions ?? 0);
      return reserved > 0 ? reserved : Math.max(2, fromMappings || 4);
    };
    const specs: FunctionSpec[] = [];
    for (const [id, resource] of functions) {
      const props = resolve(resource.Properties, `${id}.Properties`) as Record<string, unknown>;
      const assetPath = resource.Metadata?.['aws:asset:path'];
      if (typeof assetPath !== 'string') {
        throw new Error(
          `function ${id} has no bundled asset in the cloud assembly (was it synthesized with bundling?)`,
        );
      }
      const [moduleName, exportName] = String(props.Handler ?? 'index.handler').split('.');
      const name = physical.get(id)?.ref ?? id;
      const declared = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables ?? {}) as Record<string, unknown>;
      const environment: Record<string, string> = {};
      for (const [key, value] of Object.entries(declared)) {
        const twin = VENDOR_URL_VARIABLES[key];
        if (twin && twinUrls.has(twin)) environment[key] = twinUrls.get(twin) as string;
        else if (PUBLIC_URL_VARIABLES.includes(key)) environment[key] = this.apiUrl;
        else environment[key] = String(value);
      }
      const logGroupName = String(
        (props.LoggingConfig as { LogGroup?: string } | undefined)?.LogGroup ?? `/aws/lambda/${name}`,
      );
      Object.assign(environment, {
        AWS_REGION: REGION,
        AWS_DEFAULT_REGION: REGION,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL: this.awsUrl,
        AWS_ENDPOINT_URL_DYNAMODB: this.dynamoUrl,
        AWS_LAMBDA_FUNCTION_NAME: name,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(props.MemorySize ?? 128),
        AWS_LAMBDA_LOG_GROUP_NAME: logGroupName,
        AWS_EXECUTION_ENV: `AWS_Lambda_${String(props.Runtime ?? 'nodejs22.x')}`,
        LAMBDA_TASK_ROOT: path.join(assemblyDir, assetPath),
        _HANDLER: String(props.Handler ?? 'index.handler'),
        TZ: ':UTC',
      });
      specs.push({
        logicalId: id,
        name,
        arn: physical.get(id)?.attributes.Arn ?? name,
        file: path.join(assemblyDir, assetPath, `${moduleName}.mjs`),
        exportName: exportName ?? 'handler',
        environment,
        timeoutSeconds: Number(props.Timeout ?? 3),
        memoryMb: Number(props.MemorySize ?? 128),
        architecture: ((props.Architectures as string[] | undefined) ?? []).includes('arm64')
          ? 'arm64'
          : 'x86_64',
        logGroupName,
        maxConcurrency: concurrencyOf(id),
        localSockets: this.localSockets,
      });
    }
    const logDir = this.options.logDir ?? path.join(PROJECT_ROOT, '.local-state', 'logs');
    mkdirSync(logDir, { recursive: true });
    this.lambda = new LambdaHost(specs, {
      crashAfterMs: (fn) => this.awsFaults.crashAfterMs(fn.name, fn.logicalId),
      meter: this.meter,
      onOutput: (fn, lines) => {
        // CloudWatch Logs bills ingestion per byte; EMF metrics travel in these lines too.
        let bytes = 0;
        for (const line of lines) bytes += Buffer.byteLength(line) + 1;
        this.meter.add('cloudwatch.logBytes', bytes, fn.name);
        for (const line of lines) if (line.includes('"_aws"')) this.cloudwatch.metrics.ingestLogLine(line);
        let stream = this.logStreams.get(fn.name);
        if (!stream) {
          stream = createWriteStream(path.join(logDir, `${fn.logicalId}.log`), { flags: 'a' });
          this.logStreams.set(fn.name, stream);
        }
        // One write per invocation: each write is a system call, and they add up under load.
        stream.write(`${lines.join('\n')}\n`);
      },
    });
  }

  private createStateMachines(
    machines: [string, CfnResource][],
    resolve: (value: unknown, where: string) => unknown,
    physical: ReturnType<typeof physicalResources>,
  ): void {
    for (const [id, resource] of machines) {
      const props = resolve(resource.Properties, `${id}.Properties`) as Record<string, unknown>;
      const raw =
        typeof props.DefinitionString === 'string'
          ? props.DefinitionString
          : JSON.stringify(props.Definition ?? {});
      // CloudFormation replaces `${Name}` with DefinitionSubstitutions[Name] (ARNs, the bus name).
      const substitutions = (props.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
      const definition = raw.replace(/\$\{([A-Za-z0-9_]+)\}/g, (placeholder, name: string) =>
        name in substitutions ? String(substitutions[name]) : placeholder,
      );
      this.stepFunctions.createStateMachine(
        physical.get(id)?.attributes.Name ?? id,
        definition,
        props.RoleArn === undefined ? undefined : String(props.RoleArn),
        (props.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD') as never,
      );
    }
  }

  private startPollers(
    mappings: [string, CfnResource][],
    resolve: (value: unknown, where: string) => unknown,
  ): void {
    for (const [id, resource] of mappings) {
      const props = resolve(resource.Properties, `${id}.Properties`) as Record<string, unknown>;
      const source = String(props.EventSourceArn ?? '');
      if (!source.startsWith('arn:aws:sqs:')) {
        this.notEmulated.push({
          logicalId: id,
          type: resource.Type,
          reason: `event source ${source} is not SQS`,
        });
        continue;
      }
      const poller = new SqsPoller(
        {
          functionName: String(props.FunctionName),
          queueArn: source,
          batchSize: Number(props.BatchSize ?? 10),
          maxConcurrency: Number(
            (props.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency ?? 5,
          ),
          reportBatchItemFailures: ((props.FunctionResponseTypes ?? []) as string[]).includes(
            'ReportBatchItemFailures',
          ),
          maxBatchingWindowSeconds: Number(props.MaximumBatchingWindowInSeconds ?? 0),
          region: REGION,
        },
        this.sqs,
        this.lambda,
        {
          onBatch: (spec, size, outcome, failed) => {
            if (!outcome.ok)
              this.log(
                `${spec.functionName}: batch of ${size} failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}`,
              );
            else if (failed > 0)
              this.log(`${spec.functionName}: ${failed} of ${size} messages will be retried`);
          },
          meter: this.meter,
        },
      );
      poller.start();
      this.pollers.push(poller);
    }
  }

  /** The twins send their webhooks to the local API's routes, signed with the local secrets. */
  private pointTwinWebhooksAtApi(): void {
    const routes = this.api?.describeRoutes() ?? [];
    const has = (vendor: string) => routes.includes(`POST /webhooks/${vendor}`);
    const secrets = localSecrets(this.options.env);
    if (has('stripe'))
      this.stripe?.setWebhookEndpoint(`${this.apiUrl}/webhooks/stripe`, secrets.stripeWebhookSecret);
    // Salesforce does not sign outbound messages: its endpoint URL carries the stage's secret token.
    if (routes.includes('POST /webhooks/salesforce/{token}')) {
      const url = `${this.apiUrl}/webhooks/salesforce/${encodeURIComponent(secrets.salesforcePathToken)}`;
      this.salesforce?.configureOutboundMessage({ url });
    } else if (has('salesforce')) {
      this.salesforce?.configureOutboundMessage({ url: `${this.apiUrl}/webhooks/salesforce` });
    }
    if (has('hubspot')) this.hubspot?.configureWebhook({ url: `${this.apiUrl}/webhooks/hubspot` });
  }

  /** Where EventBridge delivers a matched event: an SQS queue, a function or a state machine. */
  private async deliver(
    targetArn: string,
    payload: string,
    deadLetter?: Record<string, string>,
  ): Promise<void> {
    if (targetArn.startsWith('arn:aws:sqs:')) {
      this.meter.sqsRequest('SendMessage', Buffer.byteLength(payload), 'EventBridge target');
      this.sqs.sendMessage(targetArn, {
        body: payload,
        ...(deadLetter
          ? {
              messageAttributes: Object.fromEntries(
                Object.entries(deadLetter).map(([name, value]) => [
                  name,
                  { dataType: 'String', stringValue: value },
                ]),
              ),
            }
          : {}),
      });
      return;
    }
    if (targetArn.startsWith('arn:aws:lambda:')) {
      void this.lambda.invoke(targetArn, JSON.parse(payload));
      return;
    }
    if (targetArn.startsWith('arn:aws:states:')) {
      this.stepFunctions.startExecution(targetArn, undefined, payload);
      return;
    }
    throw new Error(`target ${targetArn} is not supported locally`);
  }

  private publishServiceMetrics(): void {
    const now = Date.now();
    for (const queue of this.sqs.snapshot().queues) {
      const metrics = this.sqs.metrics(queue.name);
      for (const [name, value] of Object.entries(metrics)) {
        if (typeof value === 'number')
          this.cloudwatch.metrics.put('AWS/SQS', name, { QueueName: queue.name }, value, 'Count', now);
      }
    }
    this.cloudwatch.alarms.evaluate(now);
  }

  /** Everything `/_local/status` shows. */
  status() {
    this.publishServiceMetrics();
    const cloudwatch = this.cloudwatch.snapshot();
    return {
      startedAt: new Date(this.startedAt).toISOString(),
      startupMs: Math.round(this.startupMs),
      api: this.apiUrl,
      awsEndpoint: this.awsUrl,
      dynamoDbEndpoint: this.dynamoUrl,
      twins: Object.fromEntries([...this.twins.values()].map((twin) => [twin.name, twin.url])),
      tables: this.tables,
      queues: this.sqs.snapshot().queues,
      eventSourceMappings: this.pollers.map((poller) => poller.snapshot()),
      functions: this.lambda.snapshot(),
      events: this.events.status(),
      executions: this.stepFunctions.snapshot(),
      alarms: cloudwatch.alarms,
      metrics: cloudwatch.metrics,
      notEmulated: this.notEmulated,
      faults: { aws: this.awsFaults.current, injected: this.awsFaults.injected() },
    };
  }

  /**
   * Moves SQS's clock forward as if `seconds` had passed (visibility timeouts, delays), then wakes the
   * waiting receives: what a crashed batch left in flight comes back without waiting the queue's
   * visibility timeout (six times the function timeout) in real time.
   */
  skipQueueTime(seconds: number): void {
    this.queueTimeSkippedMs += seconds * 1000;
    this.sqs.tick();
  }

  /** Replaces the AWS emulators' faults (every service, the DynamoDB thread and Lambda included). */
  setAwsFaults(config: AwsFaultConfig): void {
    this.awsFaults.set(config);
    this.dynamoWorker?.postMessage({ faults: this.dynamoFaults() });
  }

  private dynamoFaults() {
    return { seed: this.awsFaults.current.seed, ...this.awsFaults.current.dynamodb };
  }

  /** `GET|PUT /_local/faults` on the AWS endpoint: the twins' `/_twin/faults`, for the AWS side. */
  private async handleFaultsRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const answer = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method === 'GET')
      return answer(200, { config: this.awsFaults.current, injected: this.awsFaults.injected() });
    if (req.method !== 'PUT') return answer(405, { message: 'use GET or PUT' });
    try {
      const body = await readBody(req, 64 * 1024);
      this.setAwsFaults(parseAwsFaultConfig(JSON.parse(body.toString('utf8') || '{}')));
      return answer(200, { config: this.awsFaults.current });
    } catch (error) {
      return answer(400, { message: error instanceof Error ? error.message : 'invalid fault config' });
    }
  }

  /** What AWS would bill for the requests served since the start or the last `resetBilling()`. */
  async billing(): Promise<Usage> {
    const worker = this.dynamoWorker;
    if (worker) {
      worker.postMessage('billing');
      for (;;) {
        const [message] = (await once(worker, 'message')) as [
          { billing?: { table: string; kind: 'read' | 'write'; units: number }[]; cpuMs?: number },
        ];
        if (!message.billing) continue;
        if (message.cpuMs !== undefined) this.dynamoCpuMs = message.cpuMs;
        for (const { table, kind, units } of message.billing)
          this.meter.add(kind === 'read' ? 'dynamodb.readUnits' : 'dynamodb.writeUnits', units, table);
        break;
      }
    }
    return this.meter.usage();
  }

  /**
   * CPU seconds so far of the threads the runtime runs: its main thread (emulators, API, twins), the
   * DynamoDB thread and the functions' execution environments (Linux /proc; zeros elsewhere).
   */
  async cpuSeconds(): Promise<{ main: number; dynamodb: number; functions: number }> {
    await this.billing();
    return {
      main: (threadCpuMs() ?? 0) / 1000,
      dynamodb: this.dynamoCpuMs / 1000,
      functions: this.lambda.cpuSeconds(),
    };
  }

  /** Starts counting billed requests afresh (after a warm-up, say). */
  async resetBilling(): Promise<void> {
    await this.billing();
    this.meter.reset();
  }

  /** Resolves when no event delivery, queue message or execution is still in flight. */
  /**
   * Enables or disables the event source mappings of the functions whose logical id starts with one
   * of `functionPrefixes` (all when none), as `UpdateEventSourceMapping` would: a disabled mapping
   * leaves its messages in the queue. Returns how many mappings changed.
   */
  setEventSourceMappingsEnabled(enabled: boolean, functionPrefixes: readonly string[] = []): number {
    const ids = new Map(this.lambda.snapshot().map((fn) => [String(fn.name), String(fn.logicalId)]));
    let changed = 0;
    for (const poller of this.pollers) {
      const logicalId = ids.get(String(poller.snapshot().function)) ?? String(poller.snapshot().function);
      if (functionPrefixes.length > 0 && !functionPrefixes.some((prefix) => logicalId.startsWith(prefix)))
        continue;
      poller.setEnabled(enabled);
      changed += 1;
    }
    return changed;
  }

  async idle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.events.idle();
      await this.stepFunctions.idle();
      if (!this.sqs.hasMessagesOutsideDeadLetterQueues()) return;
      if (Date.now() > deadline) throw new Error('the local runtime did not become idle in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    this.schedules.stop();
    for (const timer of this.timers) clearInterval(timer);
    this.operations.close();
    await Promise.allSettled(this.pollers.map((poller) => poller.stop()));
    this.sqs?.close();
    await this.lambda?.close();
    for (const server of this.servers) {
      server.closeAllConnections?.();
      server.close();
    }
    await Promise.allSettled([...this.twins.values()].map((twin) => twin.close()));
    if (this.dynamoWorker) {
      this.dynamoWorker.postMessage('close');
      await once(this.dynamoWorker, 'exit');
    }
    for (const stream of this.logStreams.values()) stream.end();
    if (this.socketDir) rmSync(this.socketDir, { recursive: true, force: true });
  }
}

export type { IncomingMessage, ServerResponse };
