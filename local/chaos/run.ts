import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import Stripe from 'stripe';
import { listExceptions, redriveDeadLetterQueue, replayException } from '../../ops/queries';
import { localSecrets } from '../config';
import type { LocalRuntime } from '../runtime/runtime';
import { type FaultInjector, SeededRandom } from '../twins/common';
import { countErp, type ErpCount, refusedDeliveries } from './check';
import { awsFaults, type ChaosFaults, DEFAULT_CHAOS_FAULTS, setTwinFaults, twinFaults } from './faults';
import {
  type ActivatedDeal,
  type Expectation,
  FLOW_TYPES,
  type FlowContext,
  type FlowType,
  pickFlow,
  salesforceCatalog,
} from './flows';
import { StripeSender } from './stripe-sender';

export interface ChaosOptions {
  readonly flows: number;
  readonly seed: number;
  /** A running local runtime (the test's); the CLI starts one. */
  readonly runtime: LocalRuntime;
  readonly faults?: Partial<ChaosFaults>;
  /** Flows whose ERP records are not all written yet, at most: the driver waits below it. @default 40 */
  readonly maxOutstanding?: number;
  /**
   * A flow still outstanding this long after it was sent stops counting against `maxOutstanding`: it
   * waits for the replay after the run (a dead letter, an exception), and a slot it held for the rest
   * of the run would slow the driver down as such flows add up (in a 10,000-flow run, to a third of
   * its rate by 9,000). It is still counted at the end. @default 60 s
   */
  readonly stuckAfterMs?: number;
  /**
   * SQS time skipped per real second, so the consumers' backoff (30 s and up) is compressed. A batch
   * runs at most its function's timeout (60 s) and stays hidden for the queue's visibility timeout (six
   * times that): skipping more than 5 s per second would redeliver a batch that is still running.
   * @default 4
   */
  readonly queueSecondsPerSecond?: number;
  /** How long the run may wait for the runtime to settle, per round. @default 180 s */
  readonly settleTimeoutMs?: number;
  /** Replay/redrive rounds after the run. @default 3 */
  readonly replayRounds?: number;
  readonly flowTypes?: readonly FlowType[];
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export interface ChaosReport {
  readonly seed: number;
  readonly flowsSent: Record<string, number>;
  readonly flows: number;
  readonly erp: ErpCount;
  /** Expected records that were rewritten by an upsert (customers, sales orders and payments may be; one record). */
  readonly rewritten: number;
  /** Faults injected, by where and kind. */
  readonly faultsInjected: Record<string, number>;
  /** Failures the run saw and survived (or not), by kind, with a sample reason. */
  readonly failures: Record<string, { count: number; reason: string }>;
  readonly replayed: { exceptions: number; redriven: number; rounds: number };
  readonly webhooksGivenUp: number;
  readonly seconds: { warmUp: number; send: number; settle: number; total: number };
  readonly flowsPerSecond: number;
  readonly driverErrors: string[];
}

const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
/** The process's memory (RSS counts the workers: Lambda environments, DynamoDB) and this thread's heap. */
const memory = () => {
  const { rss, heapUsed } = process.memoryUsage();
  return `rss ${mb(rss)}, main heap ${mb(heapUsed)}`;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts what a twin's fault injector decides, by kind (the twins do not count their own faults). */
const countFaults = (injector: FaultInjector | undefined, vendor: string, counts: Record<string, number>) => {
  if (!injector) return;
  const add = (kind: string) => {
    counts[`${vendor} ${kind}`] = (counts[`${vendor} ${kind}`] ?? 0) + 1;
  };
  const nextRequestFault = injector.nextRequestFault.bind(injector);
  injector.nextRequestFault = () => {
    const fault = nextRequestFault();
    if (fault.kind !== 'none')
      add(fault.kind === 'throttle' ? '429' : fault.kind === 'error' ? '5xx' : fault.kind);
    return fault;
  };
  const nextDeliveryFault = injector.nextDeliveryFault.bind(injector);
  injector.nextDeliveryFault = () => {
    const fault = nextDeliveryFault();
    if (fault.duplicate) add('webhook duplicated');
    if (fault.reorder) add('webhook reordered');
    return fault;
  };
};

const crashCount = (runtime: LocalRuntime) =>
  Object.entries(runtime.awsFaults.injected())
    .filter(([key]) => key.endsWith('.crash'))
    .reduce((sum, [, n]) => sum + n, 0);

/**
 * One chaos run (`npm run chaos`, and the small seeded run in `npm test`): a seeded mixed workload
 * through the twins into the local runtime under seeded faults, then replay of what the DLQs and the
 * exceptions hold, then one count of the ERP against what billing and the CRMs hold.
 */
export const runChaos = async (options: ChaosOptions): Promise<ChaosReport> => {
  const { runtime, seed } = options;
  const log = options.log ?? (() => {});
  const faults: ChaosFaults = { ...DEFAULT_CHAOS_FAULTS, ...options.faults };
  const types = options.flowTypes ?? FLOW_TYPES;
  const random = new SeededRandom(seed);
  const maxOutstanding = options.maxOutstanding ?? 40;
  const stuckAfterMs = options.stuckAfterMs ?? 60_000;
  const settleTimeoutMs = options.settleTimeoutMs ?? 180_000;
  const faultsInjected: Record<string, number> = {};
  const failures: Record<string, { count: number; reason: string }> = {};
  const fail = (kind: string, reason: string, by = 1) => {
    failures[kind] ??= { count: 0, reason };
    failures[kind].count += by;
  };
  const driverErrors: string[] = [];
  const started = performance.now();

  const stripe = new StripeSender({
    url: `${runtime.apiUrl}/webhooks/stripe`,
    secret: localSecrets().stripeWebhookSecret,
    seed: seed + 4,
    duplicateRate: faults.duplicateRate,
    reorderRate: faults.reorderRate,
  });
  const catalog = salesforceCatalog(runtime);
  const netsuite = runtime.netsuite;
  if (!netsuite) throw new Error('the NetSuite twin is not running');
  const stripeUrl = new URL(runtime.twins.get('stripe')?.url ?? 'http://missing');
  // The driver calls Stripe as an integration would: the SDK retries the twin's 5xx (idempotency keys).
  const stripeApi = new Stripe(localSecrets().stripeApiKey, {
    host: stripeUrl.hostname,
    port: Number(stripeUrl.port),
    protocol: 'http',
    maxNetworkRetries: 6,
  });
  const context = (random: SeededRandom, tag: string, deal?: ActivatedDeal): FlowContext => ({
    runtime,
    random,
    stripe,
    stripeApi,
    tag,
    catalog,
    deal,
  });
  const org = runtime.salesforce;
  /** Salesforce deals sent whose saga has not activated them yet, and those it has (free for a later flow). */
  const candidates = new Map<string, Expectation>();
  const activated: ActivatedDeal[] = [];
  const promote = () => {
    for (const [opportunityId, order] of candidates) {
      const opportunity = org?.getRecord('Opportunity', opportunityId);
      if (opportunity?.Revbridge_Status__c !== 'Activated') continue;
      const customerId = opportunity.Billing_Customer_Id__c;
      const subscriptionId = opportunity.Subscription_Id__c;
      if (typeof customerId !== 'string' || typeof subscriptionId !== 'string' || !order.deal) continue;
      if (!netsuite.getByExternalId('salesOrder', order.externalId)) continue;
      candidates.delete(opportunityId);
      activated.push({ opportunityId, accountId: order.deal.accountId, customerId, subscriptionId, order });
    }
  };
  const holds = (e: Expectation) =>
    (e.type === 'salesOrderChange' ||
      e.type === 'dunningFlag' ||
      netsuite.getByExternalId(e.type, e.externalId)) &&
    (e.verify?.() ?? undefined) === undefined;

  // Warm-up, without faults and outside the count: one flow of each type, so the functions' execution
  // environments exist before the faults start (a cold start on a loaded machine takes seconds). The
  // flows on an activated deal warm up on deals won for them.
  const warmTag = (type: FlowType) => `w${seed}_${type.name.replace(/\W/g, '')}`;
  const warmUntil = async (expectations: readonly Expectation[]) => {
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !expectations.every(holds)) await sleep(100);
  };
  const dealTypes = types.filter((type) => type.onActivatedDeal);
  const firstDeal = types.find((type) => type.name === 'salesforce.deal.won');
  const warmDeals = firstDeal
    ? dealTypes.map((type, i) =>
        firstDeal.start(context(new SeededRandom(seed + i), `${warmTag(type)}_deal`)),
      )
    : [];
  const warmUp = (
    await Promise.all(
      types
        .filter((type) => !type.onActivatedDeal)
        .map((type) => type.start(context(new SeededRandom(seed), warmTag(type)))),
    )
  ).flat();
  await warmUntil([...warmUp, ...(warmDeals as Expectation[][]).flat()]);
  const warmActivated = (warmDeals as Expectation[][]).flatMap((expectations) => {
    const order = expectations.find((e) => e.deal);
    const opportunity = order?.deal ? org?.getRecord('Opportunity', order.deal.opportunityId) : undefined;
    if (!order?.deal || typeof opportunity?.Subscription_Id__c !== 'string') return [];
    return [
      {
        opportunityId: order.deal.opportunityId,
        accountId: order.deal.accountId,
        customerId: String(opportunity.Billing_Customer_Id__c),
        subscriptionId: opportunity.Subscription_Id__c,
        order,
      },
    ];
  });
  const warmFollowUps = (
    await Promise.all(
      dealTypes.flatMap((type, i) => {
        const deal = warmActivated[i];
        return deal ? [type.start(context(new SeededRandom(seed), warmTag(type), deal))] : [];
      }),
    )
  ).flat();
  await warmUntil(warmFollowUps);
  log(`warmed up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const sendStarted = performance.now();

  const baseAws = awsFaults(faults, seed);
  const twins = twinFaults(faults, seed);
  setTwinFaults(runtime, twins);
  runtime.setAwsFaults(baseAws);
  countFaults(runtime.netsuite?.faults, 'netsuite', faultsInjected);
  countFaults(runtime.stripe?.faults, 'stripe api', faultsInjected);
  countFaults(runtime.salesforce?.faults, 'salesforce', faultsInjected);
  countFaults(runtime.hubspot?.faults, 'hubspot', faultsInjected);
  countFaults(stripe.faults, 'stripe', faultsInjected);

  // SQS's clock runs faster than the wall's: a consumer's 30 s backoff takes 7.5 s at 4x. While no
  // batch is being processed nothing can be redelivered early, so the clock then jumps 30 s at a time
  // (what a killed batch waits, its visibility timeout, passes in seconds instead of minutes).
  const rate = options.queueSecondsPerSecond ?? 4;
  const skip = setInterval(() => {
    const running = runtime.status().eventSourceMappings.reduce((sum, m) => sum + m.running, 0);
    runtime.skipQueueTime(running === 0 ? 30 : rate / 4);
  }, 250);

  type Entry = Expectation & { flow: string; sentAt: number };
  const expectations: Entry[] = [];
  const pending = new Map<string, Entry>();
  let promoted = 0;
  const sweep = () => {
    for (const [key, expected] of pending) if (holds(expected)) pending.delete(key);
    if (Date.now() - promoted > 250) {
      promote();
      promoted = Date.now();
    }
  };
  /** Flows outstanding and sent within `stuckAfterMs`, and those older (waiting for the replay). */
  const outstanding = () => {
    const since = Date.now() - stuckAfterMs;
    const live = new Set<string>();
    const stuck = new Set<string>();
    for (const e of pending.values()) (e.sentAt >= since ? live : stuck).add(e.flow + e.externalId);
    return { live: live.size, stuck: stuck.size };
  };
  const outstandingFlows = () => outstanding().live;

  let crashedAt: number | undefined;
  // The timeline's discrete faults: environments killed at a quarter, the webhook outage at half.
  const crash = async () => {
    if (faults.crashes <= 0) return;
    const before = crashCount(runtime);
    runtime.setAwsFaults({
      ...baseAws,
      lambda: { crashRate: 1, crashWithinMs: 30, functions: [...faults.crashFunctions] },
    });
    const deadline = Date.now() + 30_000;
    while (crashCount(runtime) - before < faults.crashes && Date.now() < deadline) await sleep(5);
    runtime.setAwsFaults(baseAws);
    crashedAt = Date.now();
    log(`killed ${crashCount(runtime) - before} execution environment(s) mid-batch`);
  };
  const outage = async () => {
    if (faults.webhookOutageMs <= 0) return;
    runtime.setAwsFaults({
      ...baseAws,
      eventbridge: { ...baseAws.eventbridge, errorRate: 1, operations: ['PutEvents'] },
    });
    log(`webhook endpoint answering 5xx for ${faults.webhookOutageMs} ms`);
    await sleep(faults.webhookOutageMs);
    runtime.setAwsFaults(baseAws);
  };
  let timeline: Promise<void> = Promise.resolve();

  const flowsSent: Record<string, number> = {};
  const baseTypes = types.filter((type) => !type.onActivatedDeal);
  /** Flows still calling a vendor's API (a Stripe flow's SDK calls), at most a few at once. */
  const starting = new Set<Promise<void>>();
  const record = (type: FlowType, tag: string, started: Expectation[] | Promise<Expectation[]>) => {
    const add = (list: Expectation[]) => {
      for (const expected of list) {
        const entry = { ...expected, flow: type.name, sentAt: Date.now() };
        // A change of a deal's order drops the amount check of the order's own expectation (the entry).
        if (expected.deal) candidates.set(expected.deal.opportunityId, entry);
        expectations.push(entry);
        pending.set(`${expected.type}:${expected.externalId}`, entry);
      }
      flowsSent[type.name] = (flowsSent[type.name] ?? 0) + 1;
    };
    const failed = (error: unknown) => {
      driverErrors.push(`${type.name} ${tag}: ${error instanceof Error ? error.message : String(error)}`);
    };
    if (Array.isArray(started)) return add(started);
    const running: Promise<void> = started.then(add, failed).finally(() => starting.delete(running));
    starting.add(running);
  };
  for (let n = 0; n < options.flows; n += 1) {
    while (outstandingFlows() + starting.size >= maxOutstanding || starting.size >= 8) {
      await sleep(25);
      sweep();
    }
    if (n === Math.floor(options.flows / 4)) timeline = timeline.then(crash);
    if (n === Math.floor(options.flows / 2)) timeline = timeline.then(outage);
    let type = pickFlow(random, types);
    if (type.onActivatedDeal && activated.length === 0) type = pickFlow(random, baseTypes);
    const deal = type.onActivatedDeal ? activated.shift() : undefined;
    const tag = `s${seed}_${n}`;
    try {
      record(type, tag, type.start(context(random, tag, deal)));
    } catch (error) {
      driverErrors.push(`${type.name} ${tag}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (n % 10 === 9) await sleep(0);
    if ((n + 1) % 500 === 0) {
      const { live, stuck } = outstanding();
      log(`${n + 1} flows sent, ${live} outstanding, ${stuck} waiting for the replay, ${memory()}`);
    }
  }
  await Promise.all(starting);
  await timeline;
  const sentAt = performance.now();
  log(`${options.flows} flows sent in ${((sentAt - sendStarted) / 1000).toFixed(1)} s; settling`);

  const vendorsIdle = async () => {
    await Promise.all([stripe.idle(), runtime.salesforce?.idle(), runtime.hubspot?.idle()]);
  };
  /**
   * Waits until the runtime has nothing left to do, whether or not every expected record is there
   * (what the flows start on their own, a subscription's invoice posted after a backoff, is counted
   * too): for 2 s in a row, every vendor sender is idle (asked afresh each round, which also flushes a delivery held back
   * for reordering: a flow's own writes to a vendor start new webhooks after the sending is over), no
   * event delivery is in flight, no execution runs and no queue holds a message outside its DLQ.
   */
  const settle = async () => {
    const deadline = Date.now() + settleTimeoutMs;
    let quietChecks = 0;
    while (Date.now() < deadline) {
      sweep();
      const vendorsQuiet = await Promise.race([vendorsIdle().then(() => true), sleep(250).then(() => false)]);
      const quiet =
        vendorsQuiet &&
        runtime.stepFunctions.runningCount === 0 &&
        runtime.events.inFlightDeliveries === 0 &&
        !runtime.sqs.hasMessagesOutsideDeadLetterQueues();
      quietChecks = quiet ? quietChecks + 1 : 0;
      if (quietChecks >= 8) return;
      await sleep(250);
    }
    log(`settling timed out with ${pending.size} ERP records outstanding`);
  };
  await settle();

  // The incident is over: faults off, then what the DLQs and the exceptions hold is replayed, as an
  // operator does from the console (the same queries).
  setTwinFaults(runtime, undefined);
  runtime.setAwsFaults({});
  const common = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ ...common, endpoint: runtime.dynamoUrl }),
  );
  const events = new EventBridgeClient({ ...common, endpoint: runtime.awsUrl });
  const sqs = new SQSClient({ ...common, endpoint: runtime.awsUrl });
  const busName = runtime.events.listEventBuses('revbridge-').at(0)?.Name ?? '';
  const replayed = { exceptions: 0, redriven: 0, rounds: 0 };
  const replayedIds = new Set<string>();
  // A killed invocation's idempotency lock lasts its function's timeout (60 s) in real time, as on
  // AWS: a message redriven before then is refused as in progress again.
  const lockedUntil = crashedAt === undefined ? 0 : crashedAt + 65_000;
  if (Date.now() < lockedUntil) {
    log(
      `waiting ${Math.ceil((lockedUntil - Date.now()) / 1000)} s for the killed invocation's idempotency lock to expire`,
    );
    await sleep(lockedUntil - Date.now());
  }
  for (let round = 1; round <= (options.replayRounds ?? 3); round += 1) {
    let acted = 0;
    for (const table of runtime.tables.filter((name) => name.includes('Exceptions'))) {
      for (const exception of await listExceptions(documents, table)) {
        if (replayedIds.has(exception.exceptionId) && exception.status !== 'OPEN') continue;
        // A dunning exception is the collections team's case for a failed payment, not a failure.
        if (exception.flow === 'flag-dunning') continue;
        fail(`exception ${exception.flow} ${exception.code}`, exception.message);
        if (exception.status !== 'OPEN') continue;
        await replayException({ documents, events }, { exceptions: table, busName }, exception.exceptionId);
        replayedIds.add(exception.exceptionId);
        replayed.exceptions += 1;
        acted += 1;
      }
    }
    const queues = runtime.sqs.snapshot().queues;
    for (const dlq of queues.filter((q) => q.isDeadLetterQueue && q.visible + q.inflight > 0)) {
      const source = queues.find((q) => q.redriveTarget?.arn === dlq.arn);
      for (const letter of dlq.deadLetters ?? []) fail(`dead letter ${letter.sourceQueue}`, letter.reason);
      if (!source) continue;
      // What an operator does: an SQS message move task back to the source queue (revbridge dlq redrive).
      const { moved } = await redriveDeadLetterQueue(
        { sqs, events },
        { name: source.name, dlqUrl: dlq.url, dlqArn: dlq.arn, queueUrl: source.url, queueArn: source.arn },
        { pollMs: 200 },
      );
      replayed.redriven += moved;
      acted += moved;
    }
    if (acted === 0) break;
    replayed.rounds = round;
    log(`replay round ${round}: ${acted} exceptions and dead letters sent back`);
    await settle();
  }
  clearInterval(skip);
  stripe.close();
  documents.destroy();
  events.destroy();
  sqs.destroy();

  for (const execution of runtime.stepFunctions.snapshot().executions) {
    if (execution.status === 'FAILED' || execution.status === 'TIMED_OUT' || execution.status === 'ABORTED')
      fail(`saga ${execution.status} ${execution.error ?? ''}`.trim(), (execution.cause ?? '').slice(0, 160));
  }
  for (const entry of netsuite.requestLog) {
    if (entry.status >= 400) fail(`netsuite answered ${entry.status}`, `${entry.method} ${entry.path}`);
  }
  const deliveries = refusedDeliveries({
    stripe: stripe.log,
    salesforce: runtime.salesforce?.deliveries ?? [],
    hubspot: runtime.hubspot?.deliveries ?? [],
  });
  for (const [kind, count] of Object.entries(deliveries.refused)) fail(kind, 'retried by the vendor', count);
  for (const [key, count] of Object.entries(runtime.awsFaults.injected()))
    faultsInjected[`aws ${key}`] = count;

  const erp = countErp(runtime, expectations);
  const rewritten = expectations.filter(
    (e) =>
      (e.type === 'customer' || e.type === 'salesOrder' || e.type === 'customerPayment') &&
      netsuite.writeCount(e.type, e.externalId) > 1,
  ).length;
  const finished = performance.now();
  const flows = Object.values(flowsSent).reduce((sum, n) => sum + n, 0);
  return {
    seed,
    flowsSent,
    flows,
    erp,
    rewritten,
    faultsInjected,
    failures,
    replayed,
    webhooksGivenUp: deliveries.gaveUp,
    seconds: {
      warmUp: (sendStarted - started) / 1000,
      send: (sentAt - sendStarted) / 1000,
      settle: (finished - sentAt) / 1000,
      total: (finished - sendStarted) / 1000,
    },
    flowsPerSecond: flows / ((finished - sendStarted) / 1000),
    driverErrors,
  };
};

/** Whether the run lost or duplicated anything (the CLI's exit status). */
export const chaosFailed = (report: ChaosReport): boolean =>
  report.erp.duplicates.length > 0 ||
  report.erp.missing.length > 0 ||
  report.erp.amountMismatches.length > 0 ||
  report.erp.wrongState.length > 0 ||
  report.erp.billingInvoicesNotInErp.length > 0 ||
  report.driverErrors.length > 0;

const KIND_LABELS: Record<string, string> = {
  customer: 'customers (one record each)',
  salesOrder: 'sales orders (one record each)',
  invoice: 'invoices (written once)',
  customerPayment: 'payments (written once)',
  creditMemo: 'credit memos (written once, voided as in billing)',
  salesOrderChange: 'sales order lines changed (amend, seats, cancel)',
  dunningFlag: 'dunning flags set or cleared (CRM account)',
};

/** The one report, as the CLI prints it. */
export const formatReport = (report: ChaosReport): string => {
  const lines: string[] = [];
  const row = (label: string, value: string | number) => lines.push(`  ${label.padEnd(44)} ${value}`);
  const { erp } = report;
  lines.push(`chaos run, seed ${report.seed}`);
  row(
    'flows sent',
    `${report.flows} (${Object.entries(report.flowsSent)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
  );
  row(
    'ERP records written',
    Object.entries(erp.records)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  );
  row('expected ERP records', `${erp.found} of ${erp.expected} present, ${erp.expectedWrites} writes`);
  for (const [kind, { expected, holding }] of Object.entries(erp.byKind))
    row(`  ${KIND_LABELS[kind] ?? kind}`, `${holding} of ${expected} as expected`);
  row('duplicates (must be 0)', erp.duplicates.length);
  row('missing (must be 0)', erp.missing.length);
  row('changes not shown (must be 0)', erp.wrongState.length);
  row('billing invoices not in the ERP (must be 0)', erp.billingInvoicesNotInErp.length);
  row(
    'amounts matching billing',
    `${erp.amountsChecked - erp.amountMismatches.length} of ${erp.amountsChecked} to the cent`,
  );
  row(
    'customers/orders/payments re-upserted',
    `${report.rewritten} (same record, e.g. a saga undo then replay)`,
  );
  row(
    'replayed after the run',
    `${report.replayed.exceptions} exceptions, ${report.replayed.redriven} dead letters, ${report.replayed.rounds} round(s)`,
  );
  row('webhooks given up by a vendor', report.webhooksGivenUp);
  row(
    'time',
    `${report.seconds.total.toFixed(1)} s (send ${report.seconds.send.toFixed(1)} s, settle and replay ${report.seconds.settle.toFixed(1)} s)`,
  );
  row('rate', `${report.flowsPerSecond.toFixed(1)} flows/s end to end`);
  lines.push('  faults injected:');
  for (const [kind, count] of Object.entries(report.faultsInjected).sort()) row(`  ${kind}`, count);
  lines.push('  failures by kind (sample reason):');
  for (const [kind, { count, reason }] of Object.entries(report.failures).sort(
    (a, b) => b[1].count - a[1].count,
  ))
    lines.push(`    ${String(count).padStart(6)}  ${kind}: ${reason}`);
  const problems = [
    ...erp.duplicates,
    ...erp.missing,
    ...erp.amountMismatches,
    ...erp.wrongState,
    ...erp.billingInvoicesNotInErp,
  ];
  if (problems.length > 0) lines.push('  problems:');
  for (const p of problems.slice(0, 20)) lines.push(`    ${p.flow} ${p.type} ${p.externalId}: ${p.problem}`);
  for (const error of report.driverErrors.slice(0, 10)) lines.push(`    driver: ${error}`);
  lines.push(
    chaosFailed(report)
      ? 'FAILED: records lost, duplicated or wrong'
      : 'OK: every ERP record exactly once, amounts to the cent',
  );
  return lines.join('\n');
};
