import { Duration, Lazy } from 'aws-cdk-lib';
import type { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IConstruct } from 'constructs';
import { businessAlarm, businessMetric } from './alarms';
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
 * The NetSuite account's concurrency limit, shared by every flow that calls NetSuite. Each flow gets an
 * equal share, the remainder to the first that asked: an invocation makes one NetSuite request at a
 * time, so the shares together never exceed the limit. The shares are computed at synthesis, once every
 * flow has asked, so adding a flow re-divides the limit without touching the others.
 */
export class ConcurrencyBudget {
  private readonly holders: string[] = [];

  constructor(
    /** What the budget is of, for error messages: `netsuite.concurrencyLimit`. */
    readonly name: string,
    readonly limit: number,
    /** The smallest share a holder can run with (Lambda's SQS maximum concurrency is at least 2). */
    readonly minimumShare = 2,
  ) {}

  /** A holder's share, resolved at synthesis. */
  share(holder: string): number {
    if (this.holders.includes(holder)) throw new Error(`${this.name}: ${holder} asked for a share twice`);
    this.holders.push(holder);
    return Lazy.number({ produce: () => this.shares()[holder] });
  }

  /** Every holder's share; empty until someone asks. */
  shares(): Record<string, number> {
    const count = this.holders.length;
    if (count === 0) return {};
    const each = Math.floor(this.limit / count);
    const remainder = this.limit - each * count;
    return Object.fromEntries(
      this.holders.map((holder, index) => [holder, each + (index === 0 ? remainder : 0)]),
    );
  }

  /** Problems that make the budget impossible to honour, for `node.addValidation`. */
  problems(): string[] {
    const count = this.holders.length;
    if (count * this.minimumShare <= this.limit) return [];
    return [
      `${this.name} is ${this.limit}, but ${count} flows call it (${this.holders.join(', ')}) and each needs at least ${this.minimumShare}: raise it to ${count * this.minimumShare} or more`,
    ];
  }
}

/** The NetSuite API: its environment, its credentials and the account's concurrency budget. */
export interface NetSuiteAccess {
  readonly environment: (mapping: Readonly<Record<string, unknown>>) => Record<string, string>;
  readonly secrets: readonly Secret[];
  readonly budget: ConcurrencyBudget;
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

  constructor(
    scope: IConstruct,
    readonly props: FlowPlatformProps,
  ) {
    scope.node.addValidation({ validate: () => props.netsuite.budget.problems() });
  }

  addGraph(graph: FlowGraph): void {
    this.collectedGraphs.push(graph);
  }

  get graphs(): readonly FlowGraph[] {
    return [...this.collectedGraphs];
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
  /** The flow calls NetSuite with this mapping (`NETSUITE_MAPPING`), within the account's budget. */
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
  /** For a flow that does not call NetSuite (NetSuite flows get their share of the budget). @default 2 */
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

  constructor(scope: Construct, id: string, props: EventFlowProps) {
    super(scope, id);
    const platform = props.platform.props;
    const environment: Record<string, string> = {};
    const secrets: Secret[] = [];
    const grantVendor = (access: {
      environment: Readonly<Record<string, string>>;
      secrets: readonly Secret[];
    }) => {
      Object.assign(environment, access.environment);
      secrets.push(...access.secrets);
    };
    if (props.netsuite) {
      grantVendor({
        environment: platform.netsuite.environment(props.netsuite.mapping),
        secrets: platform.netsuite.secrets,
      });
    }
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
    if (props.links) platform.links.bind(this.fn, props.links);
    platform.idempotency.bind(this.fn);
    platform.exceptions.bind(this.fn);
    platform.backbone.grantPublish(this.fn);

    this.consumer = new QueueConsumer(this, 'Consumer', {
      fn: this.fn,
      description: props.description,
      maxReceiveCount: props.maxReceiveCount ?? platform.queues.maxReceiveCount,
      batchSize: platform.queues.batchSize,
      maxConcurrency: props.netsuite ? platform.netsuite.budget.share(id) : (props.maxConcurrency ?? 2),
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
  }
}
