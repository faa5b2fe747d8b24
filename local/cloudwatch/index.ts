import { AlarmEvaluator, type AlarmEvaluatorOptions, type AlarmStatus } from './alarm-evaluator';
import { type MetricSnapshot, MetricStore, type MetricStoreOptions } from './metric-store';

export {
  AlarmEvaluator,
  type AlarmEvaluatorOptions,
  type AlarmState,
  type AlarmStateChange,
  type AlarmStatus,
  type TreatMissingData,
} from './alarm-evaluator';
export { evaluateExpression, MetricMathError, parseExpression } from './metric-math';
export {
  computeStatistic,
  type Dimensions,
  type MetricIdentity,
  type MetricSnapshot,
  MetricStore,
  type Statistic,
} from './metric-store';

export interface CloudWatchSnapshot {
  readonly metrics: MetricSnapshot[];
  readonly alarms: AlarmStatus[];
}

/** The metric store and the alarm evaluator together, as the local runtime wires them. */
export class LocalCloudWatch {
  readonly metrics: MetricStore;
  readonly alarms: AlarmEvaluator;

  constructor(options: MetricStoreOptions & AlarmEvaluatorOptions = {}) {
    this.metrics = new MetricStore(options);
    this.alarms = new AlarmEvaluator(this.metrics, options);
  }

  snapshot(): CloudWatchSnapshot {
    return { metrics: this.metrics.snapshot(), alarms: this.alarms.snapshot() };
  }
}
