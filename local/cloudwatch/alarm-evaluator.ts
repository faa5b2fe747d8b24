import { z } from 'zod';
import {
  type Expression,
  evaluateExpression,
  MetricMathError,
  parseExpression,
  referencedIds,
} from './metric-math';
import { isSupportedStatistic, type MetricIdentity, type MetricStore, type Statistic } from './metric-store';

/**
 * Evaluates `AWS::CloudWatch::Alarm` resources from the template against the local metric store,
 * following CloudWatch's rules for M-of-N datapoints and missing data, with periods that can be
 * scaled down so a five-minute alarm reacts in seconds locally.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
 */

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type TreatMissingData = 'missing' | 'notBreaching' | 'breaching' | 'ignore';

export interface AlarmStateChange {
  readonly timestamp: string;
  readonly oldState: AlarmState;
  readonly newState: AlarmState;
  readonly reason: string;
}

export interface AlarmStatus {
  /** Logical id (or any key the caller chose). */
  readonly id: string;
  readonly alarmName: string;
  readonly state: AlarmState;
  /** Like CloudWatch's StateReason. */
  readonly reason: string;
  /** False when the alarm uses something not emulated; `reason` then says what. */
  readonly evaluated: boolean;
  /** e.g. `AWS/SQS ApproximateNumberOfMessagesVisible {QueueName=dlq} Maximum >= 1`. */
  readonly condition?: string;
  /** The datapoints of the last evaluation, oldest first; `null` is missing. */
  readonly datapoints: readonly { readonly timestamp: string; readonly value: number | null }[];
  readonly lastEvaluated?: string;
  readonly history: readonly AlarmStateChange[];
}

export interface AlarmEvaluatorOptions {
  /** Multiplies every Period, e.g. 1/60 runs 60 s periods as 1 s. @default 1 */
  readonly periodScale?: number;
  /** Called on every state change. */
  readonly onStateChange?: (status: AlarmStatus, change: AlarmStateChange) => void;
}

const numeric = z
  .union([z.number(), z.string().regex(/^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/, 'must be a number')])
  .transform(Number);
const dimensionSchema = z.object({ Name: z.string(), Value: z.string() });
const metricStatSchema = z.object({
  Metric: z.object({
    Namespace: z.string(),
    MetricName: z.string(),
    Dimensions: z.array(dimensionSchema).optional(),
  }),
  Period: numeric,
  Stat: z.string(),
  Unit: z.string().optional(),
});
const metricQuerySchema = z.object({
  Id: z.string(),
  MetricStat: metricStatSchema.optional(),
  Expression: z.string().optional(),
  ReturnData: z.boolean().optional(),
  Label: z.string().optional(),
  Period: numeric.optional(),
});
const alarmPropertiesSchema = z.object({
  AlarmName: z.string().optional(),
  MetricName: z.string().optional(),
  Namespace: z.string().optional(),
  Dimensions: z.array(dimensionSchema).optional(),
  Statistic: z.string().optional(),
  ExtendedStatistic: z.string().optional(),
  Period: numeric.optional(),
  Unit: z.string().optional(),
  EvaluationPeriods: numeric,
  DatapointsToAlarm: numeric.optional(),
  Threshold: numeric.optional(),
  ThresholdMetricId: z.string().optional(),
  ComparisonOperator: z.string(),
  TreatMissingData: z.enum(['missing', 'notBreaching', 'breaching', 'ignore']).optional(),
  Metrics: z.array(metricQuerySchema).optional(),
});

type AlarmProperties = z.infer<typeof alarmPropertiesSchema>;

const COMPARISONS: Record<
  string,
  { test: (value: number, threshold: number) => boolean; text: string; symbol: string }
> = {
  GreaterThanOrEqualToThreshold: { test: (v, t) => v >= t, text: 'greater than or equal to', symbol: '>=' },
  GreaterThanThreshold: { test: (v, t) => v > t, text: 'greater than', symbol: '>' },
  LessThanThreshold: { test: (v, t) => v < t, text: 'less than', symbol: '<' },
  LessThanOrEqualToThreshold: { test: (v, t) => v <= t, text: 'less than or equal to', symbol: '<=' },
};

/**
 * How many periods CloudWatch reads when data is missing. It reads "a higher number of data
 * points than Evaluation Periods"; AWS's worked example shows five for three, so N + 2 is used.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
 */
const EXTRA_PERIODS = 2;

interface CompiledAlarm {
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparison: { test: (value: number, threshold: number) => boolean; text: string; symbol: string };
  readonly treatMissingData: TreatMissingData;
  readonly condition: string;
  /** The alarm's value over `[start, end)`, or null when missing. */
  readonly valueFor: (start: number, end: number) => number | null;
}

interface AlarmRecord {
  readonly id: string;
  readonly alarmName: string;
  readonly compiled?: CompiledAlarm;
  state: AlarmState;
  reason: string;
  datapoints: { timestamp: string; value: number | null }[];
  lastEvaluated?: string;
  readonly history: AlarmStateChange[];
}

class NotEvaluated extends Error {
  override readonly name = 'NotEvaluated' as const;
}

const toDimensions = (
  dimensions: readonly { Name: string; Value: string }[] | undefined,
): Record<string, string> => Object.fromEntries((dimensions ?? []).map(({ Name, Value }) => [Name, Value]));

const describeMetric = (metric: MetricIdentity): string => {
  const dimensions = Object.entries(metric.dimensions ?? {})
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
  return `${metric.namespace} ${metric.metricName}${dimensions ? ` {${dimensions}}` : ''}`;
};

const formatValue = (value: number): string => (Number.isInteger(value) ? value.toFixed(1) : String(value));

export class AlarmEvaluator {
  private readonly alarms = new Map<string, AlarmRecord>();
  private readonly periodScale: number;
  private readonly onStateChange: AlarmEvaluatorOptions['onStateChange'];

  constructor(
    private readonly store: MetricStore,
    options: AlarmEvaluatorOptions = {},
  ) {
    this.periodScale = options.periodScale ?? 1;
    this.onStateChange = options.onStateChange;
  }

  /**
   * Adds an alarm from its CloudFormation Properties (intrinsics already resolved). Never throws:
   * an alarm that cannot be evaluated locally is kept, marked `evaluated: false`, with the reason.
   */
  addAlarm(id: string, properties: unknown): AlarmStatus {
    const parsed = alarmPropertiesSchema.safeParse(properties);
    const alarmName =
      (parsed.success ? parsed.data.AlarmName : undefined) ??
      (typeof properties === 'object' && properties !== null && 'AlarmName' in properties
        ? String(properties.AlarmName)
        : id);
    let compiled: CompiledAlarm | undefined;
    let reason = 'Unchecked: Initial alarm creation';
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
      );
      reason = `Not evaluated locally: invalid properties (${issues.join('; ')})`;
    } else {
      try {
        compiled = this.compile(parsed.data);
      } catch (error) {
        if (!(error instanceof NotEvaluated || error instanceof MetricMathError)) throw error;
        reason = `Not evaluated locally: ${error.message}`;
      }
    }
    const record: AlarmRecord = {
      id,
      alarmName,
      ...(compiled ? { compiled } : {}),
      state: 'INSUFFICIENT_DATA',
      reason,
      datapoints: [],
      history: [],
    };
    this.alarms.set(id, record);
    return this.status(record);
  }

  /** Evaluates every alarm at `now` and returns their states. */
  evaluate(now: number = Date.now()): AlarmStatus[] {
    for (const record of this.alarms.values()) {
      if (record.compiled) this.evaluateAlarm(record, record.compiled, now);
    }
    return this.statuses();
  }

  statuses(): AlarmStatus[] {
    return [...this.alarms.values()].map((record) => this.status(record));
  }

  /** Plain JSON of every alarm with its state, reason and history. */
  snapshot(): AlarmStatus[] {
    return JSON.parse(JSON.stringify(this.statuses())) as AlarmStatus[];
  }

  private status(record: AlarmRecord): AlarmStatus {
    return {
      id: record.id,
      alarmName: record.alarmName,
      state: record.state,
      reason: record.reason,
      evaluated: record.compiled !== undefined,
      ...(record.compiled ? { condition: record.compiled.condition } : {}),
      datapoints: record.datapoints.map((point) => ({ ...point })),
      ...(record.lastEvaluated ? { lastEvaluated: record.lastEvaluated } : {}),
      history: [...record.history],
    };
  }

  private compile(properties: AlarmProperties): CompiledAlarm {
    const comparison = COMPARISONS[properties.ComparisonOperator];
    if (!comparison) {
      throw new NotEvaluated(
        `ComparisonOperator ${properties.ComparisonOperator} (anomaly detection) is not supported`,
      );
    }
    if (properties.ThresholdMetricId !== undefined) {
      throw new NotEvaluated('ThresholdMetricId (anomaly detection band) is not supported');
    }
    if (properties.Threshold === undefined) throw new NotEvaluated('Threshold is missing');
    const evaluationPeriods = properties.EvaluationPeriods;
    const datapointsToAlarm = properties.DatapointsToAlarm ?? evaluationPeriods;
    if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) {
      throw new NotEvaluated('EvaluationPeriods must be a positive integer');
    }
    if (
      !Number.isInteger(datapointsToAlarm) ||
      datapointsToAlarm < 1 ||
      datapointsToAlarm > evaluationPeriods
    ) {
      throw new NotEvaluated('DatapointsToAlarm must be between 1 and EvaluationPeriods');
    }
    const { periodSeconds, valueFor, description } = properties.Metrics
      ? this.compileMetricMath(properties.Metrics)
      : this.compileSingleMetric(properties);
    if (!(periodSeconds > 0)) throw new NotEvaluated('Period must be positive');
    return {
      periodSeconds,
      evaluationPeriods,
      datapointsToAlarm,
      threshold: properties.Threshold,
      comparison,
      treatMissingData: properties.TreatMissingData ?? 'missing',
      condition: `${description} ${comparison.symbol} ${properties.Threshold} for ${datapointsToAlarm} of ${evaluationPeriods} x ${periodSeconds}s`,
      valueFor,
    };
  }

  private statFunction(metric: MetricIdentity, stat: string, unit: string | undefined) {
    if (!isSupportedStatistic(stat)) throw new NotEvaluated(`statistic ${stat} is not supported`);
    const statistic: Statistic = stat;
    return (start: number, end: number): number | null => {
      // With Unit set, CloudWatch only reads datapoints published with that unit.
      if (unit !== undefined && this.store.unitOf(metric) !== unit) return null;
      return this.store.statistic(metric, statistic, start, end) ?? null;
    };
  }

  private compileSingleMetric(properties: AlarmProperties) {
    if (properties.Namespace === undefined || properties.MetricName === undefined) {
      throw new NotEvaluated('the alarm has neither MetricName/Namespace nor Metrics');
    }
    if (properties.Period === undefined) throw new NotEvaluated('Period is missing');
    const stat = properties.ExtendedStatistic ?? properties.Statistic;
    if (stat === undefined) throw new NotEvaluated('Statistic or ExtendedStatistic is missing');
    const metric: MetricIdentity = {
      namespace: properties.Namespace,
      metricName: properties.MetricName,
      dimensions: toDimensions(properties.Dimensions),
    };
    return {
      periodSeconds: properties.Period,
      valueFor: this.statFunction(metric, stat, properties.Unit),
      description: `${describeMetric(metric)} ${stat}`,
    };
  }

  private compileMetricMath(queries: AlarmProperties['Metrics'] & object) {
    const returned = queries.filter((query) => query.ReturnData !== false);
    const result = queries.length === 1 ? queries[0] : queries.find((query) => query.ReturnData === true);
    if (!result || (queries.length > 1 && returned.length !== 1)) {
      throw new NotEvaluated('metric math alarms need exactly one entry with ReturnData true');
    }
    const periods = new Set<number>();
    const nodes = new Map<string, ((start: number, end: number) => number | null) | Expression>();
    for (const query of queries) {
      if (query.MetricStat) {
        const { Metric, Stat, Unit, Period } = query.MetricStat;
        periods.add(Period);
        const metric: MetricIdentity = {
          namespace: Metric.Namespace,
          metricName: Metric.MetricName,
          dimensions: toDimensions(Metric.Dimensions),
        };
        nodes.set(query.Id, this.statFunction(metric, Stat, Unit));
      } else if (query.Expression !== undefined) {
        if (query.Period !== undefined) periods.add(query.Period);
        nodes.set(query.Id, parseExpression(query.Expression));
      } else {
        throw new NotEvaluated(`metric ${query.Id} has neither MetricStat nor Expression`);
      }
    }
    for (const node of nodes.values()) {
      if (typeof node === 'function') continue;
      const unknown = referencedIds(node).filter((id) => !nodes.has(id));
      if (unknown.length > 0)
        throw new NotEvaluated(`metric math refers to unknown id(s) ${unknown.join(', ')}`);
    }
    if (periods.size !== 1) throw new NotEvaluated('metric math entries must share one Period');
    const [periodSeconds] = [...periods];
    const valueFor = (start: number, end: number): number | null => {
      const memo = new Map<string, number | null>();
      const visiting = new Set<string>();
      const lookup = (id: string): number | null => {
        const cached = memo.get(id);
        if (cached !== undefined) return cached;
        if (visiting.has(id)) throw new MetricMathError(`metric math id ${id} refers to itself`);
        visiting.add(id);
        const node = nodes.get(id);
        const value =
          node === undefined
            ? null
            : typeof node === 'function'
              ? node(start, end)
              : evaluateExpression(node, lookup);
        visiting.delete(id);
        memo.set(id, value);
        return value;
      };
      return lookup(result.Id);
    };
    const description =
      result.Expression !== undefined ? `expression ${result.Id} = ${result.Expression}` : result.Id;
    return { periodSeconds: periodSeconds ?? 0, valueFor, description };
  }

  private evaluateAlarm(record: AlarmRecord, alarm: CompiledAlarm, now: number): void {
    const periodMs = alarm.periodSeconds * 1000 * this.periodScale;
    // Only complete periods are read: the current one is still filling.
    const end = Math.floor(now / periodMs) * periodMs;
    const range = alarm.evaluationPeriods + EXTRA_PERIODS;
    const newestFirst: { start: number; value: number | null }[] = [];
    for (let k = 0; k < range; k += 1) {
      const start = end - (k + 1) * periodMs;
      newestFirst.push({ start, value: alarm.valueFor(start, start + periodMs) });
    }
    const recent = newestFirst.slice(0, alarm.evaluationPeriods);
    record.datapoints = [...recent].reverse().map(({ start, value }) => ({
      timestamp: new Date(start).toISOString(),
      value,
    }));
    record.lastEvaluated = new Date(now).toISOString();
    const decision = this.decide(alarm, newestFirst, record.state);
    if (decision.state === record.state) {
      if (decision.reason !== undefined) record.reason = decision.reason;
      return;
    }
    const change: AlarmStateChange = {
      timestamp: new Date(now).toISOString(),
      oldState: record.state,
      newState: decision.state,
      reason: decision.reason ?? record.reason,
    };
    record.state = decision.state;
    record.reason = change.reason;
    record.history.push(change);
    this.onStateChange?.(this.status(record), change);
  }

  /**
   * CloudWatch's rule: with at least N real datapoints in the evaluation range, the N most recent
   * decide and TreatMissingData is not used; with none, TreatMissingData decides; in between, the
   * real ones decide when they can, and missing ones are filled as TreatMissingData says only when
   * needed. (`missing` then alarms when the real datapoints alone reach min(M, count), as AWS's
   * table shows for `- - X - -`.)
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
   */
  private decide(
    alarm: CompiledAlarm,
    newestFirst: readonly { start: number; value: number | null }[],
    current: AlarmState,
  ): { state: AlarmState; reason?: string } {
    const n = alarm.evaluationPeriods;
    const m = alarm.datapointsToAlarm;
    const present = newestFirst.flatMap(({ start, value }) => (value === null ? [] : [{ start, value }]));
    const breaches = (point: { value: number }) => alarm.comparison.test(point.value, alarm.threshold);
    const listed = (points: readonly { start: number; value: number }[]) =>
      `[${points.map((point) => `${formatValue(point.value)} (${new Date(point.start).toISOString()})`).join(', ')}]`;
    const crossed = (points: readonly { start: number; value: number }[], filled = 0) => {
      const breaching = points.filter(breaches).length;
      const total = points.length + filled;
      const fill =
        filled > 0
          ? ` and ${filled} missing datapoint${filled === 1 ? ' was' : 's were'} treated as [Breaching]`
          : '';
      return `Threshold Crossed: ${breaching + filled} out of the last ${total} datapoints ${listed(points)}${fill} ${breaching + filled === 1 ? 'was' : 'were'} ${alarm.comparison.text} the threshold (${formatValue(alarm.threshold)}) (minimum ${m} datapoint${m === 1 ? '' : 's'} for OK -> ALARM transition).`;
    };
    const notCrossed = (points: readonly { start: number; value: number }[]) =>
      `Threshold Crossed: ${points.length} datapoint${points.length === 1 ? '' : 's'} ${listed(points)} ${points.length === 1 ? 'was' : 'were'} not ${alarm.comparison.text} the threshold (${formatValue(alarm.threshold)}).`;

    if (present.length >= n) {
      const points = present.slice(0, n);
      return points.filter(breaches).length >= m
        ? { state: 'ALARM', reason: crossed(points) }
        : { state: 'OK', reason: notCrossed(points) };
    }
    if (present.length === 0) {
      switch (alarm.treatMissingData) {
        case 'breaching':
          return {
            state: 'ALARM',
            reason: `Threshold Crossed: no datapoints were received for ${n} period${n === 1 ? '' : 's'} and ${n} missing datapoint${n === 1 ? ' was' : 's were'} treated as [Breaching].`,
          };
        case 'notBreaching':
          return {
            state: 'OK',
            reason: `Threshold Crossed: no datapoints were received for ${n} period${n === 1 ? '' : 's'} and ${n} missing datapoint${n === 1 ? ' was' : 's were'} treated as [NonBreaching].`,
          };
        case 'ignore':
          return { state: current };
        case 'missing':
          return {
            state: 'INSUFFICIENT_DATA',
            reason: `Insufficient Data: ${n} datapoint${n === 1 ? ' was' : 's were'} unknown.`,
          };
      }
    }
    const breaching = present.filter(breaches).length;
    const good = present.length - breaching;
    const missing = n - present.length;
    if (breaching >= m) return { state: 'ALARM', reason: crossed(present) };
    // Enough good datapoints that no filling could reach M: OK without using missing data.
    if (good > n - m) return { state: 'OK', reason: notCrossed(present) };
    switch (alarm.treatMissingData) {
      case 'breaching':
        return breaching + missing >= m
          ? { state: 'ALARM', reason: crossed(present, missing) }
          : { state: 'OK', reason: notCrossed(present) };
      case 'notBreaching':
        return { state: 'OK', reason: notCrossed(present) };
      case 'ignore':
        return { state: current };
      case 'missing':
        return breaching >= Math.min(m, present.length)
          ? { state: 'ALARM', reason: crossed(present) }
          : { state: 'OK', reason: notCrossed(present) };
    }
  }
}
