import { Duration } from 'aws-cdk-lib';
import type { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { businessAlarm, businessMetric } from './alarms';
import type { ConcurrencyLeases } from './concurrency-leases';
import type { EventBackbone } from './event-backbone';
import type { ExceptionsTable } from './exceptions-table';
import type { IdempotencyTable } from './idempotency-table';
import type { LinksTable } from './links-table';
import { QueueConsumer } from './queue-consumer';
import { RevbridgeFunction } from './revbridge-function';

/** A vendor API a flow may call: the environment its client reads and the secrets it may read. */
export interface VendorAccess {
  readonly environment: Readonly<Record<string, string>>;
  readonly secrets: readonly Secret[];
}

/**
 * The NetSuite API: its environment, its credentials, and the account's concurrency limit with the
 * leases that keep every caller together within it.
 */
export interface NetSuiteAccess {
  readonly environment: (mapping: Readonly<Record<string, unknown>>) => Record<string, string>;
  readonly secrets: readonly Secret[];
  /** Concurrent requests the account allows. */
  readonly concurrencyLimit: number;
  readonly leases: ConcurrencyLeases;
}

export interface FlowPlatformProps {
  readonly logRetention: RetentionDays;
  readonly backbone: EventBackbone;
  readonly idempotency: IdempotencyTable;
  readonly links: LinksTable;
  readonly exceptions: ExceptionsTable;
  readonly queues: {
    readonly maxReceiveCount: number;
    readonly batchSize: number;
    readonly maxMessageAge: Duration;
  };
  readonly netsuite: NetSuiteAccess;
  /** Stripe's API with the saga's key (write access to billing). */
  readonly stripe: VendorAccess;
  /** Salesforce's and HubSpot's APIs with the integration users' tokens. */
  readonly crm: VendorAccess;
}

/** A graph of a flow's business metrics on the dashboard. */
export interface FlowGraph {
  readonly title: string;
  readonly metrics: readonly Metric[];
}

/**
 * What every flow of a stack shares, made once: the tables, the bus, the vendors' access and budgets.
 * Flows hand it their graphs for the dashboard (which finds their alarms itself).
 */
export class FlowPlatform {
  private readonly collectedGraphs: FlowGraph[] = [];
  private readonly collectedFlows: EventFlow[] = [];

  constructor(readonly props: FlowPlatformProps) {}

  /**
   * Lets a function call NetSuite: its environment with the mapping, its credentials, and the
   * account's leases (a function holds one while it calls NetSuite).
   */
  grantNetSuite(fn: RevbridgeFunction, mapping: Readonly<Record<string, unknown>>): void {
    const { netsuite } = this.props;
    for (const [name, value] of Object.entries(netsuite.environment(mapping))) fn.addEnvironment(name, value);
    for (const secret of netsuite.secrets) secret.grantRead(fn);
    netsuite.leases.bind(fn, 'NETSUITE', netsuite.concurrencyLimit);
  }

  addGraph(graph: FlowGraph): void {
    this.collectedGraphs.push(graph);
  }

  get graphs(): readonly FlowGraph[] {
    return [...this.collectedGraphs];
  }

  /** Every flow built on the platform so far, in the order they were made. */
  get flows(): readonly EventFlow[] {
    return [...this.collectedFlows];
  }

  /** @internal EventFlow's constructor: a flow counts itself in. */
  registerFlow(flow: EventFlow): void {
    this.collectedFlows.push(flow);
  }
}

/** A business alarm of a flow, on one of the metrics its function emits (namespace `RevBridge`). */
export interface FlowAlarm {
  /** Construct id of the alarm, unique in the stack, e.g. `InvoicePostingFailedAlarm`. */
  readonly id: string;
  /** What it means and what to do, as the on-call engineer reads it. */
  readonly description: string;
  readonly metricName: string;
  /** @default 'Sum' */
  readonly statistic?: string;
  readonly threshold: number;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /** Fire above the threshold instead of at it. @default false */
  readonly above?: boolean;
}

export interface EventFlowProps {
  readonly platform: FlowPlatform;
  /** Folder under `lambdas/` holding `handler.ts`; also the Powertools service name. */
  readonly feature: string;
  /** What the flow does, for the rule's description. */
  readonly description: string;
  /** The canonical events that feed the flow's queue. */
  readonly events: { readonly sources: readonly string[]; readonly detailTypes: readonly string[] };
  /** Construct id of the rule on the bus. @default `${id}Rule` */
  readonly ruleId?: string;
  /**
   * The flow calls NetSuite with this mapping (`NETSUITE_MAPPING`); each of its requests holds one of
   * the account's leases (the client of `netSuiteClientFromEnv` takes them).
   */
  readonly netsuite?: { readonly mapping: Readonly<Record<string, unknown>> };
  /** The flow calls Stripe's API. @default false */
  readonly stripe?: boolean;
  /** The flow calls the CRMs' APIs. @default false */
  readonly crm?: boolean;
  /** Access to the links table. @default none */
  readonly links?: 'read' | 'readwrite';
  /** More environment: the flow's own configuration section. @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 60 seconds */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Receives before the DLQ. @default the stage's `queues.maxReceiveCount` */
  readonly maxReceiveCount?: number;
  /** For a flow that does not call NetSuite (a NetSuite flow gets the account's limit). @default 2 */
  readonly maxConcurrency?: number;
  /** Business alarms on the function's metrics, shown on the dashboard. @default none */
  readonly alarms?: readonly FlowAlarm[];
  /** Graphs of the function's metrics on the dashboard (a name alone is its Sum). @default none */
  readonly graphs?: readonly {
    readonly title: string;
    readonly metrics: readonly (string | { readonly name: string; readonly statistic: string })[];
  }[];
}

/**
 * One consumer flow: a function that processes one kind of canonical event, its queue and DLQ, the
 * rule that feeds the queue, and its alarms, which it hands to the platform's dashboard. The function
 * may touch the idempotency records, the exceptions, the bus, and what its props name, nothing else.
 */
export class EventFlow extends Construct {
  readonly fn: RevbridgeFunction;
  readonly consumer: QueueConsumer;
  readonly alarms: readonly Alarm[];
  /** Receives of a message before its queue moves it to the DLQ. */
  readonly maxReceiveCount: number;
  /** Whether the function calls NetSuite (its environment, credentials and leases). */
  readonly callsNetSuite: boolean;

  constructor(scope: Construct, id: string, props: EventFlowProps) {
    super(scope, id);
    const platform = props.platform.props;
    this.maxReceiveCount = props.maxReceiveCount ?? platform.queues.maxReceiveCount;
    this.callsNetSuite = props.netsuite !== undefined;
    const environment: Record<string, string> = {};
    const secrets: Secret[] = [];
    const grantVendor = (access: {
      environment: Readonly<Record<string, string>>;
      secrets: readonly Secret[];
    }) => {
      Object.assign(environment, access.environment);
      secrets.push(...access.secrets);
    };
    if (props.stripe) grantVendor(platform.stripe);
    if (props.crm) grantVendor(platform.crm);
    Object.assign(environment, props.environment);

    this.fn = new RevbridgeFunction(this, 'Function', {
      feature: props.feature,
      logRetention: platform.logRetention,
      timeout: props.timeout ?? Duration.seconds(60),
      ...(props.memorySize ? { memorySize: props.memorySize } : {}),
      environment,
    });
    for (const secret of new Set(secrets)) secret.grantRead(this.fn);
    if (props.netsuite) props.platform.grantNetSuite(this.fn, props.netsuite.mapping);
    if (props.links) platform.links.bind(this.fn, props.links);
    platform.idempotency.bind(this.fn);
    platform.exceptions.bind(this.fn);
    platform.backbone.grantPublish(this.fn);

    this.consumer = new QueueConsumer(this, 'Consumer', {
      fn: this.fn,
      description: props.description,
      maxReceiveCount: this.maxReceiveCount,
      batchSize: platform.queues.batchSize,
      // A NetSuite flow may use the whole account while the others are idle: the leases, not the
      // queue's concurrency, keep all of them together within the limit. Twice the limit, because an
      // invocation spends part of its time outside NetSuite (tables, bus) while another holds the lease.
      maxConcurrency: props.netsuite ? 2 * platform.netsuite.concurrencyLimit : (props.maxConcurrency ?? 2),
      maxMessageAge: platform.queues.maxMessageAge,
    });
    platform.backbone.routeToQueue(
      props.ruleId ?? `${id}Rule`,
      { source: [...props.events.sources], detailType: [...props.events.detailTypes] },
      this.consumer.queue,
      props.description,
    );

    this.alarms = (props.alarms ?? []).map((alarm) =>
      businessAlarm(this, alarm.id, {
        ...alarm,
        metric: businessMetric(props.feature, alarm.metricName, alarm.statistic ?? 'Sum'),
      }),
    );
    for (const graph of props.graphs ?? []) {
      props.platform.addGraph({
        title: graph.title,
        metrics: graph.metrics.map((metric) =>
          typeof metric === 'string'
            ? businessMetric(props.feature, metric, 'Sum')
            : businessMetric(props.feature, metric.name, metric.statistic),
        ),
      });
    }
    props.platform.registerFlow(this);
  }
}
