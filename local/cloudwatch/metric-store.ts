/**
 * CloudWatch metrics in memory: Embedded Metric Format lines (what Powertools Metrics prints) and the
 * metrics AWS services publish themselves, with CloudWatch's statistics over a time window.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

export type Dimensions = Readonly<Record<string, string>>;

export interface MetricIdentity {
  readonly namespace: string;
  readonly metricName: string;
  /** Exact set: CloudWatch treats every combination of dimensions as its own metric. */
  readonly dimensions?: Dimensions;
}

export interface Sample {
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly value: number;
}

export interface MetricSnapshot {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Dimensions;
  readonly unit: string;
  readonly sampleCount: number;
  readonly sum: number;
  readonly minimum: number;
  readonly maximum: number;
  readonly average: number;
  readonly latest: { readonly value: number; readonly timestamp: string };
}

interface Series {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Dimensions;
  unit: string;
  /** Kept in time order (sorted lazily when a late sample arrives) so windows are binary-searched. */
  samples: Sample[];
  sorted: boolean;
  count: number;
  sum: number;
  min: number;
  max: number;
  latest: Sample;
}

export interface MetricStoreOptions {
  /** Oldest samples are dropped beyond this, per metric (the all-time totals are kept). @default 100000 */
  readonly maxSamplesPerMetric?: number;
}

/** The statistics CloudWatch computes; `pNN` / `pNN.N` are percentiles (ExtendedStatistic). */
export type Statistic = 'Sum' | 'Average' | 'Minimum' | 'Maximum' | 'SampleCount' | `p${number}`;

const PERCENTILE = /^p(\d{1,2}(?:\.\d+)?|100)$/;

export const isSupportedStatistic = (stat: string): stat is Statistic =>
  ['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount'].includes(stat) || PERCENTILE.test(stat);

/** One statistic over a set of samples; `undefined` when there are none (a missing datapoint). */
export const computeStatistic = (values: readonly number[], stat: Statistic): number | undefined => {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'SampleCount':
      return values.length;
    case 'Sum':
      return values.reduce((total, value) => total + value, 0);
    case 'Average':
      return values.reduce((total, value) => total + value, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    default: {
      // Nearest-rank percentile: CloudWatch's own estimator is not published; this one is exact on
      // small sample sets and never invents a value that was not observed.
      const percentile = Number(stat.slice(1));
      const sorted = [...values].sort((a, b) => a - b);
      const rank = Math.max(1, Math.ceil((percentile / 100) * sorted.length));
      return sorted[Math.min(rank, sorted.length) - 1];
    }
  }
};

const seriesKey = (namespace: string, metricName: string, dimensions: Dimensions): string =>
  JSON.stringify([
    namespace,
    metricName,
    Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const parseJsonObject = (line: string): Record<string, unknown> | undefined => {
  const trimmed = line.trim();
  // Lambda's text log format may put a timestamp and request id before the JSON.
  const start = trimmed.indexOf('{');
  if (start < 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed.slice(start));
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
};

export class MetricStore {
  private readonly series = new Map<string, Series>();
  private readonly maxSamples: number;

  constructor(options: MetricStoreOptions = {}) {
    this.maxSamples = options.maxSamplesPerMetric ?? 100_000;
  }

  /** Reads one log line; returns whether it was an EMF document (other lines are ignored). */
  ingestLogLine(line: string): boolean {
    const document = parseJsonObject(line);
    return document ? this.ingestEmf(document) : false;
  }

  /** Reads one parsed EMF document; returns whether it had a valid `_aws` metadata block. */
  ingestEmf(document: Record<string, unknown>): boolean {
    const metadata = document._aws;
    if (
      !isRecord(metadata) ||
      typeof metadata.Timestamp !== 'number' ||
      !Array.isArray(metadata.CloudWatchMetrics)
    ) {
      return false;
    }
    const timestamp = metadata.Timestamp;
    for (const directive of metadata.CloudWatchMetrics) {
      if (
        !isRecord(directive) ||
        typeof directive.Namespace !== 'string' ||
        !Array.isArray(directive.Metrics)
      )
        continue;
      const namespace = directive.Namespace;
      const dimensionSets: unknown[] =
        Array.isArray(directive.Dimensions) && directive.Dimensions.length > 0 ? directive.Dimensions : [[]];
      for (const set of dimensionSets) {
        if (!Array.isArray(set)) continue;
        const dimensions: Record<string, string> = {};
        // A dimension must name a top-level string member, otherwise CloudWatch drops the set.
        const complete = set.every((key) => {
          const value = typeof key === 'string' ? document[key] : undefined;
          if (typeof key !== 'string' || typeof value !== 'string') return false;
          dimensions[key] = value;
          return true;
        });
        if (!complete) continue;
        for (const definition of directive.Metrics) {
          if (!isRecord(definition) || typeof definition.Name !== 'string') continue;
          const raw = document[definition.Name];
          // A metric's value is a number or an array of up to 100 numbers.
          const values = (Array.isArray(raw) ? raw : [raw]).filter(
            (value): value is number => typeof value === 'number' && Number.isFinite(value),
          );
          const unit = typeof definition.Unit === 'string' ? definition.Unit : 'None';
          for (const value of values)
            this.put(namespace, definition.Name, dimensions, value, unit, timestamp);
        }
      }
    }
    return true;
  }

  /** Records one sample, as an AWS service publishing its own metric (AWS/SQS, AWS/States...) would. */
  put(
    namespace: string,
    metricName: string,
    dimensions: Dimensions,
    value: number,
    unit = 'None',
    timestamp: number = Date.now(),
  ): void {
    const key = seriesKey(namespace, metricName, dimensions);
    const sample: Sample = { timestamp, value };
    const existing = this.series.get(key);
    if (!existing) {
      this.series.set(key, {
        namespace,
        metricName,
        dimensions: { ...dimensions },
        unit,
        samples: [sample],
        sorted: true,
        count: 1,
        sum: value,
        min: value,
        max: value,
        latest: sample,
      });
      return;
    }
    existing.unit = unit;
    const last = existing.samples.at(-1);
    if (last && timestamp < last.timestamp) existing.sorted = false;
    existing.samples.push(sample);
    if (existing.samples.length > this.maxSamples)
      existing.samples = existing.samples.slice(-this.maxSamples / 2);
    existing.count += 1;
    existing.sum += value;
    existing.min = Math.min(existing.min, value);
    existing.max = Math.max(existing.max, value);
    if (timestamp >= existing.latest.timestamp) existing.latest = sample;
  }

  /** Sample values with `start <= timestamp < end`. */
  values(metric: MetricIdentity, start: number, end: number): number[] {
    const found = this.series.get(seriesKey(metric.namespace, metric.metricName, metric.dimensions ?? {}));
    if (!found) return [];
    if (!found.sorted) {
      found.samples.sort((a, b) => a.timestamp - b.timestamp);
      found.sorted = true;
    }
    const samples = found.samples;
    const firstAtOrAfter = (time: number): number => {
      let low = 0;
      let high = samples.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if ((samples[middle]?.timestamp ?? Number.POSITIVE_INFINITY) < time) low = middle + 1;
        else high = middle;
      }
      return low;
    };
    return samples.slice(firstAtOrAfter(start), firstAtOrAfter(end)).map((sample) => sample.value);
  }

  /** Unit last recorded for a metric, if it exists. */
  unitOf(metric: MetricIdentity): string | undefined {
    return this.series.get(seriesKey(metric.namespace, metric.metricName, metric.dimensions ?? {}))?.unit;
  }

  statistic(metric: MetricIdentity, stat: Statistic, start: number, end: number): number | undefined {
    return computeStatistic(this.values(metric, start, end), stat);
  }

  statistics<S extends Statistic>(
    metric: MetricIdentity,
    stats: readonly S[],
    start: number,
    end: number,
  ): Record<S, number | undefined> {
    const values = this.values(metric, start, end);
    const result = {} as Record<S, number | undefined>;
    for (const stat of stats) result[stat] = computeStatistic(values, stat);
    return result;
  }

  listMetrics(): MetricIdentity[] {
    return [...this.series.values()].map(({ namespace, metricName, dimensions }) => ({
      namespace,
      metricName,
      dimensions,
    }));
  }

  snapshot(): MetricSnapshot[] {
    return [...this.series.values()].map((series) => ({
      namespace: series.namespace,
      metricName: series.metricName,
      dimensions: { ...series.dimensions },
      unit: series.unit,
      sampleCount: series.count,
      sum: series.sum,
      minimum: series.min,
      maximum: series.max,
      average: series.sum / series.count,
      latest: { value: series.latest.value, timestamp: new Date(series.latest.timestamp).toISOString() },
    }));
  }
}
