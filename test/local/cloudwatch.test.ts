import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { AlarmEvaluator, LocalCloudWatch, MetricStore, parseExpression } from '../../local/cloudwatch';

const MINUTE = 60_000;
/** A period boundary half an hour ago: Powertools accepts timestamps up to 14 days old. */
const BASE = Math.floor(Date.now() / MINUTE) * MINUTE - 30 * MINUTE;
const at = (period: number, offsetMs = 1_000) => BASE + period * MINUTE + offsetMs;
/** Evaluation time right after `periods` complete periods. */
const endOf = (periods: number) => BASE + periods * MINUTE + 10;

/** Runs the real Powertools Metrics class and returns what it printed to stdout. */
const powertoolsLines = (emit: (metrics: Metrics) => void): string[] => {
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  try {
    const metrics = new Metrics({ namespace: 'revbridge', serviceName: 'billing' });
    emit(metrics);
  } finally {
    write.mockRestore();
  }
  return lines;
};

/** One Powertools flush of `name` with the given values at `timestamp`. */
const emitMetric = (store: MetricStore, name: string, values: number[], timestamp: number) => {
  const lines = powertoolsLines((metrics) => {
    metrics.setTimestamp(timestamp);
    for (const value of values) metrics.addMetric(name, MetricUnit.Count, value);
    metrics.publishStoredMetrics();
  });
  for (const line of lines) store.ingestLogLine(line);
};

const billingAlarm = (overrides: Record<string, unknown> = {}) => ({
  AlarmName: 'revbridge-failed-invoices',
  Namespace: 'revbridge',
  MetricName: 'InvoicesFailed',
  Dimensions: [{ Name: 'service', Value: 'billing' }],
  Statistic: 'Sum',
  Period: 60,
  EvaluationPeriods: 1,
  Threshold: 1,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  ...overrides,
});

/** Emits one datapoint per period (null = nothing emitted) and evaluates after the last one. */
const evaluateSeries = (series: (number | null)[], overrides: Record<string, unknown> = {}) => {
  const store = new MetricStore();
  series.forEach((value, period) => {
    if (value !== null) emitMetric(store, 'InvoicesFailed', [value], at(period));
  });
  const evaluator = new AlarmEvaluator(store);
  evaluator.addAlarm('FailedInvoicesAlarm', billingAlarm(overrides));
  const [status] = evaluator.evaluate(endOf(series.length));
  return { status, evaluator, store };
};

describe('MetricStore', () => {
  it('ingests the EMF lines Powertools Metrics prints, including arrays of values and dimensions', () => {
    const lines = powertoolsLines((metrics) => {
      metrics.setTimestamp(at(0));
      metrics.addDimension('vendor', 'stripe');
      metrics.addMetric('WebhooksReceived', MetricUnit.Count, 1);
      metrics.addMetric('WebhooksReceived', MetricUnit.Count, 3);
      metrics.addMetric('HandlerLatency', MetricUnit.Milliseconds, 120);
      metrics.publishStoredMetrics();
    });
    expect(lines).toHaveLength(1);
    const store = new MetricStore();
    expect(store.ingestLogLine(lines[0] ?? '')).toBe(true);

    const webhooks = {
      namespace: 'revbridge',
      metricName: 'WebhooksReceived',
      dimensions: { service: 'billing', vendor: 'stripe' },
    };
    expect(
      store.statistics(webhooks, ['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'], at(0) - 1, at(1)),
    ).toEqual({
      Sum: 4,
      SampleCount: 2,
      Average: 2,
      Minimum: 1,
      Maximum: 3,
    });
    // CloudWatch keys metrics by their exact dimension set: a subset is another metric.
    expect(
      store.values({ ...webhooks, dimensions: { service: 'billing' } }, 0, Number.MAX_SAFE_INTEGER),
    ).toEqual([]);
    expect(store.snapshot()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          metricName: 'HandlerLatency',
          unit: 'Milliseconds',
          sum: 120,
          sampleCount: 1,
        }),
      ]),
    );
  });

  it('ignores lines that are not EMF', () => {
    const store = new MetricStore();
    expect(store.ingestLogLine('START RequestId: 1 Version: $LATEST')).toBe(false);
    expect(store.ingestLogLine('{"level":"INFO","message":"invoice posted"}')).toBe(false);
    expect(store.ingestLogLine('{"_aws":{"Timestamp":"yesterday"}}')).toBe(false);
    expect(store.listMetrics()).toEqual([]);
  });

  it('puts a late sample in its own period and caps the samples it keeps', () => {
    const store = new MetricStore({ maxSamplesPerMetric: 4 });
    const visible = {
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: 'q' },
    };
    const put = (period: number, value: number) =>
      store.put(visible.namespace, visible.metricName, visible.dimensions, value, 'Count', at(period));
    put(0, 1);
    put(2, 3);
    put(1, 2);
    put(3, 4);
    expect(store.statistic(visible, 'Sum', at(1, 0), at(2, 0))).toBe(2);
    put(4, 5);
    // Over the cap the oldest samples go; the all-time totals stay.
    expect(store.values(visible, 0, Number.MAX_SAFE_INTEGER)).toEqual([4, 5]);
    expect(store.snapshot()[0]).toMatchObject({ sampleCount: 5, sum: 15, latest: { value: 5 } });
  });

  it('computes percentiles over the window', () => {
    const store = new MetricStore();
    const latency = {
      namespace: 'AWS/Lambda',
      metricName: 'Duration',
      dimensions: { FunctionName: 'post-invoice' },
    };
    for (let value = 1; value <= 100; value += 1) {
      store.put(
        latency.namespace,
        latency.metricName,
        latency.dimensions,
        value,
        'Milliseconds',
        at(0, value),
      );
    }
    expect(store.statistics(latency, ['p50', 'p99', 'p100', 'Maximum'], at(0, 0), at(1))).toEqual({
      p50: 50,
      p99: 99,
      p100: 100,
      Maximum: 100,
    });
    expect(store.statistic(latency, 'p99', at(1), at(2))).toBeUndefined();
  });
});

describe('AlarmEvaluator', () => {
  it.each([
    ['GreaterThanOrEqualToThreshold', 5, 'ALARM'],
    ['GreaterThanOrEqualToThreshold', 4, 'OK'],
    ['GreaterThanThreshold', 5, 'OK'],
    ['GreaterThanThreshold', 6, 'ALARM'],
    ['LessThanThreshold', 5, 'OK'],
    ['LessThanThreshold', 4, 'ALARM'],
    ['LessThanOrEqualToThreshold', 5, 'ALARM'],
    ['LessThanOrEqualToThreshold', 6, 'OK'],
  ])('%s with threshold 5 and a datapoint of %d is %s', (operator, value, expected) => {
    const { status } = evaluateSeries([value], { ComparisonOperator: operator, Threshold: 5 });
    expect(status?.state).toBe(expected);
  });

  it('writes a CloudWatch-like reason and keeps the state change history', () => {
    const store = new MetricStore();
    const evaluator = new AlarmEvaluator(store);
    const initial = evaluator.addAlarm('FailedInvoicesAlarm', billingAlarm());
    expect(initial).toMatchObject({
      state: 'INSUFFICIENT_DATA',
      reason: 'Unchecked: Initial alarm creation',
    });

    emitMetric(store, 'InvoicesFailed', [2], at(0));
    const [alarm] = evaluator.evaluate(endOf(1));
    expect(alarm?.state).toBe('ALARM');
    expect(alarm?.reason).toMatch(
      /^Threshold Crossed: 1 out of the last 1 datapoints \[2\.0 \(.+\)\] was greater than or equal to the threshold \(1\.0\) \(minimum 1 datapoint for OK -> ALARM transition\)\.$/,
    );
    emitMetric(store, 'InvoicesFailed', [0], at(1));
    const [recovered] = evaluator.evaluate(endOf(2));
    expect(recovered?.state).toBe('OK');
    expect(recovered?.history.map((change) => `${change.oldState}->${change.newState}`)).toEqual([
      'INSUFFICIENT_DATA->ALARM',
      'ALARM->OK',
    ]);
  });

  it('alarms on M of N: 2 breaching datapoints out of 3', () => {
    expect(evaluateSeries([3, 0, 3], { EvaluationPeriods: 3, DatapointsToAlarm: 2 }).status?.state).toBe(
      'ALARM',
    );
    expect(evaluateSeries([3, 0, 0], { EvaluationPeriods: 3, DatapointsToAlarm: 2 }).status?.state).toBe(
      'OK',
    );
    // Without DatapointsToAlarm every one of the N datapoints must breach.
    expect(evaluateSeries([3, 0, 3], { EvaluationPeriods: 3 }).status?.state).toBe('OK');
    expect(evaluateSeries([3, 3, 3], { EvaluationPeriods: 3 }).status?.state).toBe('ALARM');
  });

  it.each([
    ['missing', 'INSUFFICIENT_DATA'],
    ['notBreaching', 'OK'],
    ['breaching', 'ALARM'],
  ])('with no data at all and TreatMissingData %s the alarm is %s', (mode, expected) => {
    const { status } = evaluateSeries([null, null, null], { EvaluationPeriods: 3, TreatMissingData: mode });
    expect(status?.state).toBe(expected);
  });

  it('with TreatMissingData ignore keeps its state when the data stops', () => {
    const store = new MetricStore();
    const evaluator = new AlarmEvaluator(store);
    evaluator.addAlarm('FailedInvoicesAlarm', billingAlarm({ TreatMissingData: 'ignore' }));
    emitMetric(store, 'InvoicesFailed', [5], at(0));
    expect(evaluator.evaluate(endOf(1))[0]?.state).toBe('ALARM');
    // Ten periods later nothing is left in the evaluation range.
    expect(evaluator.evaluate(endOf(11))[0]?.state).toBe('ALARM');
    expect(evaluator.evaluate(endOf(11))[0]?.datapoints).toEqual([
      { timestamp: expect.any(String), value: null },
    ]);
  });

  it.each([
    ['missing', 'ALARM'],
    ['breaching', 'ALARM'],
    ['notBreaching', 'OK'],
  ])('with one breaching datapoint among missing ones (3 of 3) and %s the alarm is %s', (mode, expected) => {
    const { status } = evaluateSeries([null, 5, null], { EvaluationPeriods: 3, TreatMissingData: mode });
    expect(status?.state).toBe(expected);
  });

  it('uses older real datapoints instead of filling when the evaluation range has enough of them', () => {
    // N = 1: the newest period is empty, the one before is real and not breaching, so breaching
    // fill is not used.
    const { status } = evaluateSeries([0, null], { TreatMissingData: 'breaching' });
    expect(status?.state).toBe('OK');
  });

  it('scales periods so a 60 s alarm reacts within seconds', () => {
    const cloudwatch = new LocalCloudWatch({ periodScale: 1 / 60 });
    const queue = { QueueName: 'invoices-dlq' };
    cloudwatch.alarms.addAlarm('DlqNotEmpty', {
      AlarmName: 'invoices-dlq-not-empty',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: 'invoices-dlq' }],
      Statistic: 'Maximum',
      Period: '60',
      EvaluationPeriods: '1',
      Threshold: '1',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const start = Math.floor(Date.now() / 1000) * 1000;
    cloudwatch.metrics.put('AWS/SQS', 'ApproximateNumberOfMessagesVisible', queue, 2, 'Count', start + 100);
    // The period before holds no data, and missing data counts as not breaching.
    expect(cloudwatch.alarms.evaluate(start + 900)[0]?.state).toBe('OK');
    expect(cloudwatch.alarms.evaluate(start + 1_000)[0]?.state).toBe('ALARM');
    // SQS keeps publishing the gauge; once it reads 0 the alarm recovers.
    cloudwatch.metrics.put('AWS/SQS', 'ApproximateNumberOfMessagesVisible', queue, 0, 'Count', start + 1_100);
    expect(cloudwatch.alarms.evaluate(start + 2_000)[0]?.state).toBe('OK');

    const snapshot = JSON.parse(JSON.stringify(cloudwatch.snapshot()));
    expect(snapshot.alarms[0]).toMatchObject({
      alarmName: 'invoices-dlq-not-empty',
      state: 'OK',
      evaluated: true,
    });
    expect(snapshot.metrics[0]).toMatchObject({
      metricName: 'ApproximateNumberOfMessagesVisible',
      maximum: 2,
    });
  });

  it('alarms on a percentile (ExtendedStatistic)', () => {
    const store = new MetricStore();
    for (let value = 1; value <= 100; value += 1) {
      store.put(
        'AWS/Lambda',
        'Duration',
        { FunctionName: 'post-invoice' },
        value * 10,
        'Milliseconds',
        at(0, value),
      );
    }
    const evaluator = new AlarmEvaluator(store);
    const base = {
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: [{ Name: 'FunctionName', Value: 'post-invoice' }],
      ExtendedStatistic: 'p99',
      Period: 60,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanThreshold',
    };
    evaluator.addAlarm('SlowP99', { ...base, Threshold: 980 });
    evaluator.addAlarm('FastP99', { ...base, Threshold: 990 });
    expect(evaluator.evaluate(endOf(1)).map((alarm) => alarm.state)).toEqual(['ALARM', 'OK']);
  });

  it('evaluates metric math with a single MetricStat and with an error-rate expression', () => {
    const store = new MetricStore();
    const dimensions = { FunctionName: 'post-invoice' };
    for (let i = 0; i < 10; i += 1) store.put('AWS/Lambda', 'Invocations', dimensions, 1, 'Count', at(0, i));
    for (let i = 0; i < 3; i += 1) store.put('AWS/Lambda', 'Errors', dimensions, 1, 'Count', at(0, i));
    const stat = (metricName: string) => ({
      Metric: {
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: [{ Name: 'FunctionName', Value: 'post-invoice' }],
      },
      Period: 60,
      Stat: 'Sum',
    });
    const evaluator = new AlarmEvaluator(store);
    evaluator.addAlarm('Errors', {
      Metrics: [{ Id: 'm1', MetricStat: stat('Errors'), ReturnData: true }],
      EvaluationPeriods: 1,
      Threshold: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    evaluator.addAlarm('ErrorRate', {
      Metrics: [
        { Id: 'errors', MetricStat: stat('Errors'), ReturnData: false },
        { Id: 'invocations', MetricStat: stat('Invocations'), ReturnData: false },
        { Id: 'rate', Expression: '100 * FILL(errors, 0) / invocations', ReturnData: true },
      ],
      EvaluationPeriods: 1,
      Threshold: 25,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const [errors, rate] = evaluator.evaluate(endOf(1));
    expect(errors?.state).toBe('ALARM');
    expect(rate?.state).toBe('ALARM');
    expect(rate?.datapoints.at(-1)?.value).toBe(30);
  });

  it('reports alarms it cannot evaluate, with the reason, instead of guessing', () => {
    const evaluator = new AlarmEvaluator(new MetricStore());
    const anomaly = evaluator.addAlarm('Anomaly', {
      Metrics: [
        {
          Id: 'm1',
          MetricStat: { Metric: { Namespace: 'revbridge', MetricName: 'X' }, Period: 60, Stat: 'Sum' },
          ReturnData: false,
        },
        { Id: 'band', Expression: 'ANOMALY_DETECTION_BAND(m1, 2)', ReturnData: true },
      ],
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(anomaly).toMatchObject({ evaluated: false, state: 'INSUFFICIENT_DATA' });
    expect(anomaly.reason).toContain('ANOMALY_DETECTION_BAND is not supported');

    const unresolved = evaluator.addAlarm(
      'Unresolved',
      billingAlarm({ Dimensions: [{ Name: 'QueueName', Value: { Ref: 'Dlq' } }] }),
    );
    expect(unresolved.evaluated).toBe(false);
    expect(unresolved.reason).toContain('Dimensions.0.Value');
    expect(evaluator.evaluate(endOf(1)).map((alarm) => alarm.state)).toEqual([
      'INSUFFICIENT_DATA',
      'INSUFFICIENT_DATA',
    ]);
  });

  it('parses only the metric math it can evaluate', () => {
    expect(parseExpression('(m1 + m2) / 2')).toMatchObject({ kind: 'binary', operator: '/' });
    expect(() => parseExpression('METRICS()')).toThrow(/METRICS is not supported/);
    expect(() => parseExpression('m1 +')).toThrow();
  });
});
